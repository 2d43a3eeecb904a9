/**
 * Outgoing webhooks end to end: endpoints through the operator API, events caused by real actions, deliveries to a
 * real receiver that verifies every signature with the `standardwebhooks` library.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { billingEventTypes } from '../../src/events/event-types.js';
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

  test('the OpenAPI document lists every event type with an example body', async () => {
    const document = await http(app, 'GET', '/openapi.json');
    const types = Object.keys(document.body.webhooks);
    assert.deepEqual(types.sort(), [...billingEventTypes].sort());
    for (const type of types) {
      const example = document.body.webhooks[type].post.requestBody.content['application/json'].example;
      assert.equal(example.type, type);
      assert.ok('organization_id' in example.data, type);
    }
    assert.ok(document.body.paths['/admin/webhook-endpoints']);
  });

  test('the test event arrives at once, signed, with the same webhook-id as its delivery record', async () => {
    const started = Date.now();
    const sent = await http(app, 'POST', `/admin/webhook-endpoints/${endpointId}/test`, { headers: app.admin });
    assert.equal(sent.status, 202, sent.text);
    const [event] = await receiver.waitFor((event) => event.id === sent.body.event_id);
    assert.equal(event!.type, 'webhook.test');
    assert.ok(Date.now() - started < 2000);
    assert.ok(Math.abs(Number(event!.timestamp) - Date.now() / 1000) < 10, 'webhook-timestamp is wall-clock seconds');
    const delivery = await waitForDelivery(endpointId, sent.body.event_id, (row) => row.state !== 'sending');
    assert.equal(delivery.state, 'delivered');
    assert.equal(delivery.attempts, 1);
    assert.equal(delivery.last_status_code, 204);
  });

  test('a receiver failing twice then succeeding gets the same webhook-id each time, on the backoff schedule', async () => {
    const flaky = await startWebhookReceiver();
    try {
      const endpoint = await createEndpoint(flaky, ['webhook.test']);
      let failures = 0;
      flaky.respond = () => (failures++ < 2 ? (failures === 1 ? 500 : 302) : 200);
      const sent = await http(app, 'POST', `/admin/webhook-endpoints/${endpoint}/test`, { headers: app.admin });
      const eventId: string = sent.body.event_id;

      const first = await waitForDelivery(endpoint, eventId, (row) => row.attempts === 1 && row.state === 'pending');
      assert.equal(first.last_status_code, 500);
      assertAbout(first.next_attempt_at, 5_000);
      await dueNow(eventId); // five seconds pass

      const second = await waitForDelivery(endpoint, eventId, (row) => row.attempts === 2 && row.state === 'pending');
      assert.equal(second.last_status_code, 302, 'a redirect is a failure, not followed');
      assertAbout(second.next_attempt_at, 5 * 60_000);
      await dueNow(eventId); // five minutes pass

      const [received] = await flaky.waitFor((event) => event.id === eventId);
      assert.equal(received!.type, 'webhook.test');
      assert.deepEqual(flaky.attempts.map((attempt) => [attempt.id, attempt.status]), [
        [eventId, 500],
        [eventId, 302],
        [eventId, 200],
      ]);
      const done = await waitForDelivery(endpoint, eventId, (row) => row.state === 'delivered');
      assert.equal(done.attempts, 3);
      assert.equal(done.next_attempt_at, null);
    } finally {
      await flaky.close();
    }
  });

  test('a delivery retried by the operator is sent again with the same webhook-id', async () => {
    const sent = await http(app, 'POST', `/admin/webhook-endpoints/${endpointId}/test`, { headers: app.admin });
    await receiver.waitFor((event) => event.id === sent.body.event_id);
    const delivery = await waitForDelivery(endpointId, sent.body.event_id, (row) => row.state === 'delivered');
    const retried = await http(app, 'POST', `/admin/webhook-deliveries/${delivery.id}/retry`, { headers: app.admin });
    assert.equal(retried.status, 200, retried.text);
    const twice = await receiver.waitFor((event) => event.id === sent.body.event_id, 2);
    assert.equal(twice.length, 2);
    assert.equal((await http(app, 'POST', '/admin/webhook-deliveries/00000000-0000-4000-8000-000000000000/retry', { headers: app.admin })).status, 404);
  });

  test('one event has the same webhook-id at every endpoint that receives it', async () => {
    const other = await startWebhookReceiver();
    try {
      const endpoint = await createEndpoint(other, ['billing_profile.updated']);
      const org = await http(app, 'POST', '/admin/organizations', { headers: app.admin, body: { name: 'Twice told' } });
      const put = await http(app, 'PUT', `/organization/${org.body.id}/billingInfo`, {
        headers: app.admin,
        body: { first_name: 'A', last_name: 'B', email: 'a@b.test', address: '1 Road', city: 'Rome', zip: '00100', country_code: 'IT' },
      });
      assert.equal(put.status, 200, put.text);
      const [atOther] = await other.waitFor((event) => event.data?.organization_id === org.body.id);
      const [atFirst] = await receiver.waitFor((event) => event.data?.organization_id === org.body.id && event.type === 'billing_profile.updated');
      assert.equal(atOther!.id, atFirst!.id);
      assert.match(atOther!.id, /^evt_[0-9a-f]{32}$/);
      await http(app, 'DELETE', `/admin/webhook-endpoints/${endpoint}`, { headers: app.admin });
    } finally {
      await other.close();
    }
  });

  test('a disabled endpoint receives nothing', async () => {
    const quiet = await startWebhookReceiver();
    try {
      const endpoint = await createEndpoint(quiet, []);
      const disabled = await http(app, 'PATCH', `/admin/webhook-endpoints/${endpoint}`, { headers: app.admin, body: { disabled: true } });
      assert.equal(disabled.status, 200, disabled.text);
      assert.equal(disabled.body.disabled, true);
      // An event every endpoint wants: the enabled one gets it, the disabled one neither gets it nor queues it.
      const org = await http(app, 'POST', '/admin/organizations', { headers: app.admin, body: { name: 'Quiet hooks' } });
      const plan = await http(app, 'PUT', `/organization/${org.body.id}/billingInfo`, {
        headers: app.admin,
        body: { first_name: 'A', last_name: 'B', email: 'a@b.test', address: '1 Road', city: 'Rome', zip: '00100', country_code: 'IT' },
      });
      assert.equal(plan.status, 200, plan.text);
      await receiver.waitFor((event) => event.data?.organization_id === org.body.id);
      assert.equal(quiet.attempts.length, 0);
      const deliveries = await http(app, 'GET', `/admin/webhook-endpoints/${endpoint}/deliveries`, { headers: app.admin });
      assert.deepEqual(deliveries.body.results, []);
      const test = await http(app, 'POST', `/admin/webhook-endpoints/${endpoint}/test`, { headers: app.admin });
      assert.equal(test.status, 409, test.text);
    } finally {
      await quiet.close();
    }
  });

  test('rotation: for 24 hours each delivery is signed with the new and the old secret', async () => {
    const rotating = await startWebhookReceiver();
    try {
      const created = await http(app, 'POST', '/admin/webhook-endpoints', { headers: app.admin, body: { url: rotating.url, event_types: ['webhook.test'] } });
      const oldSecret: string = created.body.secret;
      rotating.secrets.push(oldSecret);
      const rotated = await http(app, 'POST', `/admin/webhook-endpoints/${created.body.id}/rotate-secret`, { headers: app.admin });
      assert.equal(rotated.status, 200, rotated.text);
      const newSecret: string = rotated.body.secret;
      assert.notEqual(newSecret, oldSecret);
      assert.match(newSecret, /^whsec_/);
      rotating.secrets.push(newSecret);
      const sent = await http(app, 'POST', `/admin/webhook-endpoints/${created.body.id}/test`, { headers: app.admin });
      const [event] = await rotating.waitFor((received) => received.id === sent.body.event_id);
      assert.equal(event!.signature.split(' ').length, 2);
      assert.deepEqual(event!.verifiedWith.sort(), [newSecret, oldSecret].sort());

      // After the overlap only the new secret signs.
      await app.database.query('UPDATE webhook_endpoints SET previous_secret_expires_at = now() WHERE id = $1', [created.body.id]);
      const later = await http(app, 'POST', `/admin/webhook-endpoints/${created.body.id}/test`, { headers: app.admin });
      const [next] = await rotating.waitFor((received) => received.id === later.body.event_id);
      assert.deepEqual(next!.verifiedWith, [newSecret]);
      assert.throws(() => new Webhook(oldSecret).verify('{}', { 'webhook-id': next!.id, 'webhook-timestamp': next!.timestamp, 'webhook-signature': next!.signature }));
    } finally {
      await rotating.close();
    }
  });

  test('an endpoint whose deliveries all failed for three days is disabled, and the audit trail says so', async () => {
    const down = await startWebhookReceiver();
    try {
      down.respond = () => 503;
      const endpoint = await createEndpoint(down, ['webhook.test']);
      await app.database.query(`UPDATE webhook_endpoints SET failing_since = now() - interval '3 days 1 minute' WHERE id = $1`, [endpoint]);
      const sent = await http(app, 'POST', `/admin/webhook-endpoints/${endpoint}/test`, { headers: app.admin });
      await waitForDelivery(endpoint, sent.body.event_id, (row) => row.attempts === 1 && row.state !== 'sending');
      const read = await http(app, 'GET', `/admin/webhook-endpoints/${endpoint}`, { headers: app.admin });
      assert.equal(read.body.disabled, true);
      const { rows } = await app.database.query<{ changes: any }>(`SELECT changes FROM audit_events WHERE type = 'WEBHOOK_ENDPOINT_DISABLE'`);
      assert.ok(rows.some((row) => row.changes.endpointId === endpoint));
    } finally {
      await down.close();
    }
  });
});

describe('addresses a webhook may not reach', () => {
  let strict: TestApp;
  before(async () => {
    strict = await startTestApp({}, { startWebhookWorker: false });
  });
  after(async () => {
    await strict.close();
  });

  test('loopback, private and link-local URLs are refused with 400 unless allowed', async () => {
    for (const url of ['http://127.0.0.1:8080/hooks', 'http://localhost/hooks', 'http://10.1.2.3/hooks', 'http://192.168.0.10/hooks', 'http://169.254.169.254/latest', 'http://[::1]/hooks', 'http://[fd00::1]/hooks']) {
      const refused = await http(strict, 'POST', '/admin/webhook-endpoints', { headers: strict.admin, body: { url } });
      assert.equal(refused.status, 400, `${url}: ${refused.text}`);
      assert.match(refused.text, /private_address|loopback/);
    }
    const ok = await http(strict, 'POST', '/admin/webhook-endpoints', { headers: strict.admin, body: { url: 'https://93.184.215.14/hooks' } });
    assert.equal(ok.status, 201, ok.text);
  });

  test('the check is made again at delivery time', async () => {
    const local = await startWebhookReceiver();
    try {
      // Saved when it was allowed (or resolved elsewhere): the delivery itself refuses the private address.
      await strict.database.query(
        `INSERT INTO webhook_endpoints (id, url, event_types, secret, created_at, updated_at) VALUES ($1, $2, '{webhook.test}', $3, now(), now())`,
        ['11111111-1111-4111-8111-111111111111', local.url.replace('127.0.0.1', 'localhost'), 'whsec_' + Buffer.alloc(24, 1).toString('base64')],
      );
      const sent = await http(strict, 'POST', '/admin/webhook-endpoints/11111111-1111-4111-8111-111111111111/test', { headers: strict.admin });
      assert.equal(sent.status, 202, sent.text);
      assert.equal(await strict.app.context.webhooks.deliverDue(), 1);
      assert.equal(local.attempts.length, 0);
      const deliveries = await http(strict, 'GET', '/admin/webhook-endpoints/11111111-1111-4111-8111-111111111111/deliveries', { headers: strict.admin });
      assert.match(deliveries.body.results[0].last_error, /refused/);
      assert.equal(deliveries.body.results[0].state, 'pending');
    } finally {
      await local.close();
    }
  });
});

describe('two processes', () => {
  test('share deliveries without sending one twice', async () => {
    const second = await startTestApp({ BURSAR_WEBHOOK_ALLOW_PRIVATE: '1', BURSAR_JOB_POLL_MS: '200' }, { shareDatabaseOf: app, startWebhookWorker: true });
    const shared = await startWebhookReceiver();
    try {
      const endpoint = await createEndpoint(shared, ['webhook.test']);
      // Slow answers keep deliveries in flight while both workers claim.
      shared.respond = () => 200;
      const sent: string[] = [];
      for (let index = 0; index < 30; index += 1) {
        const through = index % 2 === 0 ? app : second;
        const result = await http(through, 'POST', `/admin/webhook-endpoints/${endpoint}/test`, { headers: through.admin });
        sent.push(result.body.event_id);
      }
      await shared.waitFor(() => true, 30, 15_000);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(shared.attempts.length, 30, 'each event once');
      assert.deepEqual(new Set(shared.received.map((event) => event.id)), new Set(sent));
    } finally {
      await second.close();
      await shared.close();
    }
  });
});

async function createEndpoint(target: WebhookReceiver, eventTypes: string[]): Promise<string> {
  const created = await http(app, 'POST', '/admin/webhook-endpoints', { headers: app.admin, body: { url: target.url, event_types: eventTypes } });
  assert.equal(created.status, 201, created.text);
  target.secrets.push(created.body.secret);
  return created.body.id;
}

async function waitForDelivery(endpoint: string, eventId: string, done: (row: any) => boolean): Promise<any> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const deliveries = await http(app, 'GET', `/admin/webhook-endpoints/${endpoint}/deliveries`, { headers: app.admin });
    const row = deliveries.body.results.find((delivery: any) => delivery.event_id === eventId);
    if (row && done(row)) return row;
    if (Date.now() > deadline) throw new Error(`delivery of ${eventId} not as expected: ${JSON.stringify(row)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The wall clock passes the next attempt's time (the test cannot wait minutes). */
async function dueNow(eventId: string): Promise<void> {
  await app.database.query(`UPDATE webhook_deliveries SET next_attempt_at = now() WHERE event_id = $1`, [eventId]);
  app.app.context.webhooks.wake();
}

function assertAbout(iso: string, delayMs: number): void {
  const delta = Date.parse(iso) - Date.now();
  assert.ok(delta > delayMs - 3000 && delta <= delayMs + 1000, `next attempt in ${delta} ms, expected about ${delayMs}`);
}

