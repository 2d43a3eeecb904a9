/** Operators: cancel an unpaid invoice. */
import type { AppContext } from '../../app-context.js';
import { conflict } from '../../errors.js';
import type { Caller } from '../../domain/actor.js';
import { authorize } from '../access/authorize.js';
import { lockCreditBalance } from '../credits/credit-balance.js';
import { appendLedgerEntry } from '../credits/credit-ledger.js';
import { loadInvoice, organizationOfInvoice, type Invoice } from './invoice.js';
import { recordInvoiceStatusChange } from './invoice-status-change.js';

/**
 * VOIDED, with no further payment attempt; credits the invoice used are given back (an adjustment row of the
 * ledger). A paid invoice cannot be voided (409: refund it instead); voiding a voided invoice changes nothing.
 */
export async function voidInvoice(context: AppContext, request: Caller, invoiceId: string): Promise<Invoice> {
  const now = context.clock.now();
  const organizationId = await organizationOfInvoice(context.database, invoiceId);
  return context.database.transaction(async (tx) => {
    await authorize(tx, request.actor, organizationId, 'administer');
    const invoice = await loadInvoice(tx, organizationId, invoiceId, true);
    if (invoice.status === 'VOIDED') return invoice;
    if (invoice.status === 'PAID') throw conflict('invoice_paid', 'A paid invoice cannot be voided');
    await tx.query(
      `UPDATE invoices SET status = 'VOIDED', voided_at = $3, next_payment_attempt_at = NULL WHERE organization_id = $1 AND id = $2`,
      [organizationId, invoiceId, now],
    );
    if (invoice.creditsAppliedMinor > 0n) {
      await lockCreditBalance(tx, organizationId);
      await appendLedgerEntry(tx, {
        organizationId,
        amountMinor: invoice.creditsAppliedMinor,
        currency: invoice.currency,
        reason: 'adjustment',
        reference: invoice.id,
        description: `Invoice ${invoice.number} voided: credits returned`,
        createdAt: now,
      });
    }
    await recordInvoiceStatusChange(tx, request, now, invoice, 'VOIDED', {
      reason: 'voided',
      ...(invoice.creditsAppliedMinor > 0n ? { creditsReturnedMinor: invoice.creditsAppliedMinor } : {}),
    });
    return { ...invoice, status: 'VOIDED' as const, voidedAt: now, nextPaymentAttemptAt: null };
  });
}
