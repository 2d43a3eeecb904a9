/**
 * A NUL character or an unpaired UTF-16 surrogate in any string a request carries (body, path, query, JWT claims)
 * is refused at the edge with the surface's own 400/422 naming the field; PostgreSQL never sees it. So is a date-time
 * outside the years 0001–9999.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { auditEvents, createOrganization, http, mintJwt, startTestApp, type OrganizationFixture, type TestApp } from '../support/test-app.js';

let app: TestApp;
let org: OrganizationFixture;
before(async () => {
  app = await startTestApp();
  org = await createOrganization(app);
});
after(async () => {
  await app.close();
});

const NUL = 'a\u0000b';
const LONE_HIGH = 'x\ud83dy';
const LONE_LOW = '\ude00';

describe('the default error style (organization billing and operator APIs)', () => {
  for (const [label, value] of [
    ['a NUL', NUL],
    ['a lone high surrogate', LONE_HIGH],
    ['a lone low surrogate', LONE_LOW],
  ] as const) {
    test(`${label} in an organization name is a 400 naming the field`, async () => {
      const result = await http(app, 'POST', '/admin/organizations', { headers: app.admin, body: { name: value } });
      assert.equal(result.status, 400, result.text);
      assert.equal(result.body.error, 'validation_error');
      assert.deepEqual(
        result.body.fields.map((f: { field: string }) => f.field),
        ['name'],
      );
      assert.match(result.body.fields[0].message, /NUL|surrogate/);
    });
  }

  test('a lone surrogate in first_name (billingInfo) is a 400 and nothing is written', async () => {
    const eventsBefore = (await auditEvents(app, org.id)).length;
    const result = await http(app, 'PUT', `/organization/${org.id}/billingInfo`, {
      headers: org.owner,
      body: {
        first_name: '\ud83d Forrest',
        last_name: 'Gump',
        email: 'forrest@example.com',
        address: '21 Jenny Street',
        city: 'Greenbow',
        zip: '36744',
        country_code: 'US',
      },
    });
    assert.equal(result.status, 400, result.text);
    assert.deepEqual(result.body.fields, [{ field: 'first_name', message: result.body.fields[0].message }]);
    assert.equal((await auditEvents(app, org.id)).length, eventsBefore);
  });

  test('a well-formed surrogate pair (an emoji) is accepted', async () => {
    const result = await http(app, 'POST', '/admin/organizations', { headers: app.admin, body: { name: 'Rocket \ud83d\ude80 Ltd' } });
    assert.equal(result.status, 201, result.text);
    assert.equal(result.body.name, 'Rocket 🚀 Ltd');
  });

  test('a NUL in a member id in the path is a 400 naming the parameter', async () => {
    const result = await http(app, 'PUT', `/admin/organizations/${org.id}/members/%00`, { headers: app.admin, body: { role: 'member' } });
    assert.equal(result.status, 400, result.text);
    assert.deepEqual(
      result.body.fields.map((f: { field: string }) => f.field),
      ['userId'],
    );
  });

  test('a NUL in a query parameter is a 400 naming the parameter', async () => {
    const result = await http(app, 'GET', `/admin/organizations/${org.id}/audit-events?type=a%00b`, { headers: app.admin });
    assert.equal(result.status, 400, result.text);
    assert.deepEqual(
      result.body.fields.map((f: { field: string }) => f.field),
      ['type'],
    );
  });

  test('a nested field is named by its path', async () => {
    const result = await http(app, 'POST', '/admin/usage-events', {
      headers: app.admin,
      body: {
        events: [
          {
            id: 'event\u0000',
            organization_id: org.id,
            cluster_id: '00000000-0000-4000-8000-000000000000',
            metric: 'node_hours',
            quantity: 1,
            occurred_at: '2024-01-01T00:00:00Z',
          },
        ],
      },
    });
    assert.equal(result.status, 400, result.text);
    assert.equal(result.body.fields.length, 1, result.text);
    assert.match(result.body.fields[0].field, /^events\W+0\W+id$/);
  });

  test('a NUL in an object key is refused as well', async () => {
    const result = await http(app, 'POST', '/admin/organizations', { headers: app.admin, body: { name: 'Fine', ['sl\u0000ug']: 'x' } });
    assert.equal(result.status, 400, result.text);
    assert.equal(result.body.error, 'validation_error');
  });
});

describe('seed 001: /api/v2/external/orgs', () => {
  test('a NUL slug in the path is a 422 in this API’s style', async () => {
    const result = await http(app, 'GET', '/api/v2/external/orgs/%00', { headers: org.owner });
    assert.equal(result.status, 422, result.text);
    assert.deepEqual(
      result.body.detail.map((item: { loc: string[] }) => item.loc),
      [['params', 'slug']],
    );
  });

  test('the bytes of a lone surrogate in the path are not UTF-8: a 400 in the default style', async () => {
    const result = await http(app, 'GET', '/api/v2/external/orgs/%ED%A0%BD', { headers: org.owner });
    assert.equal(result.status, 400, result.text);
    assert.equal(result.body.error, 'bad_request');
  });

  test('a NUL in a billing field is a 422 naming it', async () => {
    const result = await http(app, 'PATCH', `/api/v2/external/orgs/${org.slug}`, { headers: org.owner, body: { billing_city: NUL } });
    assert.equal(result.status, 422, result.text);
    assert.deepEqual(
      result.body.detail.map((item: { loc: string[] }) => item.loc),
      [['body', 'billing_city']],
    );
  });
});

describe('seed 002: /api/v1/organization/billing', () => {
  test('a lone surrogate in vatNumber is a 422 naming it', async () => {
    const result = await http(app, 'PATCH', '/api/v1/organization/billing', { headers: org.admin, body: { vatNumber: 'DE\ud83d123' } });
    assert.equal(result.status, 422, result.text);
    assert.equal(result.body.code, 'UNPROCESSABLE_ENTITY');
    assert.deepEqual(
      result.body.details.map((d: { field: string }) => d.field),
      ['vatNumber'],
    );
  });
});

describe('seed 003: billing addresses', () => {
  test('a NUL in a field is refused in the envelope naming the parameter', async () => {
    const result = await http(app, 'POST', `/organizations/${org.id}/billing-addresses`, {
      headers: org.owner,
      body: { name: 'HQ', company: NUL, address_line_1: 'Main St 1', city: 'Berlin', state: 'BE', postal_code: '10115', country: 'DE' },
    });
    assert.equal(result.status, 400, result.text);
    assert.equal(result.body.data, null);
    assert.deepEqual(
      result.body.errors.map((e: { meta: { param_name: string } }) => e.meta.param_name),
      ['company'],
    );
  });
});

describe('JWT claims', () => {
  test('a user id (sub), org_id or sid with a NUL or a lone surrogate is not a valid token', async () => {
    const owner = `owner-${org.id}`;
    for (const [subject, claims] of [
      [`${owner}\u0000`, { org_id: org.id }],
      [`${owner}\ud800`, { org_id: org.id }],
      [owner, { org_id: `${org.id}\u0000` }],
      [owner, { org_id: org.id, sid: 'session\udfff' }],
    ] as const) {
      const token = await mintJwt(subject, claims);
      const result = await http(app, 'GET', `/organization/${org.id}/billingInfo`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(result.status, 401, result.text);
      assert.equal(typeof result.body.error, 'string');
    }
  });
});

describe('date-times PostgreSQL cannot store', () => {
  test('year 0 and years past 9999 are a format error naming the field; years 0001 and 9999 are accepted', async () => {
    for (const now of ['0000-01-01T00:00:00Z', '0001-01-01T00:00:00+01:00', '9999-12-31T23:59:59-01:00']) {
      const result = await http(app, 'POST', '/admin/clock', { headers: app.admin, body: { now } });
      assert.equal(result.status, 400, `${now}: ${result.text}`);
      assert.deepEqual(
        result.body.fields.map((f: { field: string }) => f.field),
        ['now'],
      );
    }
    for (const now of ['0001-01-01T00:00:00Z', '9999-12-31T23:59:59Z']) {
      const result = await http(app, 'POST', '/admin/clock', { headers: app.admin, body: { now } });
      assert.equal(result.status, 200, `${now}: ${result.text}`);
    }
  });
});
