/** Seed 002: GET and PATCH /api/v1/organization/billing for the caller's active organization, admin-only. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { auditEvents, createOrganization, http, mintJwt, startTestApp, type OrganizationFixture, type TestApp } from '../support/test-app.js';

let app: TestApp;
before(async () => {
  app = await startTestApp();
});
after(async () => {
  await app.close();
});

const path = '/api/v1/organization/billing';

const documentedExample = {
  companyName: 'Example Corp',
  billingContactName: 'Jane Smith',
  billingEmail: 'jane@example.com',
  billingAddressLine1: '123 Main Street',
  billingAddressLine2: 'Suite 400',
  billingCity: 'San Francisco',
  billingPostalCode: '94105',
  billingState: 'California',
  billingCountry: 'United States',
  vatNumber: 'US123456789',
};
const empty = Object.fromEntries(Object.keys(documentedExample).map((key) => [key, null]));

async function read(org: OrganizationFixture) {
  const result = await http(app, 'GET', path, { headers: org.owner });
  assert.equal(result.status, 200, result.text);
  return result.body;
}

/** Runs requests that must fail and checks that neither the billing details nor the audit trail moved. */
async function expectNothingWritten(org: OrganizationFixture, attempt: () => Promise<void>): Promise<void> {
  const before = await read(org);
  const eventsBefore = (await auditEvents(app, org.id)).length;
  await attempt();
  assert.deepEqual(await read(org), before);
  assert.equal((await auditEvents(app, org.id)).length, eventsBefore);
}

async function patch(org: OrganizationFixture, body: unknown, headers: Record<string, string> = org.owner) {
  return http(app, 'PATCH', path, { headers, body });
}

function detailFields(body: { details?: Array<{ field: string; message: string }> }): string[] {
  return [...new Set((body.details ?? []).map((d) => d.field))].sort();
}

async function setMember(organizationId: string, userId: string, role: string): Promise<void> {
  const result = await http(app, 'PUT', `/admin/organizations/${organizationId}/members/${userId}`, { headers: app.admin, body: { role } });
  assert.equal(result.status, 200, result.text);
}

describe('the active organization', () => {
  test('comes from the org_id claim', async () => {
    const org = await createOrganization(app);
    const other = await createOrganization(app);
    await patch(other, { companyName: 'Other Corp' });
    const result = await http(app, 'GET', path, { headers: org.owner });
    assert.equal(result.status, 200);
    assert.deepEqual(result.body, { ...empty, taxIdStatus: 'none' });
    assert.match(result.headers.get('etag') ?? '', /^"\d+"$/);
    const written = await patch(org, { companyName: 'Mine Corp' });
    assert.equal(written.status, 200);
    assert.equal((await read(other)).companyName, 'Other Corp');
  });

  test('is the only organization of a user whose token has no org_id claim', async () => {
    const org = await createOrganization(app);
    const userId = `solo-${randomUUID()}`;
    await setMember(org.id, userId, 'admin');
    const headers = { authorization: `Bearer ${await mintJwt(userId)}` };
    const written = await patch(org, { companyName: 'Solo Corp' }, headers);
    assert.equal(written.status, 200, written.text);
    assert.equal((await read(org)).companyName, 'Solo Corp');

    // A second membership makes it ambiguous: the token must then name the organization.
    const second = await createOrganization(app);
    await setMember(second.id, userId, 'admin');
    const ambiguous = await http(app, 'GET', path, { headers });
    assert.equal(ambiguous.status, 400);
    assert.equal(ambiguous.body.code, 'BAD_REQUEST');
    assert.match(ambiguous.body.message, /org_id/);
    const named = await http(app, 'GET', path, { headers: { authorization: `Bearer ${await mintJwt(userId, { org_id: second.id })}` } });
    assert.equal(named.status, 200);
    assert.equal(named.body.companyName, null);
  });

  test('a claim naming an organization the user is not a member of gets 404', async () => {
    const org = await createOrganization(app);
    const other = await createOrganization(app);
    const headers = { authorization: `Bearer ${await mintJwt(`owner-${org.id}`, { org_id: other.id })}` };
    await expectNothingWritten(other, async () => {
      const get = await http(app, 'GET', path, { headers });
      assert.equal(get.status, 404);
      assert.equal(get.body.code, 'NOT_FOUND');
      assert.equal((await patch(other, { companyName: 'Hijack' }, headers)).status, 404);
    });
  });

  test('a claim that is not an organization id gets 404, not a server error', async () => {
    const org = await createOrganization(app);
    const headers = { authorization: `Bearer ${await mintJwt(`owner-${org.id}`, { org_id: 'org_2abcDEF' })}` };
    const get = await http(app, 'GET', path, { headers });
    assert.equal(get.status, 404, get.text);
    assert.equal(get.body.code, 'NOT_FOUND');
    assert.equal((await patch(org, { billingCity: 'x' }, headers)).status, 404);
  });

  test('an organization API token acts on its organization', async () => {
    const org = await createOrganization(app);
    const created = await http(app, 'POST', `/admin/organizations/${org.id}/api-tokens`, { headers: app.admin, body: { name: 'ci', role: 'admin' } });
    const headers = { authorization: `Token ${created.body.token}` };
    const written = await patch(org, { billingCity: 'Token City' }, headers);
    assert.equal(written.status, 200, written.text);
    assert.equal((await read(org)).billingCity, 'Token City');
  });
});

