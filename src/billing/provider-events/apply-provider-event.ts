/**
 * Applies one payment provider event (a Stripe webhook, the sandbox's authentication page) to the invoice it is
 * about, once: the event id, the invoice's change, its audit events and the e-mail job are written in one
 * transaction. What each event does is the pure rule `effectOfPaymentEvent`.
 */
import sql from 'sql-template-tag';
import type { AppContext } from '../../app-context.js';
import { recordAuditEvent } from '../../audit/record-audit-event.js';
import type { Queryable } from '../../db/database.js';
import type { Caller } from '../../domain/actor.js';
import { statusAfterChargeAttempt, type InvoiceStatus } from '../../domain/invoice-status.js';
import { nextPaymentAttemptAt } from '../../domain/payment-retry-schedule.js';
import { effectOfPaymentEvent, type PaymentEventEffect } from '../../domain/provider-payment-events.js';
import type { ProviderEvent, ProviderPaymentChange } from '../../providers/payments/provider-events.js';
import { findInvoiceOfProviderPayment, type Invoice } from '../invoices/invoice.js';
import { recordInvoiceEvent } from '../invoices/invoice-events.js';
import { announceBillingStatusIn } from '../status/billing-status-announcements.js';
import { recordInvoiceStatusChange } from '../invoices/invoice-status-change.js';
import { invoiceEmailJob } from '../invoices/send-invoice-email.js';
import { claimProviderEvent, recordProviderEventOutcome, type ProviderEventOutcome } from './provider-event-log.js';

/** Audit type of every provider event applied to an invoice. */
export const PROVIDER_PAYMENT_EVENT = 'PROVIDER_PAYMENT_EVENT';

export interface AppliedProviderEvent {
  /** The event id was received before: nothing was done. */
  duplicate: boolean;
  outcome: ProviderEventOutcome;
  invoiceId: string | null;
}

function effectOf(invoice: Invoice, change: ProviderPaymentChange): PaymentEventEffect {
  const paymentReference = change.payment.paymentReference;
  switch (change.kind) {
    case 'payment_requires_action':
      return effectOfPaymentEvent(invoice, { kind: change.kind, paymentReference, actionUrl: change.actionUrl });
    case 'payment_refunded':
      return effectOfPaymentEvent(invoice, { kind: change.kind, paymentReference, refundedMinor: change.refundedMinor });
    default:
      return effectOfPaymentEvent(invoice, { kind: change.kind, paymentReference });
  }
}

/** Audit details of the event (money as strings of minor units). */
function eventDetails(change: ProviderPaymentChange): Record<string, unknown> {
  switch (change.kind) {
    case 'payment_failed':
      return { failureCode: change.code };
    case 'payment_requires_action':
      return { paymentActionUrl: change.actionUrl };
    case 'payment_refunded':
      return { refundedMinor: change.refundedMinor.toString(), currency: change.currency };
    case 'payment_disputed':
      return { disputeReference: change.disputeReference, disputedMinor: change.amountMinor.toString(), currency: change.currency, reason: change.reason };
    default:
      return {};
  }
}

export async function applyProviderEvent(context: AppContext, caller: Caller, event: ProviderEvent): Promise<AppliedProviderEvent> {
  const now = context.clock.now();
  const result = await context.database.transaction(async (tx) => {
    if (!(await claimProviderEvent(tx, event, now))) {
      return { duplicate: true, outcome: 'unchanged' as ProviderEventOutcome, invoiceId: null, unapplied: null };
    }
    const change = event.change;
    if (change === null) return { duplicate: false, outcome: 'ignored' as ProviderEventOutcome, invoiceId: null, unapplied: null };
    const invoice = await findInvoiceOfProviderPayment(tx, change.payment, true);
    if (invoice === null) {
      await recordProviderEventOutcome(tx, event, 'no_invoice', null);
      return { duplicate: false, outcome: 'no_invoice' as ProviderEventOutcome, invoiceId: null, unapplied: null };
    }
    const effect = effectOf(invoice, change);
    const outcome: ProviderEventOutcome = effect.kind === 'none' ? 'unchanged' : 'applied';
    await recordProviderEventOutcome(tx, event, outcome, invoice.id);
    if (effect.kind !== 'none') {
      await applyEffect(context, tx, caller, now, invoice, change, effect);
      await recordAuditEvent(tx, caller, now, {
        organizationId: invoice.organizationId,
        type: PROVIDER_PAYMENT_EVENT,
        changes: {
          invoiceId: invoice.id,
          invoiceNumber: invoice.number,
          provider: event.provider,
          eventId: event.id,
          eventType: event.type,
          paymentReference: change.payment.paymentReference,
          effect: effect.kind,
          ...eventDetails(change),
        },
      });
    }
    const unapplied = effect.kind === 'unapplied_payment' ? change.payment.paymentReference : null;
    return { duplicate: false, outcome, invoiceId: invoice.id, unapplied };
  });
  if (result.outcome === 'applied') context.jobs.nudge();
  if (result.unapplied !== null) await giveBackUnappliedPayment(context, result.unapplied, result.invoiceId);
  return { duplicate: result.duplicate, outcome: result.outcome, invoiceId: result.invoiceId };
}

