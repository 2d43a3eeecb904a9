/** Authentication: user JWTs (HS256 secret or RS256/ES256 from a JWKS URL), the operator token, API tokens. */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { createOrganization, http, JWT_SECRET, mintJwt, startTestApp, type OrganizationFixture, type TestApp } from '../support/test-app.js';

let app: TestApp;
let org: OrganizationFixture;
before(async () => {
  app = await startTestApp();
  org = await createOrganization(app);
});
after(async () => {
  await app.close();
});

const billingInfo = (organizationId: string) => `/organization/${organizationId}/billingInfo`;
const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const nowSeconds = () => Math.floor(Date.now() / 1000);
type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

async function hs256(claims: Record<string, unknown>, options: { exp?: number; iat?: number; secret?: string } = {}): Promise<string> {
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt(options.iat ?? nowSeconds());
  if (options.exp !== undefined) jwt.setExpirationTime(options.exp);
  return jwt.sign(new TextEncoder().encode(options.secret ?? JWT_SECRET));
}

async function expect401(headers: Record<string, string>, path = billingInfo(org.id)): Promise<void> {
  const result = await http(app, 'GET', path, { headers });
  assert.equal(result.status, 401, `${JSON.stringify(headers).slice(0, 80)}: ${result.text}`);
  // Why is tested in error-messages.test.ts; here only that it is one of the documented reasons.
  assert.ok(['unauthorized', 'token_expired', 'invalid_signature', 'invalid_token', 'user_tokens_not_configured'].includes(result.body.error), result.text);
}

describe('user JWTs with the shared secret', () => {
  test('a valid token is accepted, as a bearer token and as the __session cookie', async () => {
    const token = await mintJwt(`owner-${org.id}`, { org_id: org.id });
    assert.equal((await http(app, 'GET', billingInfo(org.id), { headers: { authorization: `Bearer ${token}` } })).status, 200);
    assert.equal((await http(app, 'GET', billingInfo(org.id), { headers: { cookie: `__session=${token}` } })).status, 200);
  });

  test('an expired token gets 401', async () => {
    const token = await hs256({ sub: `owner-${org.id}` }, { iat: nowSeconds() - 7200, exp: nowSeconds() - 3600 });
    await expect401({ authorization: `Bearer ${token}` });
    await expect401({ cookie: `__session=${token}` });
  });

  test('a token that was accepted gets 401 once its expiry passes (the verification cache honours exp)', async () => {
    const token = await hs256({ sub: `owner-${org.id}` }, { exp: nowSeconds() + 2 });
    assert.equal((await http(app, 'GET', billingInfo(org.id), { headers: { authorization: `Bearer ${token}` } })).status, 200);
    await new Promise((resolve) => setTimeout(resolve, 2_200));
    await expect401({ authorization: `Bearer ${token}` });
  });

  test('token expiry follows real time, not the business clock that tests move', async () => {
    const token = await hs256({ sub: `owner-${org.id}` }, { exp: nowSeconds() + 600 });
    app.clock.set(new Date(Date.now() + 40 * 24 * 3600_000));
    try {
      assert.equal((await http(app, 'GET', billingInfo(org.id), { headers: { authorization: `Bearer ${token}` } })).status, 200);
    } finally {
      app.clock.set(new Date());
    }
  });

  test('a token signed with another secret gets 401', async () => {
    const token = await mintJwt(`owner-${org.id}`, { org_id: org.id }, { secret: 'some-other-secret-of-32-characters!!' });
    await expect401({ authorization: `Bearer ${token}` });
  });

  test('a tampered payload gets 401', async () => {
    const token = await mintJwt(`member-${org.id}`);
    const [header, , signature] = token.split('.');
    const forged = `${header}.${base64url({ sub: `owner-${org.id}`, exp: nowSeconds() + 3600 })}.${signature}`;
    await expect401({ authorization: `Bearer ${forged}` });
  });

  test('malformed tokens and headers get 401', async () => {
    for (const authorization of ['Bearer not-a-jwt', 'Bearer a.b.c', 'Bearer ', 'Bearer', 'Basic dXNlcjpwYXNz', 'Token', 'garbage']) {
      await expect401({ authorization });
    }
    await expect401({ cookie: '__session=not-a-jwt' });
    await expect401({});
  });

  test('alg: none gets 401', async () => {
    const unsigned = `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ sub: `owner-${org.id}`, org_id: org.id, exp: nowSeconds() + 3600 })}.`;
    await expect401({ authorization: `Bearer ${unsigned}` });
    await expect401({ cookie: `__session=${unsigned}` });
  });

  test('a token without a subject gets 401', async () => {
    await expect401({ authorization: `Bearer ${await hs256({ org_id: org.id }, { exp: nowSeconds() + 3600 })}` });
  });

  test('an RS256 token gets 401 when no JWKS is configured', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'RS256' }).setSubject(`owner-${org.id}`).setExpirationTime('1h').sign(privateKey);
    await expect401({ authorization: `Bearer ${token}` });
  });

  test('the Authorization header wins over the cookie', async () => {
    const good = await mintJwt(`owner-${org.id}`);
    const result = await http(app, 'GET', billingInfo(org.id), { headers: { authorization: 'Bearer broken', cookie: `__session=${good}` } });
    assert.equal(result.status, 401);
  });
});

