/** Operators: cancel an unpaid invoice. */
import sql from 'sql-template-tag';
import type { AppContext } from '../../app-context.js';
import type { Caller } from '../../domain/actor.js';
import { statusAfterOperatorAction } from '../../domain/invoice-status.js';
import { getCreditBalance, lockCreditBalance } from '../credits/credit-balance.js';
import { recordBillingEvent } from '../../events/billing-event.js';
import { toSafeInteger } from '../../domain/money.js';
import { appendLedgerEntry } from '../credits/credit-ledger.js';
import { enterOrganization } from '../organizations/organization-access.js';
import { loadInvoice, organizationOfInvoice, type Invoice } from './invoice.js';
import { recordInvoiceStatusChange } from './invoice-status-change.js';
import { announceBillingStatusIn } from '../status/billing-status-announcements.js';

/**
 * VOIDED, with no further payment attempt; credits the invoice used are given back (an adjustment row of the
 * ledger). A paid invoice cannot be voided (409: refund it instead); voiding a voided invoice changes nothing.
 */
export async function voidInvoice(context: AppContext, caller: Caller, invoiceId: string): Promise<Invoice> {
  const now = context.clock.now();
  const organizationId = await organizationOfInvoice(context.database, invoiceId);
  return context.database.transaction(async (tx) => {
    await enterOrganization(tx, caller, { id: organizationId }, 'admin');
    const invoice = await loadInvoice(tx, organizationId, invoiceId, true);
    const status = statusAfterOperatorAction(invoice.status, 'void');
    if (status === null) return invoice;
    await tx.query(
      sql`UPDATE invoices SET status = ${status}, voided_at = ${now}::timestamptz, next_payment_attempt_at = NULL
           WHERE organization_id = ${organizationId}::uuid AND id = ${invoiceId}::uuid`,
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
      await recordBillingEvent(tx, now, {
        type: 'credits.granted',
        organizationId,
        data: {
          amount_in_cents: toSafeInteger(invoice.creditsAppliedMinor),
          currency: invoice.currency,
          source: 'invoice_voided',
          invoice_id: invoice.id,
          balance_in_cents: toSafeInteger(await getCreditBalance(tx, organizationId, invoice.currency)),
        },
      });
    }
    await recordInvoiceStatusChange(tx, caller, now, invoice, status, {
      reason: 'voided',
      ...(invoice.creditsAppliedMinor > 0n ? { creditsReturnedMinor: invoice.creditsAppliedMinor } : {}),
    });
    await announceBillingStatusIn(tx, organizationId, now);
    return { ...invoice, status, voidedAt: now, nextPaymentAttemptAt: null };
  });
}
