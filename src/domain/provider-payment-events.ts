/**
 * What a payment provider's event does to an invoice. Pure: the invoice's payment state and the event in, the
 * effect out. Events may arrive late, twice or out of order; an event that would move the invoice backwards (a
 * "requires action" after the payment succeeded, say) changes nothing.
 */
import { isAwaitingPayment, type InvoiceStatus } from './invoice-status.js';

export interface InvoicePaymentState {
  status: InvoiceStatus;
  /** The payment Bursar last made for the invoice (paid, or waiting for the customer's authentication). */
  providerChargeReference: string | null;
  paymentActionUrl: string | null;
  refundedMinor: bigint;
  disputedAt: Date | null;
}

export type PaymentEvent =
  | { kind: 'payment_succeeded'; paymentReference: string | null }
  | { kind: 'payment_failed'; paymentReference: string | null }
  | { kind: 'payment_requires_action'; paymentReference: string | null; actionUrl: string | null }
  | { kind: 'payment_refunded'; paymentReference: string | null; refundedMinor: bigint }
  | { kind: 'payment_disputed'; paymentReference: string | null };

export type PaymentEventEffect =
  /** The invoice already shows it (a redelivery, or the charge call already recorded it). */
  | { kind: 'none' }
  | { kind: 'paid' }
  /** Money arrived for an invoice that is voided or was paid by another payment: it is given back. */
  | { kind: 'unapplied_payment' }
  /** PENDING on this payment until the customer authenticates it at `actionUrl`. */
  | { kind: 'awaiting_action'; actionUrl: string | null }
  /** The customer did not complete the authentication: a failed charge attempt, as a refused card is. */
  | { kind: 'authentication_failed' }
  | { kind: 'refunded'; refundedMinor: bigint }
  | { kind: 'disputed' };

/** Whether the invoice waits for the customer to authenticate exactly this payment. */
export function isAwaitingAuthenticationOf(invoice: InvoicePaymentState, paymentReference: string | null): boolean {
  return invoice.status === 'PENDING' && invoice.paymentActionUrl !== null && paymentReference !== null && invoice.providerChargeReference === paymentReference;
}

export function effectOfPaymentEvent(invoice: InvoicePaymentState, event: PaymentEvent): PaymentEventEffect {
  const samePayment = event.paymentReference !== null && invoice.providerChargeReference === event.paymentReference;
  switch (event.kind) {
    case 'payment_succeeded':
      if (invoice.status === 'PAID' && samePayment) return { kind: 'none' };
      return isAwaitingPayment(invoice.status) ? { kind: 'paid' } : { kind: 'unapplied_payment' };
    case 'payment_failed':
      // A refusal at the charge call is recorded by the charge itself; only a pending authentication fails here.
      return isAwaitingAuthenticationOf(invoice, event.paymentReference) ? { kind: 'authentication_failed' } : { kind: 'none' };
    case 'payment_requires_action': {
      if (!isAwaitingPayment(invoice.status)) return { kind: 'none' };
      const actionUrl = event.actionUrl ?? (samePayment ? invoice.paymentActionUrl : null);
      if (samePayment && invoice.status === 'PENDING' && invoice.paymentActionUrl === actionUrl) return { kind: 'none' };
      return { kind: 'awaiting_action', actionUrl };
    }
    case 'payment_refunded':
      // Refunds only grow: an older event (a smaller total) changes nothing.
      return event.refundedMinor > invoice.refundedMinor ? { kind: 'refunded', refundedMinor: event.refundedMinor } : { kind: 'none' };
    case 'payment_disputed':
      return invoice.disputedAt === null ? { kind: 'disputed' } : { kind: 'none' };
  }
}
