/** Operators: a credit note for part of an invoice (an amount, or lines, before tax) with a reason. */
import type { AppContext } from '../../app-context.js';
import type { Caller } from '../../domain/actor.js';
import { isAwaitingPayment } from '../../domain/invoice-status.js';
import { invalidInput, type FieldError } from '../../errors.js';
import sql from 'sql-template-tag';
import { loadInvoice, organizationOfInvoice } from '../invoices/invoice.js';
import { recordInvoiceStatusChange } from '../invoices/invoice-status-change.js';
import { enterOrganization } from '../organizations/organization-access.js';
import { announceBillingStatusIn } from '../status/billing-status-announcements.js';
import { creditInvoiceInTransaction, type CreditNoteRequest } from './issue-credit-note.js';
import type { CreditNote } from './credit-note.js';

export interface CreditInvoiceInput {
  reason: string;
  /** Exactly one of the two: an amount before tax, or lines (each before tax). */
  amountMinor: bigint | null;
  lines: Array<{ description: string; amountMinor: bigint }> | null;
}

function requestOf(input: CreditInvoiceInput): CreditNoteRequest {
  const reason = input.reason.trim();
  const errors: FieldError[] = [];
  if (reason.length < 1 || reason.length > 500) errors.push({ field: 'reason', reason: 'length', message: 'must be 1 to 500 characters' });
  if ((input.amountMinor === null) === (input.lines === null)) {
    errors.push({ field: 'amountMinor', reason: 'required', message: 'give either an amount or lines, not both' });
  }
  if (input.lines !== null && (input.lines.length === 0 || input.lines.some((line) => line.description.trim() === ''))) {
    errors.push({ field: 'lines', reason: 'format', message: 'must be at least one line, each with a description' });
  }
  if (errors.length > 0) throw invalidInput(errors);
  return input.lines !== null
    ? { kind: 'lines', reason, lines: input.lines.map((line) => ({ description: line.description.trim(), amountMinor: line.amountMinor })) }
    : { kind: 'amount', reason, subtotalMinor: input.amountMinor! };
}

/**
 * Issues the credit note (see issue-credit-note.ts). An unpaid invoice whose amount due drops to zero is settled:
 * VOIDED when everything was credited, PAID (by credit note) otherwise.
 */
export async function creditInvoice(context: AppContext, caller: Caller, invoiceId: string, input: CreditInvoiceInput): Promise<CreditNote> {
  const request = requestOf(input);
  const now = context.clock.now();
  const organizationId = await organizationOfInvoice(context.database, invoiceId);
  const result = await context.database.transaction(async (tx) => {
    await enterOrganization(tx, caller, { id: organizationId }, 'admin');
    const invoice = await loadInvoice(tx, organizationId, invoiceId, true);
    const note = await creditInvoiceInTransaction(context, tx, caller, invoice, request, now);
    if (note === null) throw new Error('a partial credit note always credits something');
    const after = await loadInvoice(tx, organizationId, invoiceId);
    if (isAwaitingPayment(after.status) && after.totalMinor - after.owedReducedMinor === 0n) {
      const status = after.creditedMinor === after.subtotalMinor + after.taxMinor ? 'VOIDED' : 'PAID';
      await tx.query(
        sql`UPDATE invoices SET status = ${status}, next_payment_attempt_at = NULL,
                   voided_at = CASE WHEN ${status} = 'VOIDED' THEN ${now}::timestamptz ELSE voided_at END,
                   paid_at = CASE WHEN ${status} = 'PAID' THEN ${now}::timestamptz ELSE paid_at END
             WHERE organization_id = ${organizationId}::uuid AND id = ${invoiceId}::uuid`,
      );
      await recordInvoiceStatusChange(tx, caller, now, after, status, { reason: 'credit_note', creditNoteId: note.id, creditNoteNumber: note.number });
    }
    // Less owed (or credits back) may make billing valid again.
    await announceBillingStatusIn(tx, organizationId, now);
    return note;
  });
  if (result.refundedMinor > 0n) context.jobs.nudge();
  return result;
}