describe('operator and user boundaries', () => {
  test('the operator token works on a user route', async () => {
    const result = await http(app, 'GET', billingInfo(org.id), { headers: app.admin });
    assert.equal(result.status, 200);
    const put = await http(app, 'PUT', billingInfo(org.id), {
      headers: app.admin,
      body: { first_name: 'Op', last_name: 'Erator', email: 'ops@example.com', address: 'x', city: 'y', zip: '1', country_code: 'US' },
    });
    assert.equal(put.status, 200, put.text);
    const events = await http(app, 'GET', `/admin/organizations/${org.id}/audit-events?limit=1`, { headers: app.admin });
    assert.equal(events.body.results[0].actor_type, 'operator');
  });

  test('a user JWT, even an owner, gets 403 on /admin routes', async () => {
    for (const headers of [org.owner, org.admin]) {
      for (const [method, path, body] of [
        ['GET', `/admin/organizations/${org.id}/audit-events`, undefined],
        ['POST', '/admin/organizations', { name: 'Sneaky' }],
        ['PUT', `/admin/organizations/${org.id}/members/intruder`, { role: 'owner' }],
        ['POST', `/admin/organizations/${org.id}/api-tokens`, { name: 'sneaky', role: 'owner' }],
      ] as const) {
        const result = await http(app, method, path, { headers, body });
        assert.equal(result.status, 403, `${method} ${path}`);
        assert.equal(result.body.error, 'forbidden');
      }
    }
    const members = await http(app, 'GET', `/admin/organizations/${org.id}/audit-events?type=MEMBERSHIP_SET`, { headers: app.admin });
    assert.ok(!members.body.results.some((event: { changes: { userId?: string } }) => event.changes.userId === 'intruder'));
  });

  test('an owner-role API token gets 403 on /admin routes', async () => {
    const created = await http(app, 'POST', `/admin/organizations/${org.id}/api-tokens`, { headers: app.admin, body: { name: 'owner token', role: 'owner' } });
    assert.equal(created.status, 201);
    const result = await http(app, 'GET', `/admin/organizations/${org.id}/audit-events`, { headers: { authorization: `Token ${created.body.token}` } });
    assert.equal(result.status, 403);
  });

  test('the operator token sent as "Token" or in the cookie is not the operator', async () => {
    const token = app.admin.authorization!.replace(/^Bearer /, '');
    await expect401({ authorization: `Token ${token}` }, `/admin/organizations/${org.id}/audit-events`);
    await expect401({ cookie: `__session=${token}` }, `/admin/organizations/${org.id}/audit-events`);
  });

  test('/admin without credentials gets 401', async () => {
    await expect401({}, `/admin/organizations/${org.id}/audit-events`);
  });
});

