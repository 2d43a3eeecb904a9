/**
 * The recurring jobs of invoicing, on the business calendar (the queue's `RecurringJob`: each occurrence is due at a
 * business instant, so they follow the test clock as they follow real time): the monthly billing run (singleton key
 * `billing-run:YYYY-MM` of the period it closes, due at the first instant of the next month; every month is closed,
 * in order, even when the clock jumps several) and the hourly payment retry sweep (one catch-up sweep after a jump).
 */
import type { AppContext } from '../../app-context.js';
import { nextPeriod, periodContaining, periodFromKey, periodKey, type BillingPeriod } from '../../domain/billing-period.js';
import { systemCaller } from '../../domain/actor.js';
import type { Occurrence, RecurringJob } from '../../jobs/job-queue.js';
import { billingRunQueue, paymentRetrySweepQueue } from '../../jobs/queues.js';
import { stringField } from '../../jobs/job-payload.js';
import type { BillingRun } from './billing-run.js';
import { startBillingRun } from './execute-billing-run.js';
import { deleteExpiredInvoiceArchives } from './invoice-archive-store.js';
import { purgeExpiredUsageReports } from '../usage-reports/open-signed-usage-report.js';
import { queueDuePaymentAttempts } from './queue-due-payment-attempts.js';

export interface BillingRunJobPayload {
  /** 'YYYY-MM' of the period the run closes. */
  periodKey: string;
}

const MS_PER_HOUR = 3_600_000;

function billingRunOccurrence(period: BillingPeriod): Occurrence {
  const key = periodKey(period);
  const payload: BillingRunJobPayload = { periodKey: key };
  return { key: `billing-run:${key}`, dueAt: nextPeriod(period).start, payload };
}

/** The monthly billing run: closes the month of its key once that month has ended. */
export const monthlyBillingRun: RecurringJob = {
  queue: billingRunQueue,
  maxAttempts: 12,
  first: (now) => billingRunOccurrence(periodContaining(now)),
  // The month after the one just closed, even if it has ended too: each month is closed, as real time would.
  next: (previousDueAt) => billingRunOccurrence(periodContaining(previousDueAt)),
};

function sweepOccurrence(after: Date): Occurrence {
  const nextHour = new Date((Math.floor(after.getTime() / MS_PER_HOUR) + 1) * MS_PER_HOUR);
  return { key: `payment-retry-sweep:${nextHour.toISOString()}`, dueAt: nextHour, payload: {} };
}

/** The hourly sweep of due payment attempts; after a jump of the clock, one sweep catches up. */
export const hourlyPaymentRetrySweep: RecurringJob = {
  queue: paymentRetrySweepQueue,
  maxAttempts: 3,
  first: (now) => sweepOccurrence(now),
  next: (_previousDueAt, now) => sweepOccurrence(now),
};

/** Queues the run that closes the current month (per the clock), due when that month ends. */
export async function ensureBillingRunScheduled(context: AppContext): Promise<{ singletonKey: string; created: boolean }> {
  const occurrence = monthlyBillingRun.first(context.clock.now());
  const created = await context.jobs.scheduleOccurrence(context.database, monthlyBillingRun, occurrence);
  return { singletonKey: occurrence.key, created };
}

/** Queues the next hourly sweep of due payment attempts. */
export async function ensurePaymentRetrySweepScheduled(context: AppContext): Promise<boolean> {
  return context.jobs.scheduleOccurrence(context.database, hourlyPaymentRetrySweep, hourlyPaymentRetrySweep.first(context.clock.now()));
}

function isBillingRunJobPayload(payload: unknown): payload is BillingRunJobPayload {
  return stringField(payload, 'periodKey') !== undefined;
}

/**
 * The scheduled run: requests the run that closes exactly the period of its key (even when it runs late), as of
 * the period's end; the run's own job does the work (and is recovered like any run if its worker dies).
 */
export async function runScheduledBillingRun(context: AppContext, payload: unknown): Promise<BillingRun> {
  if (!isBillingRunJobPayload(payload)) throw new Error(`${billingRunQueue}: payload without periodKey`);
  const period = periodFromKey(payload.periodKey);
  if (period === null) throw new Error(`${billingRunQueue}: invalid period key ${payload.periodKey}`);
  if (context.clock.now() < period.end) throw new Error(`${billingRunQueue}: period ${payload.periodKey} has not ended yet by the clock`);
  return startBillingRun(context, systemCaller('scheduler'), { asOf: period.end });
}

/** The hourly sweep: due payment attempts, and housekeeping (expired archives and usage reports, long-completed jobs). */
export async function runPaymentRetrySweep(context: AppContext): Promise<number> {
  const queued = await queueDuePaymentAttempts(context, systemCaller('scheduler'));
  await deleteExpiredInvoiceArchives(context);
  await purgeExpiredUsageReports(context);
  await context.jobs.purgeCompleted();
  return queued;
}
