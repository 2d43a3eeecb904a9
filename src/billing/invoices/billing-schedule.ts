/**
 * The recurring jobs of invoicing, driven by the business clock: the monthly billing run (one job per month,
 * singleton key `billing-run:YYYY-MM` of the period it closes, due at the first instant of the next month) and the
 * hourly payment retry sweep. Each job schedules its successor; scheduling is idempotent (singleton keys), so any
 * number of processes may call it at any time.
 */
import type { AppContext } from '../../app-context.js';
import type { Clock } from '../../clock.js';
import { nextPeriod, periodContaining, periodFromKey, periodKey } from '../../domain/billing-period.js';
import { systemCaller } from '../../domain/actor.js';
import { billingRunQueue, paymentRetrySweepQueue } from '../../jobs/queues.js';
import { executeBillingRun, type BillingRunSummary } from './execute-billing-run.js';
import { deleteExpiredInvoiceArchives } from './invoice-archive-store.js';
import { purgeExpiredUsageReports } from '../usage-reports/open-signed-usage-report.js';
import { queueDuePaymentAttempts } from './queue-due-payment-attempts.js';
import { stringField } from '../../jobs/job-payload.js';

export interface BillingRunJobPayload {
  /** 'YYYY-MM' of the period the run closes. */
  periodKey: string;
}

const MS_PER_HOUR = 3_600_000;

/**
 * The job queue compares `run_at` with the database's own time; the business clock may be set elsewhere (test
 * clock). A job due at business instant `target` is due after the same delay on the queue's time.
 */
export function queueTimeFor(clock: Clock, target: Date): Date {
  const delayMs = target.getTime() - clock.now().getTime();
  return new Date(Date.now() + Math.max(0, delayMs));
}

/** Queues the run that closes the current month (per the clock), due when that month ends. */
export async function ensureBillingRunScheduled(context: AppContext): Promise<{ singletonKey: string; created: boolean }> {
  const current = periodContaining(context.clock.now());
  const key = periodKey(current);
  const singletonKey = `billing-run:${key}`;
  const payload: BillingRunJobPayload = { periodKey: key };
  const created = await context.jobs.enqueue(context.database, billingRunQueue, payload, {
    singletonKey,
    runAt: queueTimeFor(context.clock, nextPeriod(current).start),
    maxAttempts: 12,
  });
  return { singletonKey, created };
}

/** Queues the next hourly sweep of due payment attempts. */
export async function ensurePaymentRetrySweepScheduled(context: AppContext): Promise<boolean> {
  const now = context.clock.now();
  const nextHour = new Date((Math.floor(now.getTime() / MS_PER_HOUR) + 1) * MS_PER_HOUR);
  return context.jobs.enqueue(context.database, paymentRetrySweepQueue, {}, {
    singletonKey: `payment-retry-sweep:${nextHour.toISOString()}`,
    runAt: queueTimeFor(context.clock, nextHour),
    maxAttempts: 3,
  });
}

function isBillingRunJobPayload(payload: unknown): payload is BillingRunJobPayload {
  return stringField(payload, 'periodKey') !== undefined;
}

/** The scheduled run: closes exactly the period of its key (even when it runs late), then schedules the next one. */
export async function runScheduledBillingRun(context: AppContext, payload: unknown): Promise<BillingRunSummary> {
  if (!isBillingRunJobPayload(payload)) throw new Error(`${billingRunQueue}: payload without periodKey`);
  const period = periodFromKey(payload.periodKey);
  if (period === null) throw new Error(`${billingRunQueue}: invalid period key ${payload.periodKey}`);
  // As of the period's end: a late run still closes its own month, not a later one.
  if (context.clock.now() < period.end) throw new Error(`${billingRunQueue}: period ${payload.periodKey} has not ended yet by the clock`);
  const summary = await executeBillingRun(context, systemCaller('scheduler'), { asOf: period.end });
  await ensureBillingRunScheduled(context);
  return summary;
}

/** The hourly sweep: due payment attempts, and housekeeping (expired archives and usage reports, long-completed jobs). */
export async function runPaymentRetrySweep(context: AppContext): Promise<number> {
  const queued = await queueDuePaymentAttempts(context, systemCaller('scheduler'));
  await deleteExpiredInvoiceArchives(context);
  await purgeExpiredUsageReports(context);
  await context.jobs.purgeCompleted();
  await ensurePaymentRetrySweepScheduled(context);
  return queued;
}
