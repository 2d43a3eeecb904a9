/**
 * One charge attempt of an invoiced-plan invoice to the organization's default card, run by a job after the
 * issuing transaction committed. The provider call happens outside any transaction; its outcome is then written in
 * one: PAID, or NOT_PAID with the next attempt of the dunning schedule, or PAYMENT_DUE once it is exhausted.
 */
import type { AppContext } from '../../app-context.js';
import { recordAuditEvent } from '../../audit/record-audit-event.js';
import type { Queryable } from '../../db/database.js';
import { nextPaymentAttemptAt } from '../../domain/payment-retry-schedule.js';
import { fieldOf, stringField } from '../../jobs/job-payload.js';
import { invoiceEmailQueue } from '../../jobs/queues.js';
import { PaymentProviderError } from '../../providers/payments/payment-provider.js';
import { systemCaller } from '../../domain/actor.js';
import { ensureProviderCustomer } from '../payment-methods/ensure-provider-customer.js';
import { awaitingPaymentStatuses, findInvoice, type Invoice, type InvoiceStatus } from './invoice.js';
import { recordInvoiceStatusChange } from './invoice-status-change.js';
import type { ChargeInvoicePayload, InvoiceEmailPayload } from './issue-invoice.js';

export const INVOICE_PAYMENT_ATTEMPT = 'INVOICE_PAYMENT_ATTEMPT';

export type ChargeOutcome =
  | { kind: 'paid'; chargeReference: string }
  | { kind: 'failed'; code: string; message: string }
  /** Nothing to do: paid, voided, or this attempt was already made. */
  | { kind: 'skipped' };

type AttemptResult = { kind: 'paid'; chargeReference: string } | { kind: 'failed'; code: string; message: string };

export function isChargeInvoicePayload(payload: unknown): payload is ChargeInvoicePayload {
  return (
    stringField(payload, 'organizationId') !== undefined &&
    stringField(payload, 'invoiceId') !== undefined &&
    Number.isInteger(fieldOf(payload, 'attempt'))
  );
}

function isChargeable(invoice: Invoice): boolean {
  return invoice.planKind === 'invoiced' && invoice.totalMinor > 0n && awaitingPaymentStatuses.includes(invoice.status);
}

async function defaultCard(db: Queryable, organizationId: string): Promise<{ id: string; providerReference: string } | null> {
  const { rows } = await db.query<{ id: string; provider_reference: string }>(
    'SELECT id, provider_reference FROM payment_methods WHERE organization_id = $1 AND is_default',
    [organizationId],
  );
  return rows[0] ? { id: rows[0].id, providerReference: rows[0].provider_reference } : null;
}

/**
 * `job` tells whether the queue will retry this job: an unexpected error (not a refusal by the provider) is
 * rethrown while retries remain, and counts as a failed attempt on the last one, so the invoice never stays PENDING.
 */
export async function chargeInvoice(
  context: AppContext,
  payload: ChargeInvoicePayload,
  job: { attempts: number; max_attempts: number } = { attempts: 1, max_attempts: 1 },
): Promise<ChargeOutcome> {
  const { organizationId, invoiceId, attempt } = payload;
  const invoice = await findInvoice(context.database, organizationId, invoiceId);
  if (!invoice || !isChargeable(invoice) || invoice.paymentAttempts >= attempt) return { kind: 'skipped' };

  const card = await defaultCard(context.database, organizationId);
  let result: AttemptResult;
  if (card === null) {
    result = { kind: 'failed', code: 'no_payment_method', message: 'No credit card is set as the default payment method.' };
  } else {
    try {
      const customerReference = await ensureProviderCustomer(context, organizationId);
      const charge = await context.payments.charge({
        customerReference,
        paymentMethodReference: card.providerReference,
        amountMinor: invoice.totalMinor,
        currency: invoice.currency,
        invoiceId: invoice.id,
        attempt,
        description: `Invoice ${invoice.number}`,
      });
      result = { kind: 'paid', chargeReference: charge.chargeReference };
    } catch (error) {
      if (error instanceof PaymentProviderError) {
        result = { kind: 'failed', code: error.code, message: error.message };
      } else if (job.attempts < job.max_attempts) {
        throw error;
      } else {
        context.logger.error({ err: error, invoiceId, organizationId }, 'invoice charge failed unexpectedly; counted as a failed attempt');
        result = { kind: 'failed', code: 'processing_error', message: 'The payment could not be processed. It will be tried again.' };
      }
    }
  }

  const recorded = await recordAttempt(context, payload, card?.id ?? null, result);
  if (recorded === 'superseded' && result.kind === 'paid') {
    // Paid or voided by an operator while the provider charged the card: give the money back.
    await context.payments.refund(result.chargeReference, null);
    context.logger.warn({ invoiceId, organizationId }, 'invoice settled during its charge; the charge was refunded');
    return { kind: 'skipped' };
  }
  if (recorded === 'superseded') return { kind: 'skipped' };
  context.jobs.nudge();
  return result;
}

