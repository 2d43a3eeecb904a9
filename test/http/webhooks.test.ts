/**
 * Outgoing webhooks end to end: endpoints through the operator API, events caused by real actions, deliveries to a
 * real receiver that verifies every signature with the `standardwebhooks` library.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startWebhookReceiver, type WebhookReceiver } from '../fixtures/webhook-receiver.js';
import { http, startTestApp, type TestApp } from '../support/test-app.js';

let app: TestApp;
let receiver: WebhookReceiver;
let endpointId: string;

before(async () => {
  app = await startTestApp({ BURSAR_WEBHOOK_ALLOW_PRIVATE: '1', BURSAR_JOB_POLL_MS: '200' }, { startWebhookWorker: true });
  receiver = await startWebhookReceiver();
  const created = await http(app, 'POST', '/admin/webhook-endpoints', { headers: app.admin, body: { url: receiver.url, description: 'all events' } });
  assert.equal(created.status, 201, created.text);
  endpointId = created.body.id;
  receiver.secrets.push(created.body.secret);
});
after(async () => {
  await app.close();
  await receiver.close();
});

describe('webhook endpoints', () => {
  test('a created endpoint answers its secret once; GET never shows it', async () => {
    const created = await http(app, 'POST', '/admin/webhook-endpoints', {
      headers: app.admin,
      body: { url: 'https://example.com/hooks', event_types: ['invoice.paid', 'invoice.created'] },
    });
    assert.equal(created.status, 201, created.text);
    assert.match(created.body.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    assert.equal(Buffer.from(created.body.secret.slice(6), 'base64').length >= 24, true);
    assert.deepEqual(created.body.event_types, ['invoice.paid', 'invoice.created']);
    assert.equal(created.body.disabled, false);
    const read = await http(app, 'GET', `/admin/webhook-endpoints/${created.body.id}`, { headers: app.admin });
    assert.equal(read.status, 200);
    assert.equal(read.body.secret, undefined);
    const list = await http(app, 'GET', '/admin/webhook-endpoints', { headers: app.admin });
    assert.ok(list.body.results.some((endpoint: any) => endpoint.id === created.body.id));
    assert.ok(list.body.results.every((endpoint: any) => endpoint.secret === undefined));
    const removed = await http(app, 'DELETE', `/admin/webhook-endpoints/${created.body.id}`, { headers: app.admin });
    assert.equal(removed.status, 204);
    assert.equal((await http(app, 'GET', `/admin/webhook-endpoints/${created.body.id}`, { headers: app.admin })).status, 404);
  });

  test('an unknown event type is a 400 naming it; a URL that is not http(s) is a 400', async () => {
    const unknown = await http(app, 'POST', '/admin/webhook-endpoints', {
      headers: app.admin,
      body: { url: 'https://example.com/hooks', event_types: ['invoice.paid', 'invoice.teleported'] },
    });
    assert.equal(unknown.status, 400, unknown.text);
    assert.match(unknown.text, /invoice\.teleported/);
    const ftp = await http(app, 'POST', '/admin/webhook-endpoints', { headers: app.admin, body: { url: 'ftp://example.com/hooks' } });
    assert.equal(ftp.status, 400, ftp.text);
  });

  test('the test event arrives at once, signed, with the same webhook-id as its delivery record', async () => {
    const started = Date.now();
    const sent = await http(app, 'POST', `/admin/webhook-endpoints/${endpointId}/test`, { headers: app.admin });
    assert.equal(sent.status, 202, sent.text);
    const [event] = await receiver.waitFor((event) => event.id === sent.body.event_id);
    assert.equal(event!.type, 'webhook.test');
    assert.ok(Date.now() - started < 2000);
    assert.ok(Math.abs(Number(event!.timestamp) - Date.now() / 1000) < 10, 'webhook-timestamp is wall-clock seconds');
    const deliveries = await http(app, 'GET', `/admin/webhook-endpoints/${endpointId}/deliveries`, { headers: app.admin });
    const delivery = deliveries.body.results.find((row: any) => row.event_id === sent.body.event_id);
    assert.equal(delivery.state, 'delivered');
    assert.equal(delivery.attempts, 1);
    assert.equal(delivery.last_status_code, 204);
  });
});
