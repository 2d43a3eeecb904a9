/**
 * The dunning sweep: queues a charge for every invoice (any plan kind) that waits for its money and is due for an
 * attempt, either by its schedule (`next_payment_attempt_at` reached by the business clock) or because the
 * organization's default card is not the one the last attempt used (a card added or replaced, even after the
 * schedule is exhausted; the job queued with the change normally did it already: this is the backstop).
 * One job per invoice and attempt number (singleton key): sweeping twice queues nothing more.
 */
import sql from 'sql-template-tag';
import type { AppContext } from '../../app-context.js';
import type { Caller } from '../../domain/actor.js';
import { awaitingPaymentStatuses, scheduledPaymentStatuses } from '../../domain/invoice-status.js';
import { requireOperator } from '../organizations/organization-access.js';
import { chargeInvoiceJob } from './charge-invoice.js';

const SWEEP_LIMIT = 5000;

export async function queueDuePaymentAttempts(context: AppContext, caller: Caller): Promise<number> {
  requireOperator(caller, 'Payment retries');
  const now = context.clock.now();
  // The sweep runs for every organization (a system job); each charge then reads its invoice by organization.
  const { rows } = await context.database.query<{ id: string; organization_id: string; payment_attempts: number }>(
    sql`SELECT i.id, i.organization_id, i.payment_attempts
          FROM invoices i
         WHERE i.total_minor > 0
           AND i.status = ANY(${[...awaitingPaymentStatuses]}::text[])
           AND ((i.status = ANY(${[...scheduledPaymentStatuses]}::text[]) AND i.next_payment_attempt_at <= ${now}::timestamptz)
             -- NOT_PAID before any attempt: a credits plan's remainder issued while it had no card
             OR ((i.payment_attempts > 0 OR i.status = 'NOT_PAID') AND EXISTS (
                   SELECT 1 FROM payment_methods pm
                    WHERE pm.organization_id = i.organization_id AND pm.is_default
                      AND pm.id IS DISTINCT FROM i.last_payment_method_id)))
         ORDER BY i.next_payment_attempt_at NULLS LAST, i.id
         LIMIT ${SWEEP_LIMIT}`,
  );
  return queueNextAttempts(context, rows);
}

/**
 * The job queued when the default card changed: the next attempt of every invoice of the organization that waits
 * for its money and was not last tried on the (new) default card, whatever its schedule says.
 */
export async function queueChargesToNewDefaultCard(context: AppContext, organizationId: string): Promise<number> {
  const { rows } = await context.database.query<{ id: string; organization_id: string; payment_attempts: number }>(
    sql`SELECT i.id, i.organization_id, i.payment_attempts
          FROM invoices i
          JOIN payment_methods pm ON pm.organization_id = i.organization_id AND pm.is_default
         WHERE i.organization_id = ${organizationId}::uuid AND i.total_minor > 0
           AND i.status = ANY(${[...awaitingPaymentStatuses]}::text[])
           AND pm.id IS DISTINCT FROM i.last_payment_method_id
         ORDER BY i.issued_at, i.id`,
  );
  return queueNextAttempts(context, rows);
}

/** One charge job per invoice, its next attempt number (a singleton: queued twice, it exists once). */
async function queueNextAttempts(
  context: AppContext,
  rows: ReadonlyArray<{ id: string; organization_id: string; payment_attempts: number }>,
): Promise<number> {
  let queued = 0;
  for (const row of rows) {
    const job = chargeInvoiceJob({ organizationId: row.organization_id, invoiceId: row.id, attempt: row.payment_attempts + 1 });
    const created = await context.jobs.enqueue(context.database, job.queue, job.payload, job);
    if (created) queued += 1;
  }
  if (queued > 0) context.jobs.nudge();
  return queued;
}
