/** Logs: one JSON line per request with its request id; credentials never reach a log line. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { ADMIN_TOKEN, createOrganization, http, mintJwt, startTestApp, type TestApp } from '../support/test-app.js';

let app: TestApp;
before(async () => {
  app = await startTestApp();
});
after(async () => {
  await app.close();
});

function parsedLogs(): Array<Record<string, any>> {
  return app.logs.map((line) => JSON.parse(line));
}

test('one request line per request, with its request id, and no credential anywhere in the logs', async () => {
  const org = await createOrganization(app);
  const jwt = await mintJwt(`owner-${org.id}`, { org_id: org.id });
  const sessionJwt = await mintJwt(`billing-${org.id}`, { org_id: org.id, sid: 'sess_logging' });
  const token = (
    await http(app, 'POST', `/admin/organizations/${org.id}/api-tokens`, { headers: app.admin, body: { name: 'logging', role: 'admin' } })
  ).body.token as string;
  const badJwt = `${jwt.slice(0, -6)}AAAAAA`;
  const querySecret = `query-secret-${randomUUID()}`;
  const bodySecret = `body-secret-${randomUUID()}`;
  const linesBefore = app.logs.length;

  const infoPath = `/organization/${org.id}/billingInfo`;
  const billingBody = { first_name: 'Log', last_name: 'Line', email: 'log@example.com', address: bodySecret, city: 'c', zip: 'z', country_code: 'US' };
  const requests: Array<{ method: string; path: string; headers: Record<string, string>; body?: unknown; status: number }> = [
    { method: 'GET', path: infoPath, headers: { authorization: `Bearer ${jwt}` }, status: 200 },
    { method: 'PUT', path: infoPath, headers: { authorization: `Bearer ${jwt}` }, body: billingBody, status: 200 },
    { method: 'GET', path: infoPath, headers: { authorization: `Token ${token}` }, status: 200 },
    { method: 'GET', path: `/organizations/${org.id}/billing-addresses`, headers: { cookie: `__session=${sessionJwt}` }, status: 200 },
    { method: 'GET', path: `${infoPath}?token=${querySecret}`, headers: { authorization: `Bearer ${jwt}` }, status: 200 },
    { method: 'GET', path: infoPath, headers: { authorization: `Bearer ${badJwt}` }, status: 401 },
    { method: 'GET', path: infoPath, headers: { authorization: `Token ${token}x` }, status: 401 },
    { method: 'GET', path: `/admin/organizations/${org.id}/audit-events`, headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, status: 200 },
    { method: 'GET', path: `/admin/organizations/${org.id}/audit-events`, headers: { authorization: `Bearer ${jwt}` }, status: 403 },
    { method: 'PUT', path: infoPath, headers: { authorization: `Bearer ${jwt}` }, body: '{"first_name":', status: 400 },
    { method: 'PUT', path: infoPath, headers: { authorization: `Bearer ${jwt}` }, body: { ...billingBody, company: 'x'.repeat(70_000) }, status: 413 },
    { method: 'GET', path: `/no-such-route?token=${querySecret}`, headers: { authorization: `Bearer ${jwt}` }, status: 404 },
  ];
  const requestIds: string[] = [];
  for (const request of requests) {
    const requestId = `log-${randomUUID()}`;
    requestIds.push(requestId);
    const result = await http(app, request.method, request.path, { headers: { ...request.headers, 'x-request-id': requestId }, body: request.body });
    assert.equal(result.status, request.status, `${request.method} ${request.path}: ${result.text.slice(0, 200)}`);
  }
  // A request without a request id gets one generated.
  assert.equal((await http(app, 'GET', '/healthz')).status, 200);
  // The onResponse hook may finish just after the answer reached the client.
  await new Promise((resolve) => setTimeout(resolve, 50));

  const lines = parsedLogs().slice(linesBefore);
  const requestLines = lines.filter((line) => line.msg === 'request');
  assert.equal(requestLines.length, requests.length + 1, 'one request line per request');
  for (const [index, requestId] of requestIds.entries()) {
    const matching = requestLines.filter((line) => line.reqId === requestId);
    assert.equal(matching.length, 1, `exactly one request line for ${requests[index]!.method} ${requests[index]!.path}`);
    const line = matching[0]!;
    assert.equal(line.status, requests[index]!.status);
    assert.equal(line.method, requests[index]!.method);
    assert.equal(typeof line.durationMs, 'number');
    assert.equal(line.level, 30);
    assert.equal(typeof line.time, 'number');
  }
  const generated = requestLines.find((line) => line.path === '/healthz');
  assert.ok(generated && typeof generated.reqId === 'string' && generated.reqId.length > 0);
  // Every line about a request carries its request id.
  for (const line of lines) assert.ok(typeof line.reqId === 'string', JSON.stringify(line).slice(0, 200));

  const secrets = { jwt, sessionJwt, badJwt, token, ADMIN_TOKEN, querySecret, bodySecret, jwtSignature: jwt.split('.')[2]! };
  const allText = app.logs.join('\n');
  for (const [name, secret] of Object.entries(secrets)) {
    assert.ok(!allText.includes(secret), `the ${name} appears in a log line`);
  }
  assert.ok(!/authorization|cookie|__session/i.test(allText), 'no header names in the logs');
});

test('the request line names the route pattern, not only the path', async () => {
  const org = await createOrganization(app);
  const requestId = `route-${randomUUID()}`;
  await http(app, 'GET', `/organization/${org.id}/billingInfo`, { headers: { ...org.owner, 'x-request-id': requestId } });
  await new Promise((resolve) => setTimeout(resolve, 50));
  const line = parsedLogs().find((entry) => entry.reqId === requestId && entry.msg === 'request');
  assert.ok(line);
  assert.equal(line.route, '/organization/:organizationId/billingInfo');
  assert.equal(line.path, `/organization/${org.id}/billingInfo`);
  assert.equal(line.actor, 'user');
});
