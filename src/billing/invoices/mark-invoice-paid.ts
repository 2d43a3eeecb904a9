/** Operators: record that an invoice was paid outside the card charge (bank transfer, …). */
import sql from 'sql-template-tag';
import type { AppContext } from '../../app-context.js';
import type { Caller } from '../../domain/actor.js';
import { statusAfterOperatorAction } from '../../domain/invoice-status.js';
import { enterOrganization } from '../organizations/organization-access.js';
import { loadInvoice, organizationOfInvoice, type Invoice } from './invoice.js';
import { recordInvoiceStatusChange } from './invoice-status-change.js';
import { announceBillingStatusIn } from '../status/billing-status-announcements.js';
import { invoiceEmailJob } from './send-invoice-email.js';

/** PAID from any unpaid status; a paid invoice stays as it is; a voided one cannot be paid (409). */
export async function markInvoicePaid(context: AppContext, caller: Caller, invoiceId: string): Promise<Invoice> {
  const now = context.clock.now();
  const organizationId = await organizationOfInvoice(context.database, invoiceId);
  const result = await context.database.transaction(async (tx) => {
    await enterOrganization(tx, caller, { id: organizationId }, 'admin');
    const invoice = await loadInvoice(tx, organizationId, invoiceId, true);
    const status = statusAfterOperatorAction(invoice.status, 'mark_paid');
    if (status === null) return { invoice, changed: false };
    await tx.query(
      sql`UPDATE invoices SET status = ${status}, paid_at = ${now}::timestamptz, next_payment_attempt_at = NULL
           WHERE organization_id = ${organizationId}::uuid AND id = ${invoiceId}::uuid`,
    );
    await recordInvoiceStatusChange(tx, caller, now, invoice, status, { reason: 'marked_paid' });
    await announceBillingStatusIn(tx, organizationId, now);
    const email = invoiceEmailJob({ organizationId, invoiceId, kind: 'paid' });
    await context.jobs.enqueue(tx, email.queue, email.payload, email);
    return { invoice: { ...invoice, status, paidAt: now, nextPaymentAttemptAt: null }, changed: true };
  });
  if (result.changed) context.jobs.nudge();
  return result.invoice;
}