describe('admin-only', () => {
  test('owner and admin may read and write', async () => {
    const org = await createOrganization(app);
    for (const role of ['owner', 'admin'] as const) {
      const written = await patch(org, { billingCity: `City of ${role}` }, org[role]);
      assert.equal(written.status, 200, role);
      assert.equal((await http(app, 'GET', path, { headers: org[role] })).body.billingCity, `City of ${role}`);
    }
  });

  test('a billing manager and a plain member get 403 FORBIDDEN', async () => {
    const org = await createOrganization(app);
    await expectNothingWritten(org, async () => {
      for (const role of ['billing', 'member'] as const) {
        const get = await http(app, 'GET', path, { headers: org[role] });
        assert.equal(get.status, 403, role);
        assert.equal(get.body.code, 'FORBIDDEN');
        assert.equal(typeof get.body.message, 'string');
        const written = await patch(org, { billingCity: 'Nope' }, org[role]);
        assert.equal(written.status, 403, role);
        assert.equal(written.body.code, 'FORBIDDEN');
      }
    });
  });

  test('no token, a malformed one or a wrongly signed one get 401 UNAUTHORIZED', async () => {
    const org = await createOrganization(app);
    const forged = await mintJwt(`owner-${org.id}`, { org_id: org.id }, { secret: 'another-secret-of-at-least-32-chars!!' });
    await expectNothingWritten(org, async () => {
      const attempts: Array<Record<string, string>> = [{}, { authorization: 'Bearer not.a.jwt' }, { authorization: `Bearer ${forged}` }];
      for (const headers of attempts) {
        const get = await http(app, 'GET', path, { headers });
        assert.equal(get.status, 401);
        assert.equal(get.body.code, 'UNAUTHORIZED');
        const written = await patch(org, { billingCity: 'Nope' }, headers);
        assert.equal(written.status, 401);
        assert.equal(written.body.code, 'UNAUTHORIZED');
      }
    });
  });
});

