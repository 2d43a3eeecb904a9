/**
 * The card part of a credit note, refunded through the payment provider by a job after the credit note committed.
 * The credit note's id is the provider's idempotency key: a retried job never refunds twice. The refund reference is
 * then stored and audited (CREDIT_NOTE_REFUND). An invoice paid outside the provider (marked paid) has no charge to
 * refund: the refund is recorded as due outside Bursar.
 */
import type { AppContext } from '../../app-context.js';
import { recordAuditEvent } from '../../audit/record-audit-event.js';
import { systemCaller } from '../../domain/actor.js';
import { stringField } from '../../jobs/job-payload.js';
import { creditNoteRefundQueue } from '../../jobs/queues.js';
import { findInvoice } from '../invoices/invoice.js';
import { findCreditNote, recordProviderRefund } from './credit-note.js';

export const CREDIT_NOTE_REFUND = 'CREDIT_NOTE_REFUND';

export interface RefundCreditNotePayload {
  organizationId: string;
  creditNoteId: string;
}

export function refundCreditNoteJob(payload: RefundCreditNotePayload) {
  return { queue: creditNoteRefundQueue, payload, singletonKey: `credit-note-refund:${payload.creditNoteId}`, maxAttempts: 8 };
}

export function isRefundCreditNotePayload(payload: unknown): payload is RefundCreditNotePayload {
  return stringField(payload, 'organizationId') !== undefined && stringField(payload, 'creditNoteId') !== undefined;
}

export type RefundOutcome = 'refunded' | 'already_refunded' | 'outside_provider' | 'nothing_to_refund';

export async function refundCreditNote(context: AppContext, payload: RefundCreditNotePayload): Promise<RefundOutcome> {
  const { organizationId, creditNoteId } = payload;
  const note = await findCreditNote(context.database, organizationId, creditNoteId);
  if (note === null || note.refundedMinor <= 0n) return 'nothing_to_refund';
  if (note.providerRefundReference !== null) return 'already_refunded';
  const invoice = await findInvoice(context.database, organizationId, note.invoiceId);
  const chargeReference = invoice?.providerChargeReference ?? null;
  const now = context.clock.now();
  if (chargeReference === null) {
    await recordAuditEvent(context.database, systemCaller('jobs'), now, {
      organizationId,
      type: CREDIT_NOTE_REFUND,
      changes: { creditNoteId, creditNoteNumber: note.number, amountMinor: note.refundedMinor, currency: note.currency, outsideProvider: true },
    });
    return 'outside_provider';
  }
  // Outside any transaction: a provider call never holds a connection. A crash after it is replayed by the key.
  const reference = await context.payments.refund(chargeReference, note.refundedMinor, `credit-note-${creditNoteId}`);
  await context.database.transaction(async (tx) => {
    await recordProviderRefund(tx, organizationId, creditNoteId, reference);
    await recordAuditEvent(tx, systemCaller('jobs'), now, {
      organizationId,
      type: CREDIT_NOTE_REFUND,
      changes: { creditNoteId, creditNoteNumber: note.number, amountMinor: note.refundedMinor, currency: note.currency, providerRefundReference: reference },
    });
  });
  return 'refunded';
}
