import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ensureBillingRunScheduled } from '../../src/billing/invoices/billing-schedule.js';
import { http, startTestApp, type TestApp } from '../support/test-app.js';
import { createBillingOrganization, finishBillingRun, listInvoices, putPlan, runBilling, setBillingInfo, acmeBillingInfo, changePlan, organizationsWithUsage } from './invoice-fixtures.js';

let app: TestApp;
before(async () => {
  app = await startTestApp();
  await putPlan(app, 'BUSINESS', { monthly: 3000, kind: 'invoiced' });
});
after(async () => {
  await app.close();
});


async function sequenceNumbers(): Promise<bigint[]> {
  const { rows } = await app.database.query<{ sequence_number: bigint; number: string }>('SELECT sequence_number, number FROM invoices ORDER BY sequence_number');
  for (const row of rows) assert.equal(row.number, `INV-${row.sequence_number.toString().padStart(6, '0')}`);
  return rows.map((row) => row.sequence_number);
}

function assertGapFree(numbers: bigint[]): void {
  numbers.forEach((value, index) => assert.equal(value, BigInt(index + 1), `invoice numbers have a gap: ${numbers.join(', ')}`));
}

describe('billing runs', () => {
  it('two runs at once make exactly one invoice per organization, numbered without gaps', async () => {
    const organizations = await organizationsWithUsage(app, 8, '2026-03');
    app.clock.set(new Date('2026-04-01T00:00:10Z'));
    const body = { as_of: '2026-04-01T00:00:00Z' };
    const [first, second, third] = await Promise.all([
      http(app, 'POST', '/admin/billing-runs', { headers: app.admin, body }),
      http(app, 'POST', '/admin/billing-runs', { headers: app.admin, body }),
      http(app, 'POST', '/admin/billing-runs', { headers: app.admin, body: { as_of: '2026-04-15T00:00:00Z' } }),
    ]);
    for (const result of [first, second, third]) assert.equal(result.status, 202, result.text);
    // The three runs' jobs worked at once.
    const runs = await Promise.all([first, second, third].map((started) => finishBillingRun(app, started.body.id)));
    assert.equal(runs.reduce((sum, run) => sum + run.invoices_created, 0), 8);
    for (const run of runs) {
      assert.equal(run.organizations_failed, 0);
      assert.equal(run.invoices_created + run.invoices_existing, 8);
    }
    for (const org of organizations) {
      const invoices = await listInvoices(app, org);
      assert.equal(invoices.length, 1, `organization ${org.slug}`);
    }
    assertGapFree(await sequenceNumbers());
    const { rows } = await app.database.query<{ status: string; invoices_created: number; organizations_seen: number }>(
      "SELECT status, invoices_created, organizations_seen FROM billing_runs WHERE period_start = '2026-03-01T00:00:00Z'",
    );
    assert.equal(rows.length, 3);
    assert.ok(rows.every((row) => row.status === 'completed' && row.organizations_seen === 8));
    assert.equal(rows.reduce((sum, row) => sum + row.invoices_created, 0), 8);
  });

  it('an organization that fails is skipped whole: others are invoiced, no number is used, a rerun picks it up', async () => {
    const organizations = await organizationsWithUsage(app, 3, '2026-05');
    const broken = organizations[1]!;
    // A cluster priced in another currency than the organization's cannot be invoiced (the API refuses to register one).
    const foreignCluster = randomUUID();
    await app.database.query(
      `INSERT INTO clusters (id, organization_id, name, hourly_price_per_node_minor, min_nodes, max_nodes, fixed_monthly_minor, currency, active_from, created_at)
       VALUES ($1, $2, 'foreign', 100, 1, 1, 0, 'EUR', '2026-05-01T00:00:00Z', '2026-05-01T00:00:00Z')`,
      [foreignCluster, broken.id],
    );
    const before = await sequenceNumbers();
    app.clock.set(new Date('2026-06-01T00:00:10Z'));
    const run = await runBilling(app, '2026-06-01T00:00:00Z');
    assert.equal(run.invoices_created, 2);
    assert.equal(run.organizations_failed, 1);
    assert.equal(run.status, 'completed');
    assert.ok(app.logs.some((line) => line.includes(broken.id) && line.includes('a rerun retries it')));
    assert.deepEqual(await listInvoices(app, broken), []);
    const numbers = await sequenceNumbers();
    assert.equal(numbers.length, before.length + 2);
    assertGapFree(numbers);
    // Every issued invoice is whole: its lines sum to its subtotal.
    const { rows } = await app.database.query<{ id: string; subtotal_minor: bigint; lines: bigint | null }>(
      `SELECT i.id, i.subtotal_minor, (SELECT SUM(amount_minor) FROM invoice_lines l WHERE l.invoice_id = i.id AND l.kind <> 'credit')::int8 AS lines
         FROM invoices i WHERE i.period_start = '2026-05-01T00:00:00Z'`,
    );
    assert.equal(rows.length, 2);
    for (const row of rows) assert.equal(row.lines, row.subtotal_minor);

    await app.database.query('DELETE FROM clusters WHERE id = $1', [foreignCluster]);
    const rerun = await runBilling(app, '2026-06-01T00:00:00Z');
    assert.equal(rerun.invoices_created, 1);
    assert.equal(rerun.invoices_existing, 2);
    assert.equal((await listInvoices(app, broken)).length, 1);
    assertGapFree(await sequenceNumbers());
  });

  it('the monthly run is scheduled once per month through the job queue and closes its own month', async () => {
    const [org] = await organizationsWithUsage(app, 1, '2026-07');
    app.clock.set(new Date('2026-07-20T12:00:00Z'));
    const context = app.app.context;
    await context.jobs.runUntilIdle(); // e-mails of the earlier invoices
    const first = await ensureBillingRunScheduled(context);
    const second = await ensureBillingRunScheduled(context);
    assert.deepEqual(first, { singletonKey: 'billing-run:2026-07', created: true });
    assert.deepEqual(second, { singletonKey: 'billing-run:2026-07', created: false });
    const { rows } = await app.database.query<{ count: bigint }>("SELECT count(*)::int8 AS count FROM jobs WHERE singleton_key = 'billing-run:2026-07'");
    assert.equal(rows[0]!.count, 1n);

    // Not due yet by the clock: the queue does not run it.
    assert.equal(await context.jobs.runUntilIdle(), 0);
    assert.deepEqual(await listInvoices(app, org!), []);

    // The clock reaches August 1 (the job is due 11.5 days from the schedule instant): it runs, late, and closes July only.
    app.clock.set(new Date('2026-08-03T00:00:00Z'));
    await context.jobs.runUntilIdle({ horizonSeconds: 12 * 86_400 });
    const invoices = await listInvoices(app, org!);
    assert.equal(invoices.length, 1);
    assert.equal(invoices[0].period_start, '2026-07-01T00:00:00.000Z');
    const next = await app.database.query<{ state: string }>("SELECT state FROM jobs WHERE singleton_key = 'billing-run:2026-08'");
    assert.equal(next.rows[0]?.state, 'pending');
    const run = await app.database.query<{ as_of: Date }>("SELECT as_of FROM billing_runs WHERE period_start = '2026-07-01T00:00:00Z'");
    assert.equal(run.rows[0]?.as_of.toISOString(), '2026-08-01T00:00:00.000Z');
  });

  it('a run over organizations without charges issues nothing and uses no number', async () => {
    app.clock.set(new Date('2026-09-01T00:00:00Z'));
    const idle = await createBillingOrganization(app);
    await setBillingInfo(app, idle, acmeBillingInfo);
    const before = await sequenceNumbers();
    app.clock.set(new Date('2026-10-01T00:00:01Z'));
    const run = await runBilling(app, '2026-10-01T00:00:00Z');
    assert.equal(run.invoices_created, 0);
    assert.ok(run.organizations_without_charges >= 1);
    assert.deepEqual(await sequenceNumbers(), before);
    // A trial is free: an invoiced plan with a trial and no usage has nothing to bill either.
    await putPlan(app, 'TRIAL_PLAN', { monthly: 5000, kind: 'invoiced', trialDays: 30 });
    app.clock.set(new Date('2026-10-02T00:00:00Z'));
    await changePlan(app, idle, 'TRIAL_PLAN');
    app.clock.set(new Date('2026-11-01T00:00:01Z'));
    const trialRun = await runBilling(app, '2026-11-01T00:00:00Z');
    assert.equal(trialRun.invoices_created, 0);
    assert.deepEqual(await listInvoices(app, idle), []);
  });
});
