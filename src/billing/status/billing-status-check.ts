/**
 * The scheduled billing-status check: an hourly recurring job on the business calendar (like the payment retry sweep)
 * that announces statuses changed by time alone, such as an invoice passing seven days unpaid or a card expiring. It looks only at organizations whose status time can move (unpaid invoices, cards) or that
 * were never announced.
 */
import sql from 'sql-template-tag';
import type { AppContext } from '../../app-context.js';
import { awaitingPaymentStatuses } from '../../domain/invoice-status.js';
import { purgeFinishedBillingEvents } from '../../events/webhook-delivery.js';
import type { Occurrence, RecurringJob } from '../../jobs/job-queue.js';
import { billingStatusCheckQueue } from '../../jobs/queues.js';
import { announceBillingStatusIn } from './billing-status-announcements.js';

const MS_PER_HOUR = 3_600_000;
const PAGE_SIZE = 500;

function checkOccurrence(after: Date): Occurrence {
  const nextHour = new Date((Math.floor(after.getTime() / MS_PER_HOUR) + 1) * MS_PER_HOUR);
  return { key: `billing-status-check:${nextHour.toISOString()}`, dueAt: nextHour, payload: {} };
}

/** Hourly on the business clock (it follows the test clock); after a jump of the clock, one check catches up. */
export const hourlyBillingStatusCheck: RecurringJob = {
  queue: billingStatusCheckQueue,
  maxAttempts: 3,
  first: (now) => checkOccurrence(now),
  next: (_previousDueAt, now) => checkOccurrence(now),
};

/** Queues the next hourly check (idempotent: one job per hour). */
export async function ensureBillingStatusCheckScheduled(context: AppContext): Promise<boolean> {
  return context.jobs.scheduleOccurrence(context.database, hourlyBillingStatusCheck, hourlyBillingStatusCheck.first(context.clock.now()));
}

/** Compares (and announces) the candidates' statuses as of now; returns how many were announced. */
export async function checkBillingStatuses(context: AppContext): Promise<number> {
  let announced = 0;
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const { rows } = await context.database.query<{ id: string }>(
      sql`SELECT o.id FROM organizations o
           WHERE o.id > ${after}::uuid
             AND (NOT EXISTS (SELECT 1 FROM billing_status_announcements a WHERE a.organization_id = o.id)
                  OR EXISTS (SELECT 1 FROM invoices i WHERE i.organization_id = o.id AND i.status = ANY(${[...awaitingPaymentStatuses]}::text[]))
                  OR EXISTS (SELECT 1 FROM payment_methods p WHERE p.organization_id = o.id)
                  OR EXISTS (SELECT 1 FROM billing_status_announcements a WHERE a.organization_id = o.id AND a.restriction = 'INVOICE_UNPAID'))
           ORDER BY o.id
           LIMIT ${PAGE_SIZE}::int`,
    );
    for (const { id } of rows) {
      try {
        if (await context.database.transaction((tx) => announceBillingStatusIn(tx, id, context.clock.now()))) announced += 1;
      } catch (error) {
        context.logger.warn({ err: error, organizationId: id }, 'billing status check failed for an organization');
      }
    }
    if (rows.length < PAGE_SIZE) return announced;
    after = rows[rows.length - 1]!.id;
  }
}

/** The recurring job: check, then forget long-finished webhook events (the queue schedules the next one). */
export async function runBillingStatusCheck(context: AppContext): Promise<number> {
  const announced = await checkBillingStatuses(context);
  await purgeFinishedBillingEvents(context.database);
  return announced;
}

/** The worker of the check (recurring: a started worker queues its first occurrence). */
export function registerBillingStatusJobs(context: AppContext): void {
  context.jobs.registerRecurring(hourlyBillingStatusCheck, async () => {
    const announced = await runBillingStatusCheck(context);
    if (announced > 0) context.logger.info({ announced }, 'billing statuses announced by the scheduled check');
  });
}
