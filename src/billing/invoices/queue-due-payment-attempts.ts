/**
 * The dunning sweep: queues a charge for every invoiced-plan invoice that waits for its money and is due for an
 * attempt, either by its schedule (`next_payment_attempt_at` reached by the business clock) or because the
 * organization's default card is not the one the last attempt used (a card added or replaced, even after the
 * schedule is exhausted). One job per invoice and attempt number (singleton key): sweeping twice queues nothing more.
 */
import type { AppContext } from '../../app-context.js';
import { chargeInvoiceQueue } from '../../jobs/queues.js';
import type { ChargeInvoicePayload } from './issue-invoice.js';

const SWEEP_LIMIT = 5000;

export async function queueDuePaymentAttempts(context: AppContext): Promise<number> {
  const now = context.clock.now();
  // The sweep runs for every organization (a system job); each charge then reads its invoice by organization.
  const { rows } = await context.database.query<{ id: string; organization_id: string; payment_attempts: number }>(
    `SELECT i.id, i.organization_id, i.payment_attempts
       FROM invoices i
      WHERE i.plan_kind = 'invoiced' AND i.total_minor > 0
        AND i.status IN ('PENDING', 'NOT_PAID', 'PAYMENT_DUE')
        AND ((i.status IN ('PENDING', 'NOT_PAID') AND i.next_payment_attempt_at <= $1)
          OR (i.payment_attempts > 0 AND EXISTS (
                SELECT 1 FROM payment_methods pm
                 WHERE pm.organization_id = i.organization_id AND pm.is_default
                   AND pm.id IS DISTINCT FROM i.last_payment_method_id)))
      ORDER BY i.next_payment_attempt_at NULLS LAST, i.id
      LIMIT $2`,
    [now, SWEEP_LIMIT],
  );
  let queued = 0;
  for (const row of rows) {
    const attempt = row.payment_attempts + 1;
    const payload: ChargeInvoicePayload = { organizationId: row.organization_id, invoiceId: row.id, attempt };
    const created = await context.jobs.enqueue(context.database, chargeInvoiceQueue, payload, {
      singletonKey: `invoice-charge:${row.id}:${attempt}`,
      maxAttempts: 5,
    });
    if (created) queued += 1;
  }
  if (queued > 0) context.jobs.nudge();
  return queued;
}