describe('user JWTs from a JWKS (RS256, ES256)', () => {
  let jwksServer: Server;
  let jwksApp: TestApp;
  let jwksOrg: OrganizationFixture;
  let rsaKey: PrivateKey;
  let ecKey: PrivateKey;
  let jwksRequests = 0;
  const issuer = 'https://issuer.example';
  const audience = 'bursar';

  before(async () => {
    const rsa = await generateKeyPair('RS256');
    const ec = await generateKeyPair('ES256');
    rsaKey = rsa.privateKey;
    ecKey = ec.privateKey;
    const keys: JWK[] = [
      { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
      { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' },
    ];
    jwksServer = createServer((_request, response) => {
      jwksRequests += 1;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ keys }));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    const { port } = jwksServer.address() as AddressInfo;
    jwksApp = await startTestApp({
      BURSAR_JWKS_URL: `http://127.0.0.1:${port}/.well-known/jwks.json`,
      BURSAR_JWT_ISSUER: issuer,
      BURSAR_JWT_AUDIENCE: audience,
    });
    jwksOrg = await createOrganization(jwksApp);
  });
  after(async () => {
    await jwksApp.close();
    await new Promise((resolve) => jwksServer.close(resolve));
  });

  async function sign(key: PrivateKey, alg: 'RS256' | 'ES256', kid: string, claims: { iss?: string; aud?: string; sub?: string; exp?: string } = {}) {
    const jwt = new SignJWT({ org_id: jwksOrg.id })
      .setProtectedHeader({ alg, kid })
      .setSubject(claims.sub ?? `owner-${jwksOrg.id}`)
      .setIssuedAt()
      .setExpirationTime(claims.exp ?? '1h');
    if (claims.iss !== '') jwt.setIssuer(claims.iss ?? issuer);
    if (claims.aud !== '') jwt.setAudience(claims.aud ?? audience);
    return jwt.sign(key);
  }

  const read = (token: string) => http(jwksApp, 'GET', billingInfo(jwksOrg.id), { headers: { authorization: `Bearer ${token}` } });

  test('an RS256 token signed with a key of the JWKS is accepted', async () => {
    const result = await read(await sign(rsaKey, 'RS256', 'rsa-1'));
    assert.equal(result.status, 200, result.text);
    assert.ok(jwksRequests >= 1, 'the keys came from the JWKS server');
  });

  test('an ES256 token signed with a key of the JWKS is accepted', async () => {
    assert.equal((await read(await sign(ecKey, 'ES256', 'ec-1'))).status, 200);
  });

  test('a token through the __session cookie is accepted too', async () => {
    const token = await sign(rsaKey, 'RS256', 'rsa-1');
    const result = await http(jwksApp, 'GET', `/organizations/${jwksOrg.id}/billing-addresses`, { headers: { cookie: `__session=${token}` } });
    assert.equal(result.status, 200, result.text);
  });

  test('a key that is not in the JWKS, a wrong issuer or audience, or an expired token get 401', async () => {
    const stranger = await generateKeyPair('RS256');
    assert.equal((await read(await sign(stranger.privateKey, 'RS256', 'rsa-1'))).status, 401);
    assert.equal((await read(await sign(stranger.privateKey, 'RS256', 'unknown-kid'))).status, 401);
    assert.equal((await read(await sign(rsaKey, 'RS256', 'rsa-1', { iss: 'https://evil.example' }))).status, 401);
    assert.equal((await read(await sign(rsaKey, 'RS256', 'rsa-1', { iss: '' }))).status, 401);
    assert.equal((await read(await sign(rsaKey, 'RS256', 'rsa-1', { aud: 'someone-else' }))).status, 401);
    assert.equal((await read(await sign(rsaKey, 'RS256', 'rsa-1', { exp: '1h ago' }))).status, 401);
  });

  test('a non-member with a valid JWKS token gets 404, a member 403', async () => {
    assert.equal((await read(await sign(rsaKey, 'RS256', 'rsa-1', { sub: 'not-a-member' }))).status, 404);
    assert.equal((await read(await sign(rsaKey, 'RS256', 'rsa-1', { sub: `member-${jwksOrg.id}` }))).status, 403);
  });

  test('HS256 tokens with the shared secret keep working next to the JWKS, but only with issuer and audience', async () => {
    const withClaims = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(`owner-${jwksOrg.id}`)
      .setIssuer(issuer)
      .setAudience(audience)
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(JWT_SECRET));
    assert.equal((await read(withClaims)).status, 200);
    assert.equal((await read(await mintJwt(`owner-${jwksOrg.id}`))).status, 401);
  });
});
