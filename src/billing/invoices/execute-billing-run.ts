/**
 * A billing run: closes, for every organization, the last complete billing period before `asOf`. Recorded in
 * `billing_runs`. Each organization's invoice is its own transaction (a crash leaves whole invoices only) under a
 * per-organization lock, and the (organization, period) unique key makes reruns and concurrent runs harmless.
 */
import { randomUUID } from 'node:crypto';
import type { AppContext } from '../../app-context.js';
import { periodContaining, previousPeriod, type BillingPeriod } from '../../domain/billing-period.js';
import { invalidInput } from '../../errors.js';
import type { RequestContext } from '../access/actor.js';
import { issueInvoice } from './issue-invoice.js';

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
  startedAt: Date;
  finishedAt: Date;
}

export interface BillingRunOptions {
  asOf: Date;
  /** Organizations read per query. */
  batchSize?: number;
  /** Organizations invoiced at once (PostgreSQL only: PGlite has one connection). */
  concurrency?: number;
}

/** The period a run as of `asOf` closes: the month before the one containing `asOf`. */
export function periodClosedBy(asOf: Date): BillingPeriod {
  return previousPeriod(periodContaining(asOf));
}

export async function executeBillingRun(context: AppContext, request: RequestContext, options: BillingRunOptions): Promise<BillingRunSummary> {
  const { asOf } = options;
  if (Number.isNaN(asOf.getTime())) throw invalidInput([{ field: 'asOf', reason: 'format', message: 'must be a date-time' }]);
  const period = periodClosedBy(asOf);
  const startedAt = context.clock.now();
  if (period.end > startedAt) {
    throw invalidInput([
      { field: 'asOf', reason: 'future', message: `closes the period ending ${period.end.toISOString()}, which has not ended yet` },
    ]);
  }
  const batchSize = options.batchSize ?? 500;
  const concurrency = context.database.kind === 'pglite' ? 1 : Math.max(1, options.concurrency ?? 4);

  const id = randomUUID();
  await context.database.query(
    `INSERT INTO billing_runs (id, as_of, period_start, period_end, status, started_at) VALUES ($1, $2, $3, $4, 'running', $5)`,
    [id, asOf, period.start, period.end, startedAt],
  );
  const counts = { organizationsSeen: 0, invoicesCreated: 0, invoicesExisting: 0, organizationsWithoutCharges: 0, organizationsFailed: 0 };
  let failure: unknown = null;
  try {
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      // Organizations created after the period ended have nothing in it.
      const { rows } = await context.database.query<{ id: string }>(
        'SELECT id FROM organizations WHERE id > $1 AND created_at < $2 ORDER BY id LIMIT $3',
        [after, period.end, batchSize],
      );
      if (rows.length === 0) break;
      after = rows[rows.length - 1]!.id;
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < rows.length) {
          const organizationId = rows[next++]!.id;
          counts.organizationsSeen += 1;
          try {
            const result = await issueInvoice(context, request, organizationId, period);
            if (result.outcome === 'created') counts.invoicesCreated += 1;
            else if (result.outcome === 'exists') counts.invoicesExisting += 1;
            else counts.organizationsWithoutCharges += 1;
          } catch (error) {
            counts.organizationsFailed += 1;
            context.logger.error({ err: error, organizationId, billingRunId: id }, 'invoice of an organization failed; a rerun retries it');
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, rows.length) }, worker));
      if (counts.invoicesCreated > 0) context.jobs.nudge();
    }
  } catch (error) {
    failure = error;
  }

  const finishedAt = context.clock.now();
  const status = failure === null ? 'completed' : 'failed';
  await context.database.query(
    `UPDATE billing_runs SET status = $2, organizations_seen = $3, invoices_created = $4, finished_at = $5, error = $6 WHERE id = $1`,
    [
      id,
      status,
      counts.organizationsSeen,
      counts.invoicesCreated,
      finishedAt,
      failure === null
        ? counts.organizationsFailed > 0
          ? `${counts.organizationsFailed} organization(s) failed; see the logs`
          : null
        : failure instanceof Error
          ? failure.message
          : String(failure),
    ],
  );
  context.logger.info({ billingRunId: id, period: period.start.toISOString(), status, ...counts }, 'billing run finished');
  context.jobs.nudge();
  if (failure !== null) throw failure;
  return { id, asOf, period, status, ...counts, startedAt, finishedAt };
}
