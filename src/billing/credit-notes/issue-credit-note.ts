/**
 * Issuing a credit note against an invoice, in the caller's transaction with the invoice row locked: numbers it from
 * the gap-free series, credits the amount with the invoice's tax in reverse, settles it (owed lowered, credits back to
 * the ledger, a refund job queued for the card part) and audits it. Voiding an invoice and the operator's partial
 * credit note both come here.
 */
import { randomUUID } from 'node:crypto';
import type { AppContext } from '../../app-context.js';
import { recordAuditEvent } from '../../audit/record-audit-event.js';
import type { Queryable } from '../../db/database.js';
import type { Caller } from '../../domain/actor.js';
import { creditableSubtotal, creditNoteAmounts, settleCreditNote, type CreditableInvoice, type CreditedSoFar } from '../../domain/credit-note.js';
import { BillingError, conflict, invalidInput } from '../../errors.js';
import sql from 'sql-template-tag';
import { getCreditBalance, lockCreditBalance } from '../credits/credit-balance.js';
import { recordBillingEvent } from '../../events/billing-event.js';
import { toSafeInteger } from '../../domain/money.js';
import { appendLedgerEntry } from '../credits/credit-ledger.js';
import type { Invoice } from '../invoices/invoice.js';
import { insertCreditNote, listCreditNotesOfInvoice, type CreditNote, type CreditNoteLine, type NewCreditNote } from './credit-note.js';
import { refundCreditNoteJob } from './refund-credit-note.js';

export const CREDIT_NOTE_ISSUE = 'CREDIT_NOTE_ISSUE';

export type CreditNoteRequest =
  /** What is left of the invoice (voiding). */
  | { kind: 'rest'; reason: string }
  /** An amount before tax, on one line saying the reason, or on lines of its own. */
  | { kind: 'amount'; reason: string; subtotalMinor: bigint }
  | { kind: 'lines'; reason: string; lines: CreditNoteLine[] };

async function creditedSoFar(tx: Queryable, invoice: Invoice): Promise<CreditedSoFar> {
  const notes = await listCreditNotesOfInvoice(tx, invoice.organizationId, invoice.id);
  const sum = (value: (note: CreditNote) => bigint) => notes.reduce((total, note) => total + value(note), 0n);
  return {
    subtotalMinor: sum((note) => note.subtotalMinor),
    taxByLine: invoice.taxLines.map((_, index) => sum((note) => note.taxLines[index]?.taxMinor ?? 0n)),
    refundedMinor: sum((note) => note.refundedMinor),
    creditsReturnedMinor: sum((note) => note.creditsReturnedMinor),
    owedReducedMinor: sum((note) => note.owedReducedMinor),
  };
}

