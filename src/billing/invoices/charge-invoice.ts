/**
 * One charge attempt of an invoice (what credits left of it) to the organization's default card, run by a job after the
 * issuing transaction committed. The provider call happens outside any transaction; its outcome is then written in
 * one: PAID, or NOT_PAID with the next attempt of the dunning schedule, or PAYMENT_DUE once it is exhausted.
 */
import sql from 'sql-template-tag';
import type { AppContext } from '../../app-context.js';
import { recordAuditEvent } from '../../audit/record-audit-event.js';
import type { Queryable } from '../../db/database.js';
import { systemCaller } from '../../domain/actor.js';
import { isChargeable, statusAfterChargeAttempt } from '../../domain/invoice-status.js';
import { nextPaymentAttemptAt } from '../../domain/payment-retry-schedule.js';
import { publicBaseUrl, type Config } from '../../config.js';
import { fieldOf, stringField } from '../../jobs/job-payload.js';
import { chargeInvoiceQueue } from '../../jobs/queues.js';
import { PaymentProviderError } from '../../providers/payments/payment-provider.js';
import { ensureProviderCustomer } from '../payment-methods/ensure-provider-customer.js';
import { findInvoice } from './invoice.js';
import { recordInvoiceStatusChange } from './invoice-status-change.js';
import { recordInvoiceEvent } from './invoice-events.js';
import { announceBillingStatusIn } from '../status/billing-status-announcements.js';
import { invoiceEmailJob } from './send-invoice-email.js';

export const INVOICE_PAYMENT_ATTEMPT = 'INVOICE_PAYMENT_ATTEMPT';

export interface ChargeInvoicePayload {
  organizationId: string;
  invoiceId: string;
  /** 1 for the attempt at issue, then 2, 3, … */
  attempt: number;
}

/** The job of one charge attempt: at most one per invoice and attempt number, whoever queues it. */
export function chargeInvoiceJob(payload: ChargeInvoicePayload) {
  return { queue: chargeInvoiceQueue, payload, singletonKey: `invoice-charge:${payload.invoiceId}:${payload.attempt}`, maxAttempts: 5 };
}

export type ChargeOutcome =
  | { kind: 'paid'; chargeReference: string }
  /** PENDING until the customer authenticates the charge at `actionUrl`: not a failure, no retry is scheduled. */
  | { kind: 'requires_action'; chargeReference: string; actionUrl: string }
  | { kind: 'failed'; code: string; message: string }
  /** Nothing to do: paid, voided, or this attempt was already made. */
  | { kind: 'skipped' };

type AttemptResult = Exclude<ChargeOutcome, { kind: 'skipped' }>;

export function isChargeInvoicePayload(payload: unknown): payload is ChargeInvoicePayload {
  return (
    stringField(payload, 'organizationId') !== undefined &&
    stringField(payload, 'invoiceId') !== undefined &&
    Number.isInteger(fieldOf(payload, 'attempt'))
  );
}

async function defaultCard(db: Queryable, organizationId: string): Promise<{ id: string; providerReference: string } | null> {
  const { rows } = await db.query<{ id: string; provider_reference: string }>(
    sql`SELECT id, provider_reference FROM payment_methods WHERE organization_id = ${organizationId}::uuid AND is_default`,
  );
  return rows[0] ? { id: rows[0].id, providerReference: rows[0].provider_reference } : null;
}

