/**
 * The test clock (BURSAR_TEST_CLOCK=1) is kept in the database: every process sharing it agrees, and a restart keeps
 * it. Scheduled work follows it: moving it past a month end runs that month's billing run, and past a payment-retry
 * date the retry, with no hand-triggered run or sweep, exactly as real time would.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { http, startTestApp, type TestApp } from '../support/test-app.js';
import { acmeBillingInfo, changePlan, createBillingOrganization, listInvoices, putPlan, setBillingInfo } from './invoice-fixtures.js';

async function setClock(app: TestApp, now: string): Promise<void> {
  const result = await http(app, 'POST', '/admin/clock', { headers: app.admin, body: { now } });
  assert.equal(result.status, 200, result.text);
}

async function readClock(app: TestApp): Promise<number> {
  const result = await http(app, 'GET', '/admin/clock', { headers: app.admin });
  assert.equal(result.status, 200, result.text);
  return Date.parse(result.body.now);
}

/** Waits (up to 15 s) until `check` gives something other than undefined. */
async function eventually<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('the clock is kept in the database', () => {
  let first: TestApp;
  before(async () => {
    first = await startTestApp();
  });
  after(async () => first.close());

  test('a process started later reads it, and a move on one process is seen by the other', async () => {
    await setClock(first, '2031-01-01T00:00:00Z');
    // This process forgets it (as a restart would); only the database remembers.
    first.clock.set(new Date());
    const second = await startTestApp({}, { shareDatabaseOf: first });
    try {
      assert.ok(Math.abs((await readClock(second)) - Date.parse('2031-01-01T00:00:00Z')) < 60_000);
      assert.ok(Math.abs(second.app.context.clock.now().getTime() - Date.parse('2031-01-01T00:00:00Z')) < 60_000);
      await setClock(second, '2032-06-15T12:00:00Z');
      assert.ok(Math.abs((await readClock(first)) - Date.parse('2032-06-15T12:00:00Z')) < 60_000);
    } finally {
      await second.close();
    }
  });
});

describe('scheduled work follows the clock', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ BURSAR_JOB_POLL_MS: '50' }, { startWorkers: true });
    await putPlan(app, 'PRO_CLOCK', { monthly: 4900, kind: 'invoiced' });
  });
  after(async () => app.close());

  test('moving the clock past a month end runs that month\'s billing run, with no POST of a run', async () => {
    await setClock(app, '2026-03-10T00:00:00Z');
    const org = await createBillingOrganization(app);
    await setBillingInfo(app, org, acmeBillingInfo);
    await changePlan(app, org, 'PRO_CLOCK');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(await listInvoices(app, org), [], 'March has not ended');

    await setClock(app, '2026-04-01T00:00:05Z');
    const [invoice] = await eventually('the March invoice', async () => {
      const invoices = await listInvoices(app, org);
      return invoices.length > 0 ? invoices : undefined;
    });
    assert.equal(invoice.period_start, '2026-03-01T00:00:00.000Z');
    const runs = await http(app, 'GET', '/admin/billing-runs', { headers: app.admin });
    assert.ok(runs.body.results.some((run: any) => run.as_of === '2026-04-01T00:00:00.000Z'), runs.text);
  });

  test('moving the clock past a payment-retry date makes the retry, with no POST of the sweep', async () => {
    await setClock(app, '2026-06-10T00:00:00Z');
    const org = await createBillingOrganization(app);
    await setBillingInfo(app, org, acmeBillingInfo);
    const card = await http(app, 'POST', `/organization/${org.id}/creditCard`, {
      headers: org.owner,
      body: { number: '4000000000000341', cvv: '123', expiry_month: 12, expiry_year: 2035 },
    });
    assert.equal(card.status, 201, card.text);
    await changePlan(app, org, 'PRO_CLOCK');
    await setClock(app, '2026-07-01T00:00:05Z');
    const failedOnce = await eventually('the first failed charge', async () => {
      const [invoice] = await listInvoices(app, org);
      const attempts = await app.database.query<{ payment_attempts: number; next_payment_attempt_at: Date | null }>(
        'SELECT payment_attempts, next_payment_attempt_at FROM invoices WHERE organization_id = $1',
        [org.id],
      );
      return invoice && attempts.rows[0]?.payment_attempts === 1 ? attempts.rows[0] : undefined;
    });
    const retryAt = failedOnce.next_payment_attempt_at?.getTime() ?? 0;
    assert.ok(retryAt >= Date.parse('2026-07-02T00:00:05Z') && retryAt < Date.parse('2026-07-02T00:30:00Z'), 'retried a day after the issue');

    await setClock(app, '2026-07-02T00:30:00Z');
    await eventually('the retry of July 2', async () => {
      const { rows } = await app.database.query<{ payment_attempts: number }>('SELECT payment_attempts FROM invoices WHERE organization_id = $1', [org.id]);
      return rows[0]?.payment_attempts === 2 ? true : undefined;
    });
  });
});