/** The credit note, or null when `rest` finds nothing left to credit. `invoice` must be locked (FOR UPDATE). */
export async function creditInvoiceInTransaction(
  context: AppContext,
  tx: Queryable,
  caller: Caller,
  invoice: Invoice,
  request: CreditNoteRequest,
  now: Date,
): Promise<CreditNote | null> {
  // A voided invoice's credit note was issued when it was voided; what is left of it is owed by nobody.
  if (invoice.status === 'VOIDED' && request.kind !== 'rest') throw conflict('invoice_voided', 'A voided invoice has been credited already');
  const soFar = await creditedSoFar(tx, invoice);
  const creditable: CreditableInvoice = {
    subtotalMinor: invoice.subtotalMinor,
    taxLines: invoice.taxLines,
    totalMinor: invoice.totalMinor,
    creditsAppliedMinor: invoice.creditsAppliedMinor,
    paid: invoice.status === 'PAID',
  };
  const remaining = creditableSubtotal(creditable, soFar);
  const lines =
    request.kind === 'lines'
      ? request.lines
      : [{ description: request.kind === 'rest' ? `Invoice ${invoice.number}: ${request.reason}` : request.reason, amountMinor: request.kind === 'rest' ? remaining : request.subtotalMinor }];
  const subtotalMinor = lines.reduce((sum, line) => sum + line.amountMinor, 0n);
  if (request.kind === 'rest' && remaining <= 0n) return null;
  if (lines.some((line) => line.amountMinor <= 0n) || subtotalMinor <= 0n) {
    throw invalidInput([{ field: request.kind === 'lines' ? 'lines' : 'amountMinor', reason: 'minimum', message: 'must be positive' }]);
  }
  if (subtotalMinor > remaining) {
    throw new BillingError(
      'credit_exceeds_invoice',
      409,
      `Invoice ${invoice.number} has ${remaining} (minor units of ${invoice.currency}, before tax) left to credit; asked for ${subtotalMinor}`,
    );
  }

  const amounts = creditNoteAmounts(creditable, soFar, subtotalMinor);
  const settlement = settleCreditNote(creditable, soFar, amounts.totalMinor);
  const id = randomUUID();
  const note: NewCreditNote = {
    id,
    organizationId: invoice.organizationId,
    invoiceId: invoice.id,
    currency: invoice.currency,
    reason: request.reason,
    ...amounts,
    reverseCharge: invoice.reverseCharge,
    lines,
    refundedMinor: settlement.refundMinor,
    creditsReturnedMinor: settlement.creditsReturnedMinor,
    owedReducedMinor: settlement.owedReducedMinor,
    billTo: invoice.billTo,
    seller: invoice.seller,
    issuedAt: now,
  };
  const number = await insertCreditNote(tx, note);
  await tx.query(
    sql`UPDATE invoices SET credited_minor = credited_minor + ${amounts.totalMinor}::int8,
               owed_reduced_minor = owed_reduced_minor + ${settlement.owedReducedMinor}::int8
         WHERE organization_id = ${invoice.organizationId}::uuid AND id = ${invoice.id}::uuid`,
  );
  if (settlement.creditsReturnedMinor > 0n) {
    await lockCreditBalance(tx, invoice.organizationId);
    await appendLedgerEntry(tx, {
      organizationId: invoice.organizationId,
      amountMinor: settlement.creditsReturnedMinor,
      currency: invoice.currency,
      reason: 'adjustment',
      reference: id,
      description: `Credit note ${number} (invoice ${invoice.number}): credits returned`,
      createdAt: now,
    });
    await recordBillingEvent(tx, now, {
      type: 'credits.granted',
      organizationId: invoice.organizationId,
      data: {
        amount_in_cents: toSafeInteger(settlement.creditsReturnedMinor),
        currency: invoice.currency,
        source: request.kind === 'rest' ? 'invoice_voided' : 'credit_note',
        invoice_id: invoice.id,
        credit_note_id: id,
        balance_in_cents: toSafeInteger(await getCreditBalance(tx, invoice.organizationId, invoice.currency)),
      },
    });
  }
  if (settlement.refundMinor > 0n) {
    const job = refundCreditNoteJob({ organizationId: invoice.organizationId, creditNoteId: id });
    await context.jobs.enqueue(tx, job.queue, job.payload, job);
  }
  await recordAuditEvent(tx, caller, now, {
    organizationId: invoice.organizationId,
    type: CREDIT_NOTE_ISSUE,
    changes: {
      creditNoteId: id,
      creditNoteNumber: number,
      invoiceId: invoice.id,
      invoiceNumber: invoice.number,
      reason: request.reason,
      currency: invoice.currency,
      subtotalMinor: amounts.subtotalMinor,
      taxMinor: amounts.taxMinor,
      totalMinor: amounts.totalMinor,
      refundMinor: settlement.refundMinor,
      creditsReturnedMinor: settlement.creditsReturnedMinor,
      owedReducedMinor: settlement.owedReducedMinor,
    },
  });
  return { ...note, invoiceNumber: invoice.number, number, providerRefundReference: null };
}
