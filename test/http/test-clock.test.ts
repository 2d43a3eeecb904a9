/**
 * The operator's test clock. With BURSAR_TEST_CLOCK=1 it sets the business time of the process; without it the
 * endpoints answer 404 `test_clock_disabled` (they are always routed, so the refusal is explicit) and time is untouched.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createOrganization, http, startTestApp, type TestApp } from '../support/test-app.js';

describe('with BURSAR_TEST_CLOCK=1', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(async () => {
    await app.close();
  });

  test('POST sets the business time, GET reads it, and the core uses it; the move is audited', async () => {
    const set = await http(app, 'POST', '/admin/clock', { headers: app.admin, body: { now: '2026-10-15T12:00:00Z' } });
    assert.equal(set.status, 200);
    assert.ok(Date.parse(set.body.now) - Date.parse('2026-10-15T12:00:00Z') < 60_000);
    assert.ok(Date.parse(set.body.now) >= Date.parse('2026-10-15T12:00:00Z'));
    const read = await http(app, 'GET', '/admin/clock', { headers: app.admin });
    assert.equal(read.status, 200);
    assert.ok(Date.parse(read.body.now) >= Date.parse(set.body.now));
    assert.ok(Math.abs(app.app.context.clock.now().getTime() - Date.parse('2026-10-15T12:00:00Z')) < 60_000);

    const org = await createOrganization(app);
    const cost = await http(app, 'GET', `/organization/${org.id}/currentCost`, { headers: org.owner });
    assert.equal(cost.body.renewal_at, '2026-11-01T00:00:00.000Z');
    await http(app, 'POST', '/admin/clock', { headers: app.admin, body: { now: '2026-11-01T00:00:00.000Z' } });
    const next = await http(app, 'GET', `/organization/${org.id}/currentCost`, { headers: org.owner });
    assert.equal(next.body.renewal_at, '2026-12-01T00:00:00.000Z');

    const { rows } = await app.database.query<{ changes: any; actor_type: string }>(
      "SELECT changes, actor_type FROM audit_events WHERE type = 'TEST_CLOCK_SET' ORDER BY sequence",
    );
    assert.equal(rows.length, 2);
    assert.equal(rows[0]!.actor_type, 'operator');
    assert.equal(rows[1]!.changes.now.new, '2026-11-01T00:00:00.000Z');
  });

  test('a malformed time is a 400; a non-operator is refused', async () => {
    const before = app.app.context.clock.now().getTime();
    const bad = await http(app, 'POST', '/admin/clock', { headers: app.admin, body: { now: 'tomorrow' } });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.fields.map((f: any) => f.field), ['now']);
    const org = await createOrganization(app);
    assert.equal((await http(app, 'POST', '/admin/clock', { headers: org.owner, body: { now: '2030-01-01T00:00:00Z' } })).status, 403);
    assert.equal((await http(app, 'GET', '/admin/clock', { headers: org.owner })).status, 403);
    assert.equal((await http(app, 'POST', '/admin/clock', { body: { now: '2030-01-01T00:00:00Z' } })).status, 401);
    assert.ok(Math.abs(app.app.context.clock.now().getTime() - before) < 60_000);
  });
});

describe('without BURSAR_TEST_CLOCK', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ BURSAR_TEST_CLOCK: '0' });
  });
  after(async () => {
    await app.close();
  });

  test('the clock endpoints answer 404 test_clock_disabled and the time does not move', async () => {
    const before = app.app.context.clock.now().getTime();
    const set = await http(app, 'POST', '/admin/clock', { headers: app.admin, body: { now: '2030-01-01T00:00:00Z' } });
    assert.equal(set.status, 404);
    assert.equal(set.body.error, 'test_clock_disabled');
    const read = await http(app, 'GET', '/admin/clock', { headers: app.admin });
    assert.equal(read.status, 404);
    assert.equal(read.body.error, 'test_clock_disabled');
    assert.ok(Math.abs(app.app.context.clock.now().getTime() - before) < 60_000);
    const { rows } = await app.database.query("SELECT 1 FROM audit_events WHERE type = 'TEST_CLOCK_SET'");
    assert.equal(rows.length, 0);
  });
});