describe('update', () => {
  test('the documented example is stored and read back unchanged', async () => {
    const org = await createOrganization(app);
    const written = await patch(org, documentedExample);
    assert.equal(written.status, 200, written.text);
    // Issue 12 adds whether the VAT number is well-formed; a US number without a type has no check.
    assert.deepEqual(written.body, { ...documentedExample, taxIdStatus: 'unchecked' });
    assert.deepEqual(await read(org), { ...documentedExample, taxIdStatus: 'unchecked' });
  });

  test('only the fields sent change; null clears one', async () => {
    const org = await createOrganization(app);
    await patch(org, documentedExample);
    const written = await patch(org, { billingCity: 'Oakland', billingAddressLine2: null });
    assert.equal(written.status, 200);
    assert.deepEqual(written.body, { ...documentedExample, billingCity: 'Oakland', billingAddressLine2: null, taxIdStatus: 'unchecked' });
  });

  test('country names map to ISO codes and read back as names', async () => {
    const org = await createOrganization(app);
    for (const [name, code] of [
      ['United States', 'US'],
      ['Germany', 'DE'],
      ['United Kingdom', 'GB'],
      ['Deutschland', 'DE'],
      ['Allemagne', 'DE'],
      ['Alemania', 'DE'],
      ['Germania', 'DE'],
      ['Duitsland', 'DE'],
      ['Niemcy', 'DE'],
      ['Tyskland', 'DE'],
      ['Saksa', 'DE'],
      ['Royaume-Uni', 'GB'],
      ['España', 'ES'],
      ['Schweiz', 'CH'],
      ['france', 'FR'],
    ]) {
      const written = await patch(org, { billingCountry: name });
      assert.equal(written.status, 200, name);
      const info = await http(app, 'GET', `/organization/${org.id}/billingInfo`, { headers: org.owner });
      assert.equal(info.body.country_code, code, name);
      const external = await http(app, 'GET', `/api/v2/external/orgs/${org.slug}`, { headers: org.owner });
      assert.equal(external.body.billing_details.billing_country, code, name);
    }
    assert.equal((await read(org)).billingCountry, 'France');
    await patch(org, { billingCountry: 'Germany' });
    assert.equal((await read(org)).billingCountry, 'Germany');
  });

  test('the contact name splits into first and last name and joins back', async () => {
    const org = await createOrganization(app);
    const cases: Array<[string, string, string | null]> = [
      ['Jane Smith', 'Jane', 'Smith'],
      ['Mary Ann van Dyke', 'Mary', 'Ann van Dyke'],
      ['Cher', 'Cher', null],
      ['Zoë  Ångström', 'Zoë', ' Ångström'],
    ];
    for (const [name, first, last] of cases) {
      const written = await patch(org, { billingContactName: name });
      assert.equal(written.status, 200, name);
      assert.equal(written.body.billingContactName, name);
      const info = await http(app, 'GET', `/organization/${org.id}/billingInfo`, { headers: org.owner });
      assert.equal(info.body.first_name, first, name);
      assert.equal(info.body.last_name, last, name);
      assert.equal((await read(org)).billingContactName, name);
    }
    const cleared = await patch(org, { billingContactName: null });
    assert.equal(cleared.body.billingContactName, null);
    const info = await http(app, 'GET', `/organization/${org.id}/billingInfo`, { headers: org.owner });
    assert.equal(info.body.first_name, null);
    assert.equal(info.body.last_name, null);
  });

  test('the change is audited as BILLING_DETAILS_UPDATE with old and new values, actor, surface and request id', async () => {
    const org = await createOrganization(app);
    await patch(org, { billingCity: 'San Francisco', billingCountry: 'United States' });
    const requestId = `req-${randomUUID()}`;
    const written = await patch(org, { billingCity: 'Oakland', billingCountry: 'Germany', billingContactName: 'Jane Smith' }, { ...org.admin, 'x-request-id': requestId });
    assert.equal(written.status, 200);
    const [event] = await auditEvents(app, org.id);
    assert.equal(event.type, 'BILLING_DETAILS_UPDATE');
    assert.equal(event.actor_type, 'user');
    assert.equal(event.actor_id, `admin-${org.id}`);
    assert.equal(event.surface, 'organization-billing-details');
    assert.equal(event.request_id, requestId);
    assert.deepEqual(event.changes, {
      city: { old: 'San Francisco', new: 'Oakland' },
      country: { old: 'US', new: 'DE' },
      contactFirstName: { old: null, new: 'Jane' },
      contactLastName: { old: null, new: 'Smith' },
    });
    const typed = await http(app, 'GET', `/admin/organizations/${org.id}/audit-events?type=BILLING_DETAILS_UPDATE`, { headers: app.admin });
    assert.equal(typed.body.results.length, 2);
  });

  test('a stale If-Match gets 412 and changes nothing', async () => {
    const org = await createOrganization(app);
    const etag = (await http(app, 'GET', path, { headers: org.owner })).headers.get('etag')!;
    const first = await patch(org, { billingCity: 'A' }, { ...org.owner, 'if-match': etag });
    assert.equal(first.status, 200);
    await expectNothingWritten(org, async () => {
      const stale = await patch(org, { billingCity: 'B' }, { ...org.owner, 'if-match': etag });
      assert.equal(stale.status, 412);
      assert.equal(stale.body.code, 'PRECONDITION_FAILED');
    });
  });
});

