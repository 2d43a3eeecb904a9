/**
 * Errors that help: enum errors list the allowed values, nested fields have one path style (`events[0].metric`),
 * fields keep the request's own names, and a 401 says why (in every surface's style, and in the request log).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { generateKeyPair, SignJWT } from 'jose';
import { createOrganization, http, JWT_SECRET, startTestApp, type OrganizationFixture, type TestApp } from '../support/test-app.js';

let app: TestApp;
let org: OrganizationFixture;
before(async () => {
  app = await startTestApp();
  org = await createOrganization(app);
});
after(async () => {
  await app.close();
});

const nowSeconds = () => Math.floor(Date.now() / 1000);

async function hs256(options: { exp: number; secret?: string }): Promise<string> {
  return new SignJWT({ org_id: org.id })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(`owner-${org.id}`)
    .setIssuedAt(nowSeconds() - 7200)
    .setExpirationTime(options.exp)
    .sign(new TextEncoder().encode(options.secret ?? JWT_SECRET));
}

describe('validation errors', () => {
  test('an enum error lists the allowed values', async () => {
    const result = await http(app, 'PUT', '/admin/plans/ENUM_TEST', {
      headers: app.admin,
      body: { name: 'Enum test', monthly_price_in_cents: 0, currency: 'USD', kind: 'prepaid', trial_days: 0 },
    });
    assert.equal(result.status, 400, result.text);
    assert.deepEqual(result.body.fields, [{ field: 'kind', message: 'must be one of "credits", "invoiced"' }]);
  });

  test('nested fields are named `events[0].metric` by the schema and by the core alike', async () => {
    const event = {
      id: 'evt-path-1',
      organization_id: org.id,
      cluster_id: '00000000-0000-4000-8000-000000000000',
      metric: 'node_hours',
      quantity: 1,
      occurred_at: '2026-11-02T00:00:00Z',
    };
    const schema = await http(app, 'POST', '/admin/usage-events', { headers: app.admin, body: { events: [event, { ...event, metric: 'cpu_hours' }] } });
    assert.equal(schema.status, 400, schema.text);
    assert.deepEqual(schema.body.fields, [{ field: 'events[1].metric', message: 'must be "node_hours"' }]);
    const core = await http(app, 'POST', '/admin/usage-events', { headers: app.admin, body: { events: [event] } });
    assert.equal(core.status, 422, core.text);
    assert.deepEqual(core.body.fields.map((f: { field: string }) => f.field), ['events[0].cluster_id']);
  });

  test('a field is named as the request names it (`as_of`, not `asOf`)', async () => {
    const result = await http(app, 'POST', '/admin/billing-runs', { headers: app.admin, body: { as_of: '2999-01-15T00:00:00Z' } });
    assert.equal(result.status, 400, result.text);
    assert.deepEqual(result.body.fields.map((f: { field: string }) => f.field), ['as_of']);
  });
});

describe('401 says why', () => {
  /** Each surface's 401 for the same credentials, reduced to the code it carries. */
  async function codesOf(headers: Record<string, string>, target: TestApp = app): Promise<Record<string, unknown>> {
    const get = (path: string) => http(target, 'GET', path, { headers });
    const [organizationBilling, external, details, addresses, admin] = await Promise.all([
      get(`/organization/${org.id}/billingInfo`),
      get(`/api/v2/external/orgs/${org.slug}`),
      get('/api/v1/organization/billing'),
      get(`/organizations/${org.id}/billing-addresses`),
      get(`/admin/organizations/${org.id}/audit-events`),
    ]);
    for (const result of [organizationBilling, external, details, addresses, admin]) assert.equal(result.status, 401, result.text);
    assert.equal(typeof external.body.detail, 'string');
    assert.equal(details.body.code, 'UNAUTHORIZED');
    return {
      'organization-billing': organizationBilling.body.error,
      'external-orgs': external.body.code,
      'organization-billing-details': details.body.reason,
      'billing-addresses': addresses.body.errors[0].code,
      admin: admin.body.error,
    };
  }

  const everywhere = (code: string) => ({
    'organization-billing': code,
    'external-orgs': code,
    'organization-billing-details': code,
    'billing-addresses': code,
    admin: code,
  });

  test('an expired token: token_expired', async () => {
    assert.deepEqual(await codesOf({ authorization: `Bearer ${await hs256({ exp: nowSeconds() - 60 })}` }), everywhere('token_expired'));
    assert.deepEqual(await codesOf({ cookie: `__session=${await hs256({ exp: nowSeconds() - 60 })}` }), everywhere('token_expired'));
  });

  test('a token signed with another key: invalid_signature', async () => {
    const forged = await hs256({ exp: nowSeconds() + 3600, secret: 'another-secret-of-at-least-32-characters' });
    assert.deepEqual(await codesOf({ authorization: `Bearer ${forged}` }), everywhere('invalid_signature'));
  });

  test('a malformed token, a malformed header or an unknown API token: invalid_token', async () => {
    assert.deepEqual(await codesOf({ authorization: 'Bearer not-a-jwt' }), everywhere('invalid_token'));
    assert.deepEqual(await codesOf({ authorization: 'Basic dXNlcjpwYXNz' }), everywhere('invalid_token'));
    assert.deepEqual(await codesOf({ authorization: 'Token no-such-token' }), everywhere('invalid_token'));
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(`{"sub":"owner-${org.id}"}`).toString('base64url')}.`;
    assert.deepEqual(await codesOf({ authorization: `Bearer ${unsigned}` }), everywhere('invalid_token'));
  });

  test('a kind of user token this server is not configured for: user_tokens_not_configured', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const rs256 = await new SignJWT({}).setProtectedHeader({ alg: 'RS256' }).setSubject(`owner-${org.id}`).setExpirationTime('1h').sign(privateKey);
    assert.deepEqual(await codesOf({ authorization: `Bearer ${rs256}` }), everywhere('user_tokens_not_configured'));

    const withoutUserTokens = await startTestApp({ BURSAR_JWT_SECRET: '' }, { shareDatabaseOf: app });
    try {
      const hs = await hs256({ exp: nowSeconds() + 3600 });
      assert.deepEqual(await codesOf({ authorization: `Bearer ${hs}` }, withoutUserTokens), everywhere('user_tokens_not_configured'));
    } finally {
      await withoutUserTokens.close();
    }
  });

  test('no credentials at all: unauthorized', async () => {
    assert.deepEqual(await codesOf({}), everywhere('unauthorized'));
  });

  test('the request log records the code, never the token', async () => {
    const expired = await hs256({ exp: nowSeconds() - 60 });
    const requestId = `expired-${Date.now()}`;
    const result = await http(app, 'GET', `/organization/${org.id}/billingInfo`, { headers: { authorization: `Bearer ${expired}`, 'x-request-id': requestId } });
    assert.equal(result.status, 401);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const line = app.logs.map((text) => JSON.parse(text)).find((entry) => entry.msg === 'request' && entry.reqId === requestId);
    assert.ok(line, 'a request line');
    assert.equal(line.status, 401);
    assert.equal(line.errorCode, 'token_expired');
    const signature = expired.split('.')[2]!;
    assert.ok(!app.logs.some((text) => text.includes(signature)), 'the token is in no log line');
  });
});
