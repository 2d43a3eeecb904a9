/**
 * A billing run: closes, for every organization, the last complete billing period before `asOf`. Recorded in
 * `billing_runs`. Organizations are invoiced in batches, each batch one transaction (`issueInvoices`: a crash leaves
 * whole batches of whole invoices only) under per-organization locks; a few batches run at once, and the
 * (organization, period) unique key makes reruns and concurrent runs harmless.
 */
import { randomUUID } from 'node:crypto';
import sql from 'sql-template-tag';
import type { AppContext } from '../../app-context.js';
import type { Caller } from '../../domain/actor.js';
import { periodContaining, previousPeriod, type BillingPeriod } from '../../domain/billing-period.js';
import { BillingError, invalidInput } from '../../errors.js';
import { requireOperator } from '../organizations/organization-access.js';
import { issueInvoices } from './issue-invoices.js';

export interface BillingRunSummary {
  id: string;
  asOf: Date;
  period: BillingPeriod;
  status: 'completed' | 'failed';
  organizationsSeen: number;
  invoicesCreated: number;
  /** Organizations that already had their invoice for the period. */
  invoicesExisting: number;
  /** Organizations with nothing to bill: no invoice (a zero invoice is never issued). */
  organizationsWithoutCharges: number;
  /** Organizations whose invoice failed (logged); a rerun retries them. */
  organizationsFailed: number;
  /** Why, for failures the operator can fix (a BillingError's message: e.g. a seller setting to set), each once. */
  failureReasons: string[];
  startedAt: Date;
  finishedAt: Date;
}

export interface BillingRunOptions {
  asOf: Date;
  /** Organizations invoiced per transaction. */
  batchSize?: number;
  /** Batches invoiced at once (PostgreSQL only: PGlite has one connection). */
  concurrency?: number;
}

/** The period a run as of `asOf` closes: the month before the one containing `asOf`. */
export function periodClosedBy(asOf: Date): BillingPeriod {
  return previousPeriod(periodContaining(asOf));
}

export async function executeBillingRun(context: AppContext, caller: Caller, options: BillingRunOptions): Promise<BillingRunSummary> {
  requireOperator(caller, 'Billing runs');
  const { asOf } = options;
  if (Number.isNaN(asOf.getTime())) throw invalidInput([{ field: 'asOf', reason: 'format', message: 'must be a date-time' }]);
  const period = periodClosedBy(asOf);
  const startedAt = context.clock.now();
  if (period.end > startedAt) {
    throw invalidInput([
      { field: 'asOf', reason: 'future', message: `closes the period ending ${period.end.toISOString()}, which has not ended yet` },
    ]);
  }
  const batchSize = Math.max(1, options.batchSize ?? 500);
  const concurrency = context.database.kind === 'pglite' ? 1 : Math.max(1, options.concurrency ?? 4);

  const id = randomUUID();
  await context.database.query(
    sql`INSERT INTO billing_runs (id, as_of, period_start, period_end, status, started_at)
        VALUES (${id}::uuid, ${asOf}::timestamptz, ${period.start}::timestamptz, ${period.end}::timestamptz, 'running', ${startedAt}::timestamptz)`,
  );
  const counts = { organizationsSeen: 0, invoicesCreated: 0, invoicesExisting: 0, organizationsWithoutCharges: 0, organizationsFailed: 0 };
  let failure: unknown = null;
  const failureReasons = new Set<string>();

  // The next batch of organization ids, one reader at a time. Organizations created after the period ended have
  // nothing in it. A failed read ends the run (failed): the workers finish their batches and take no more.
  let after = '00000000-0000-0000-0000-000000000000';
  let exhausted = false;
  let reading: Promise<unknown> = Promise.resolve();
  const nextBatch = (): Promise<string[]> => {
    const batch = reading.then(async () => {
      if (exhausted) return [];
      try {
        const { rows } = await context.database.query<{ id: string }>(
          sql`SELECT id FROM organizations WHERE id > ${after}::uuid AND created_at < ${period.end}::timestamptz ORDER BY id LIMIT ${batchSize}`,
          { prepare: 'billing_run_next_batch' },
        );
        if (rows.length < batchSize) exhausted = true;
        if (rows.length > 0) after = rows[rows.length - 1]!.id;
        return rows.map((row) => row.id);
      } catch (error) {
        exhausted = true;
        throw error;
      }
    });
    reading = batch.catch(() => undefined);
    return batch;
  };

  const worker = async (): Promise<void> => {
    for (;;) {
      const organizationIds = await nextBatch();
      if (organizationIds.length === 0) return;
      counts.organizationsSeen += organizationIds.length;
      const outcomes = await issueInvoices(context, caller, organizationIds, period);
      let created = 0;
      for (const [organizationId, result] of outcomes) {
        if (result.outcome === 'created') created += 1;
        else if (result.outcome === 'exists') counts.invoicesExisting += 1;
        else if (result.outcome === 'nothing_to_bill') counts.organizationsWithoutCharges += 1;
        else {
          counts.organizationsFailed += 1;
          if (result.error instanceof BillingError) failureReasons.add(result.error.message);
          context.logger.error({ err: result.error, organizationId, billingRunId: id }, 'invoice of an organization failed; a rerun retries it');
        }
      }
      counts.invoicesCreated += created;
      // Progress as it goes, for the metrics of any process; the final update below writes the same totals.
      await context.database.query(
        sql`UPDATE billing_runs SET organizations_seen = organizations_seen + ${organizationIds.length}::int4,
                   invoices_created = invoices_created + ${created}::int4
             WHERE id = ${id}::uuid`,
        { prepare: 'billing_run_progress' },
      );
      if (created > 0) context.jobs.nudge();
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: concurrency }, worker));
  for (const result of settled) {
    if (result.status === 'rejected' && failure === null) failure = result.reason;
  }

  const finishedAt = context.clock.now();
  const status = failure === null ? 'completed' : 'failed';
  const error =
    failure === null
      ? counts.organizationsFailed > 0
        ? `${counts.organizationsFailed} organization(s) failed; ${failureReasons.size > 0 ? [...failureReasons].join('; ') : 'see the logs'}`
        : null
      : failure instanceof Error
        ? failure.message
        : String(failure);
  await context.database.query(
    sql`UPDATE billing_runs SET status = ${status}, organizations_seen = ${counts.organizationsSeen}, invoices_created = ${counts.invoicesCreated},
               finished_at = ${finishedAt}::timestamptz, error = ${error}
         WHERE id = ${id}::uuid`,
  );
  context.logger.info({ billingRunId: id, period: period.start.toISOString(), status, ...counts }, 'billing run finished');
  context.jobs.nudge();
  if (failure !== null) throw failure;
  return { id, asOf, period, status, ...counts, failureReasons: [...failureReasons], startedAt, finishedAt };
}