describe('bad input', () => {
  test('wrong types, unknown fields and malformed JSON get 400 BAD_REQUEST', async () => {
    const org = await createOrganization(app);
    await expectNothingWritten(org, async () => {
      const wrongType = await patch(org, { billingCity: 12, vatNumber: false });
      assert.equal(wrongType.status, 400);
      assert.equal(wrongType.body.code, 'BAD_REQUEST');
      assert.deepEqual(detailFields(wrongType.body), ['billingCity', 'vatNumber']);
      const unknown = await patch(org, { billingPhone: '555' });
      assert.equal(unknown.status, 400);
      assert.deepEqual(detailFields(unknown.body), ['billingPhone']);
      const malformed = await patch(org, '{"billingCity":');
      assert.equal(malformed.status, 400);
      assert.equal(malformed.body.code, 'BAD_REQUEST');
      const notAnObject = await patch(org, '[1, 2]');
      assert.equal(notAnObject.status, 400);
    });
  });

  test('an invalid e-mail gets 422 UNPROCESSABLE_ENTITY naming billingEmail', async () => {
    const org = await createOrganization(app);
    await expectNothingWritten(org, async () => {
      for (const billingEmail of ['not-an-email', 'a@b', 'a b@example.com']) {
        const result = await patch(org, { billingEmail });
        assert.equal(result.status, 422, billingEmail);
        assert.equal(result.body.code, 'UNPROCESSABLE_ENTITY');
        assert.deepEqual(detailFields(result.body), ['billingEmail']);
      }
    });
  });

  const limits: Record<string, number> = {
    companyName: 255,
    billingContactName: 255,
    billingAddressLine1: 255,
    billingAddressLine2: 255,
    billingCity: 100,
    billingPostalCode: 20,
    billingState: 100,
    vatNumber: 50,
  };
  for (const [field, limit] of Object.entries(limits)) {
    test(`${field}: ${limit} characters accepted, ${limit + 1} refused with 422`, async () => {
      const org = await createOrganization(app);
      await expectNothingWritten(org, async () => {
        const result = await patch(org, { [field]: 'z'.repeat(limit + 1) });
        assert.equal(result.status, 422, result.text);
        assert.equal(result.body.code, 'UNPROCESSABLE_ENTITY');
        assert.deepEqual(detailFields(result.body), [field]);
      });
      const ok = await patch(org, { [field]: 'z'.repeat(limit) });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.body[field], 'z'.repeat(limit));
    });
  }

  test('billingCountry over 100 characters or unknown gets 422 naming it', async () => {
    const org = await createOrganization(app);
    await expectNothingWritten(org, async () => {
      for (const billingCountry of ['c'.repeat(101), 'Atlantis', 'Congo', 'ZZ']) {
        const result = await patch(org, { billingCountry });
        assert.equal(result.status, 422, billingCountry);
        assert.equal(result.body.code, 'UNPROCESSABLE_ENTITY');
        assert.deepEqual(detailFields(result.body), ['billingCountry'], billingCountry);
      }
    });
  });

  test('several invalid values are all named', async () => {
    const org = await createOrganization(app);
    const result = await patch(org, { billingCity: 'c'.repeat(101), billingEmail: 'nope', billingCountry: 'Atlantis' });
    assert.equal(result.status, 422);
    // The schema refuses city and e-mail first; the country is checked by the core once the shape is valid.
    assert.ok(detailFields(result.body).includes('billingCity'));
    assert.ok(detailFields(result.body).includes('billingEmail'));
  });

  test('a body over 64 KiB gets 413', async () => {
    const org = await createOrganization(app);
    await expectNothingWritten(org, async () => {
      const result = await patch(org, { companyName: 'x'.repeat(70_000) });
      assert.equal(result.status, 413);
      assert.equal(result.body.code, 'PAYLOAD_TOO_LARGE');
    });
  });
});