async function applyEffect(
  context: AppContext,
  tx: Queryable,
  caller: Caller,
  now: Date,
  invoice: Invoice,
  change: ProviderPaymentChange,
  effect: PaymentEventEffect,
): Promise<void> {
  const where = sql`WHERE organization_id = ${invoice.organizationId}::uuid AND id = ${invoice.id}::uuid`;
  const details = { providerEvent: change.kind };
  const { organizationId, id: invoiceId } = invoice;
  switch (effect.kind) {
    case 'paid': {
      const status: InvoiceStatus = 'PAID';
      await tx.query(
        sql`UPDATE invoices SET status = ${status}, paid_at = ${now}::timestamptz, provider_charge_reference = ${change.payment.paymentReference},
                   next_payment_attempt_at = NULL, last_payment_error = NULL, payment_action_url = NULL
            ${where}`,
      );
      await recordInvoiceStatusChange(tx, caller, now, invoice, status, details);
      await announceBillingStatusIn(tx, organizationId, now);
      const email = invoiceEmailJob({ organizationId, invoiceId, kind: 'paid' });
      await context.jobs.enqueue(tx, email.queue, email.payload, email);
      return;
    }
    case 'awaiting_action': {
      const status: InvoiceStatus = 'PENDING';
      await tx.query(
        sql`UPDATE invoices SET status = ${status}, provider_charge_reference = ${change.payment.paymentReference},
                   payment_action_url = ${effect.actionUrl}, next_payment_attempt_at = NULL, last_payment_error = NULL
            ${where}`,
      );
      await recordInvoiceStatusChange(tx, caller, now, invoice, status, details);
      if (effect.actionUrl !== null) {
        const email = invoiceEmailJob({ organizationId, invoiceId, kind: 'payment_action_required', attempt: Math.max(invoice.paymentAttempts, 1) });
        await context.jobs.enqueue(tx, email.queue, email.payload, email);
      }
      return;
    }
    case 'authentication_failed': {
      // Counted as the failed attempt it was made as: the dunning schedule goes on from it.
      const attempt = Math.max(invoice.paymentAttempts, 1);
      const nextAttemptAt = nextPaymentAttemptAt(invoice.issuedAt, attempt, now);
      const status = statusAfterChargeAttempt(false, nextAttemptAt);
      const message = change.kind === 'payment_failed' ? change.message : 'The payment failed.';
      await tx.query(
        sql`UPDATE invoices SET status = ${status}, payment_attempts = ${attempt}, next_payment_attempt_at = ${nextAttemptAt}::timestamptz,
                   last_payment_error = ${message}, payment_action_url = NULL, provider_charge_reference = NULL
            ${where}`,
      );
      await recordInvoiceStatusChange(tx, caller, now, invoice, status, { ...details, paymentAttempt: attempt });
      await recordInvoiceEvent(tx, now, 'invoice.payment_failed', organizationId, invoiceId, {
        attempt,
        failure_code: change.kind === 'payment_failed' ? change.code : 'authentication_failed',
        failure_message: message,
        next_payment_attempt_at: nextAttemptAt?.toISOString() ?? null,
      });
      await announceBillingStatusIn(tx, organizationId, now);
      const email = invoiceEmailJob({ organizationId, invoiceId, kind: 'payment_failed', attempt });
      await context.jobs.enqueue(tx, email.queue, email.payload, email);
      return;
    }
    case 'refunded':
      await tx.query(sql`UPDATE invoices SET refunded_minor = ${effect.refundedMinor} ${where}`);
      return;
    case 'disputed':
      if (change.kind !== 'payment_disputed') return;
      await tx.query(
        sql`UPDATE invoices SET disputed_minor = ${change.amountMinor}, dispute_reason = ${change.reason}, disputed_at = ${now}::timestamptz
            ${where}`,
      );
      return;
    case 'unapplied_payment':
    case 'none':
      return;
  }
}

/** Money for an invoice already voided or paid otherwise is refunded, as a charge that lands after settling is. */
async function giveBackUnappliedPayment(context: AppContext, paymentReference: string, invoiceId: string | null): Promise<void> {
  try {
    await context.payments.refund(paymentReference, null);
    context.logger.warn({ invoiceId, paymentReference }, 'a payment arrived for a settled invoice; it was refunded');
  } catch (error) {
    context.logger.error({ err: error, invoiceId, paymentReference }, 'a payment arrived for a settled invoice and could not be refunded: refund it at the provider');
  }
}
