/** Operators: record that an invoice was paid outside the card charge (bank transfer, …). */
import type { AppContext } from '../../app-context.js';
import { conflict } from '../../errors.js';
import { invoiceEmailQueue } from '../../jobs/queues.js';
import type { Caller } from '../../domain/actor.js';
import { authorize } from '../access/authorize.js';
import { loadInvoice, organizationOfInvoice, type Invoice } from './invoice.js';
import { recordInvoiceStatusChange } from './invoice-status-change.js';
import type { InvoiceEmailPayload } from './issue-invoice.js';

/** PAID from any unpaid status; a paid invoice stays as it is; a voided one cannot be paid (409). */
export async function markInvoicePaid(context: AppContext, request: Caller, invoiceId: string): Promise<Invoice> {
  const now = context.clock.now();
  const organizationId = await organizationOfInvoice(context.database, invoiceId);
  const result = await context.database.transaction(async (tx) => {
    await authorize(tx, request.actor, organizationId, 'administer');
    const invoice = await loadInvoice(tx, organizationId, invoiceId, true);
    if (invoice.status === 'PAID') return { invoice, changed: false };
    if (invoice.status === 'VOIDED') throw conflict('invoice_voided', 'A voided invoice cannot be marked paid');
    await tx.query(
      `UPDATE invoices SET status = 'PAID', paid_at = $3, next_payment_attempt_at = NULL WHERE organization_id = $1 AND id = $2`,
      [organizationId, invoiceId, now],
    );
    await recordInvoiceStatusChange(tx, request, now, invoice, 'PAID', { reason: 'marked_paid' });
    const email: InvoiceEmailPayload = { organizationId, invoiceId, kind: 'paid' };
    await context.jobs.enqueue(tx, invoiceEmailQueue, email, { singletonKey: `invoice-email:${invoiceId}:paid` });
    return { invoice: { ...invoice, status: 'PAID' as const, paidAt: now, nextPaymentAttemptAt: null }, changed: true };
  });
  if (result.changed) context.jobs.nudge();
  return result.invoice;
}
