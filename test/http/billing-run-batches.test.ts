import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { systemCaller } from '../../src/domain/actor.js';
import { executeBillingRun } from '../../src/billing/invoices/execute-billing-run.js';
import { issueInvoices } from '../../src/billing/invoices/issue-invoices.js';
import type { AppContext } from '../../src/app-context.js';
import type { BillingPeriod } from '../../src/domain/billing-period.js';
import type { Caller } from '../../src/domain/actor.js';
import { auditEvents, startTestApp, type TestApp } from '../support/test-app.js';
import { changePlan, listInvoices, putPlan, organizationsWithUsage } from './invoice-fixtures.js';

/** One organization's invoice: a batch of one; throws what made it fail. */
async function issueInvoice(context: AppContext, caller: Caller, organizationId: string, period: BillingPeriod) {
  const outcome = (await issueInvoices(context, caller, [organizationId], period)).get(organizationId);
  if (outcome === undefined) throw new Error(`no invoice outcome for organization ${organizationId}`);
  if (outcome.outcome === 'failed') throw outcome.error;
  return outcome;
}

let app: TestApp;
before(async () => {
  app = await startTestApp();
  await putPlan(app, 'BUSINESS', { monthly: 3000, kind: 'invoiced' });
  await putPlan(app, 'COMMUNITY', { monthly: 0, kind: 'credits' });
});
after(async () => app.close());

async function assertGapFree(): Promise<number> {
  const { rows } = await app.database.query<{ sequence_number: bigint; number: string }>('SELECT sequence_number, number FROM invoices ORDER BY sequence_number');
  rows.forEach((row, index) => {
    assert.equal(row.sequence_number, BigInt(index + 1));
    assert.equal(row.number, `INV-${row.sequence_number.toString().padStart(6, '0')}`);
  });
  return rows.length;
}

describe('batches', () => {
  it('concurrent runs in small batches', async () => {
    const orgs = await organizationsWithUsage(app, 13, '2026-03');
    app.clock.set(new Date('2026-04-01T00:00:10Z'));
    const runs = await Promise.all([
      executeBillingRun(app.app.context, systemCaller('t'), { asOf: new Date('2026-04-01T00:00:00Z'), batchSize: 2, concurrency: 4 }),
      executeBillingRun(app.app.context, systemCaller('t'), { asOf: new Date('2026-04-02T00:00:00Z'), batchSize: 3, concurrency: 3 }),
      executeBillingRun(app.app.context, systemCaller('t'), { asOf: new Date('2026-04-03T00:00:00Z'), batchSize: 5, concurrency: 2 }),
    ]);
    for (const run of runs) {
      assert.equal(run.organizationsSeen, 13);
      assert.equal(run.invoicesCreated + run.invoicesExisting, 13);
      assert.equal(run.organizationsFailed, 0);
    }
    assert.equal(runs.reduce((sum, run) => sum + run.invoicesCreated, 0), 13);
    for (const org of orgs) assert.equal((await listInvoices(app, org)).length, 1);
    assert.equal(await assertGapFree(), 13);
    const jobs = await app.database.query<{ count: bigint }>("SELECT count(*)::int8 AS count FROM jobs WHERE queue = 'invoices.email' AND singleton_key LIKE 'invoice-email:%:issued'");
    assert.equal(jobs.rows[0]!.count, 13n);
    const audits = await app.database.query<{ count: bigint }>("SELECT count(*)::int8 AS count FROM audit_events a JOIN invoices i ON i.id::text = a.changes->>'invoiceId' AND i.number = a.changes->>'invoiceNumber' WHERE a.type = 'INVOICE_ISSUE'");
    assert.equal(audits.rows[0]!.count, 13n);
  });

  it('a write failure of one organization in a batch: bisected, others issued, gap-free', async () => {
    const orgs = await organizationsWithUsage(app, 5, '2026-05');
    const broken = orgs[2]!;
    await app.database.execute(`CREATE FUNCTION refuse_line() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
      IF NEW.organization_id = '${broken.id}' THEN RAISE EXCEPTION 'refused line'; END IF; RETURN NEW; END $$;
      CREATE TRIGGER refuse_line BEFORE INSERT ON invoice_lines FOR EACH ROW EXECUTE FUNCTION refuse_line();`);
    app.clock.set(new Date('2026-06-01T00:00:10Z'));
    const before = await assertGapFree();
    const run = await executeBillingRun(app.app.context, systemCaller('t'), { asOf: new Date('2026-06-01T00:00:00Z') });
    assert.equal(run.invoicesCreated, 4);
    assert.equal(run.organizationsFailed, 1);
    assert.ok(app.logs.some((line) => line.includes(broken.id) && line.includes('a rerun retries it')));
    assert.ok(app.logs.some((line) => line.includes('retrying its organizations in smaller batches')));
    assert.equal(await assertGapFree(), before + 4);
    assert.deepEqual(await listInvoices(app, broken), []);
    await app.database.execute('DROP TRIGGER refuse_line ON invoice_lines; DROP FUNCTION refuse_line();');
    const rerun = await executeBillingRun(app.app.context, systemCaller('t'), { asOf: new Date('2026-06-01T00:00:00Z') });
    assert.equal(rerun.invoicesCreated, 1);
    assert.equal(await assertGapFree(), before + 5);
  });

  it('credits are applied once, ledger and audit carry the number; issueInvoice single path', async () => {
    const orgs = await organizationsWithUsage(app, 3, '2026-07');
    for (const org of orgs) await changePlan(app, org, 'COMMUNITY');
    await app.database.query(
      `INSERT INTO credit_ledger_entries (id, organization_id, amount_minor, currency, reason, reference, description, created_at)
       VALUES (gen_random_uuid(), $1, 15, 'USD', 'adjustment', null, 'gift', '2026-07-01T00:00:00Z')`,
      [orgs[0]!.id],
    );
    app.clock.set(new Date('2026-08-01T00:00:10Z'));
    const single = await issueInvoice(app.app.context, systemCaller('t'), orgs[1]!.id, { start: new Date('2026-07-01T00:00:00Z'), end: new Date('2026-08-01T00:00:00Z') });
    assert.equal(single.outcome, 'created');
    const run = await executeBillingRun(app.app.context, systemCaller('t'), { asOf: new Date('2026-08-01T00:00:00Z') });
    assert.equal(run.invoicesCreated, 2);
    assert.equal(run.invoicesExisting, 1);
    const [invoice] = await listInvoices(app, orgs[0]!);
    const { rows } = await app.database.query<{ amount_minor: bigint; description: string; reference: string }>(
      "SELECT amount_minor, description, reference FROM credit_ledger_entries WHERE organization_id = $1 AND reason = 'invoice'", [orgs[0]!.id]);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.amount_minor, -15n);
    assert.equal(rows[0]!.reference, invoice.id);
    assert.equal(rows[0]!.description, `Invoice ${invoice.number}`);
    assert.equal(invoice.credits_applied_in_cents, 15);
    const issued = (await auditEvents(app, orgs[0]!.id)).find((event) => event.type === 'INVOICE_ISSUE');
    assert.equal(issued.changes.invoiceNumber, invoice.number);
    assert.equal(issued.changes.creditsAppliedMinor, '15');
    const again = await issueInvoice(app.app.context, systemCaller('t'), orgs[0]!.id, { start: new Date('2026-07-01T00:00:00Z'), end: new Date('2026-08-01T00:00:00Z') });
    assert.equal(again.outcome, 'exists');
    await assertGapFree();
  });
});
