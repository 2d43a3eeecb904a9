/** Operators: void an invoice: a credit note credits what is left of it. */
import sql from 'sql-template-tag';
import type { AppContext } from '../../app-context.js';
import type { Caller } from '../../domain/actor.js';
import { statusAfterOperatorAction } from '../../domain/invoice-status.js';
import { creditInvoiceInTransaction } from '../credit-notes/issue-credit-note.js';
import { announceBillingStatusIn } from '../status/billing-status-announcements.js';
import { enterOrganization } from '../organizations/organization-access.js';
import { loadInvoice, organizationOfInvoice, type Invoice } from './invoice.js';
import { recordInvoiceStatusChange } from './invoice-status-change.js';

/**
 * VOIDED, with no further payment attempt, and a credit note for what earlier credit notes left of it: an unpaid
 * invoice is owed no more, credits it used go back to the ledger, a paid one is refunded (to the card, by a job).
 * Voiding a voided invoice changes nothing.
 */
export async function voidInvoice(context: AppContext, caller: Caller, invoiceId: string): Promise<Invoice> {
  const now = context.clock.now();
  const organizationId = await organizationOfInvoice(context.database, invoiceId);
  const result = await context.database.transaction(async (tx) => {
    await enterOrganization(tx, caller, { id: organizationId }, 'admin');
    const invoice = await loadInvoice(tx, organizationId, invoiceId, true);
    const status = statusAfterOperatorAction(invoice.status, 'void');
    if (status === null) return { invoice, refund: false };
    const creditNote = await creditInvoiceInTransaction(context, tx, caller, invoice, { kind: 'rest', reason: 'voided' }, now);
    await tx.query(
      sql`UPDATE invoices SET status = ${status}, voided_at = ${now}::timestamptz, next_payment_attempt_at = NULL
           WHERE organization_id = ${organizationId}::uuid AND id = ${invoiceId}::uuid`,
    );
    await recordInvoiceStatusChange(tx, caller, now, invoice, status, {
      reason: 'voided',
      ...(creditNote ? { creditNoteId: creditNote.id, creditNoteNumber: creditNote.number } : {}),
      ...(creditNote && creditNote.creditsReturnedMinor > 0n ? { creditsReturnedMinor: creditNote.creditsReturnedMinor } : {}),
    });
    await announceBillingStatusIn(tx, organizationId, now);
    const voided = await loadInvoice(tx, organizationId, invoiceId);
    return { invoice: voided, refund: (creditNote?.refundedMinor ?? 0n) > 0n };
  });
  if (result.refund) context.jobs.nudge();
  return result.invoice;
}