async function recordAttempt(
  context: AppContext,
  payload: ChargeInvoicePayload,
  paymentMethodId: string | null,
  result: AttemptResult,
): Promise<'recorded' | 'superseded'> {
  const request = systemCaller('jobs');
  const now = context.clock.now();
  return context.database.transaction(async (tx) => {
    const invoice = await findInvoice(tx, payload.organizationId, payload.invoiceId, true);
    if (!invoice || !isChargeable(invoice) || invoice.paymentAttempts >= payload.attempt) return 'superseded';

    let status: InvoiceStatus;
    let nextAttemptAt: Date | null = null;
    if (result.kind === 'paid') {
      status = 'PAID';
      await tx.query(
        `UPDATE invoices SET status = 'PAID', paid_at = $3, provider_charge_reference = $4, payment_attempts = $5,
                next_payment_attempt_at = NULL, last_payment_error = NULL, last_payment_method_id = $6, last_payment_attempt_at = $3
          WHERE organization_id = $1 AND id = $2`,
        [invoice.organizationId, invoice.id, now, result.chargeReference, payload.attempt, paymentMethodId],
      );
    } else {
      nextAttemptAt = nextPaymentAttemptAt(invoice.issuedAt, payload.attempt);
      status = nextAttemptAt === null ? 'PAYMENT_DUE' : 'NOT_PAID';
      await tx.query(
        `UPDATE invoices SET status = $3, payment_attempts = $4, next_payment_attempt_at = $5, last_payment_error = $6,
                last_payment_method_id = $7, last_payment_attempt_at = $8
          WHERE organization_id = $1 AND id = $2`,
        [invoice.organizationId, invoice.id, status, payload.attempt, nextAttemptAt, result.message, paymentMethodId, now],
      );
    }
    await recordAuditEvent(tx, request, now, {
      organizationId: invoice.organizationId,
      type: INVOICE_PAYMENT_ATTEMPT,
      changes: {
        invoiceId: invoice.id,
        invoiceNumber: invoice.number,
        attempt: payload.attempt,
        outcome: result.kind,
        ...(result.kind === 'failed' ? { failureCode: result.code } : { chargeReference: result.chargeReference }),
        nextPaymentAttemptAt: nextAttemptAt?.toISOString() ?? null,
      },
    });
    await recordInvoiceStatusChange(tx, request, now, invoice, status, { paymentAttempt: payload.attempt });

    const email: InvoiceEmailPayload =
      result.kind === 'paid'
        ? { organizationId: invoice.organizationId, invoiceId: invoice.id, kind: 'paid' }
        : { organizationId: invoice.organizationId, invoiceId: invoice.id, kind: 'payment_failed', attempt: payload.attempt };
    const key = result.kind === 'paid' ? `invoice-email:${invoice.id}:paid` : `invoice-email:${invoice.id}:payment_failed:${payload.attempt}`;
    await context.jobs.enqueue(tx, invoiceEmailQueue, email, { singletonKey: key });
    return 'recorded';
  });
}
