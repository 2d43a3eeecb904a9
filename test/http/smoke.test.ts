import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createOrganization, http, startTestApp, type TestApp } from '../support/test-app.js';

let app: TestApp;
before(async () => {
  app = await startTestApp();
});
after(async () => {
  await app.close();
});

test('health and readiness answer without credentials', async () => {
  assert.equal((await http(app, 'GET', '/healthz')).status, 200);
  const ready = await http(app, 'GET', '/readyz');
  assert.equal(ready.status, 200);
  assert.equal(ready.body.status, 'ready');
});

test('an organization fixture can read its billing info', async () => {
  const org = await createOrganization(app);
  const result = await http(app, 'GET', `/organization/${org.id}/billingInfo`, { headers: org.owner });
  assert.equal(result.status, 200);
  assert.equal(result.body.email, null);
});