/** Where the provider's authentication page sends the customer back: Bursar's page saying the payment is confirmed. */
export function paymentReturnUrl(config: Config): string {
  return `${publicBaseUrl(config)}/payments/authentication-complete`;
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
        // What is still owed: credit notes may have lowered it.
        amountMinor: invoice.totalMinor - invoice.owedReducedMinor,
        currency: invoice.currency,
        invoiceId: invoice.id,
        attempt,
        description: `Invoice ${invoice.number}`,
        returnUrl: paymentReturnUrl(context.config),
      });
      result =
        charge.kind === 'requires_action'
          ? { kind: 'requires_action', chargeReference: charge.chargeReference, actionUrl: charge.actionUrl }
          : { kind: 'paid', chargeReference: charge.chargeReference };
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
  if (recorded === 'superseded' && result.kind === 'requires_action') {
    context.logger.warn({ invoiceId, organizationId }, 'invoice settled while its charge waited for authentication; the pending charge is left unused');
  }
  // The provider's own event about this very charge got there first (a webhook can beat this commit): nothing to undo.
  if (recorded === 'settled_by_this_charge') return { kind: 'skipped' };
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
): Promise<'recorded' | 'superseded' | 'settled_by_this_charge'> {
  const caller = systemCaller('jobs');
  const now = context.clock.now();
  return context.database.transaction(async (tx) => {
    const invoice = await findInvoice(tx, payload.organizationId, payload.invoiceId, true);
    if (result.kind === 'paid' && invoice?.status === 'PAID' && invoice.providerChargeReference === result.chargeReference) {
      return 'settled_by_this_charge';
    }
    if (!invoice || !isChargeable(invoice) || invoice.paymentAttempts >= payload.attempt) return 'superseded';

    const nextAttemptAt = result.kind === 'failed' ? nextPaymentAttemptAt(invoice.issuedAt, payload.attempt, now) : null;
    const status = result.kind === 'requires_action' ? 'PENDING' : statusAfterChargeAttempt(result.kind === 'paid', nextAttemptAt);
    const where = sql`WHERE organization_id = ${invoice.organizationId}::uuid AND id = ${invoice.id}::uuid`;
    if (result.kind === 'requires_action') {
      // The attempt is made (its number is used) but is no failure: no retry is scheduled while the customer can
      // still authenticate; a provider event settles it (or a new default card is tried).
      await tx.query(
        sql`UPDATE invoices SET status = ${status}, provider_charge_reference = ${result.chargeReference},
                   payment_action_url = ${result.actionUrl}, payment_attempts = ${payload.attempt}, next_payment_attempt_at = NULL,
                   last_payment_error = NULL, last_payment_method_id = ${paymentMethodId}::uuid, last_payment_attempt_at = ${now}::timestamptz
            ${where}`,
      );
    } else if (result.kind === 'paid') {
      await tx.query(
        sql`UPDATE invoices SET status = ${status}, paid_at = ${now}::timestamptz, provider_charge_reference = ${result.chargeReference},
                   payment_attempts = ${payload.attempt}, next_payment_attempt_at = NULL, last_payment_error = NULL, payment_action_url = NULL,
                   last_payment_method_id = ${paymentMethodId}::uuid, last_payment_attempt_at = ${now}::timestamptz
            ${where}`,
      );
    } else {
      await tx.query(
        sql`UPDATE invoices SET status = ${status}, payment_attempts = ${payload.attempt}, next_payment_attempt_at = ${nextAttemptAt}::timestamptz,
                   payment_action_url = NULL,
                   last_payment_error = ${result.message}, last_payment_method_id = ${paymentMethodId}::uuid,
                   last_payment_attempt_at = ${now}::timestamptz
            ${where}`,
      );
    }
    await recordAuditEvent(tx, caller, now, {
      organizationId: invoice.organizationId,
      type: INVOICE_PAYMENT_ATTEMPT,
      changes: {
        invoiceId: invoice.id,
        invoiceNumber: invoice.number,
        attempt: payload.attempt,
        outcome: result.kind,
        ...(result.kind === 'failed' ? { failureCode: result.code } : { chargeReference: result.chargeReference }),
        ...(result.kind === 'requires_action' ? { paymentActionUrl: result.actionUrl } : {}),
        nextPaymentAttemptAt: nextAttemptAt?.toISOString() ?? null,
      },
    });
    await recordInvoiceStatusChange(tx, caller, now, invoice, status, { paymentAttempt: payload.attempt });
    if (result.kind === 'failed') {
      await recordInvoiceEvent(tx, now, 'invoice.payment_failed', invoice.organizationId, invoice.id, {
        attempt: payload.attempt,
        failure_code: result.code,
        failure_message: result.message,
        next_payment_attempt_at: nextAttemptAt?.toISOString() ?? null,
      });
    }
    await announceBillingStatusIn(tx, invoice.organizationId, now);

    const { organizationId, id: invoiceId } = invoice;
    const email = invoiceEmailJob(
      result.kind === 'paid'
        ? { organizationId, invoiceId, kind: 'paid' }
        : { organizationId, invoiceId, kind: result.kind === 'failed' ? 'payment_failed' : 'payment_action_required', attempt: payload.attempt },
    );
    await context.jobs.enqueue(tx, email.queue, email.payload, email);
    return 'recorded';
  });
}
