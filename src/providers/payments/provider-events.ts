/**
 * What a payment provider tells us after the fact (Stripe's webhook events, the sandbox's authentication page),
 * normalised: which payment it is about and what happened to it. Amounts are our minor units.
 */
import type { PaymentFailureCode } from './payment-provider.js';

/** How an event names the payment: the provider's reference, and our invoice id when the payment carries it. */
export interface ProviderPayment {
  /** The charge reference Bursar stores (a Stripe PaymentIntent id); null when the event does not say. */
  paymentReference: string | null;
  /** Our invoice id, from the payment's metadata; null when absent or not one of ours. */
  invoiceId: string | null;
}

export type ProviderPaymentChange =
  | { kind: 'payment_succeeded'; payment: ProviderPayment }
  | { kind: 'payment_failed'; payment: ProviderPayment; code: PaymentFailureCode; message: string }
  | { kind: 'payment_requires_action'; payment: ProviderPayment; actionUrl: string | null }
  /** `refundedMinor` is the total refunded so far on the payment (events may arrive out of order). */
  | { kind: 'payment_refunded'; payment: ProviderPayment; refundedMinor: bigint; currency: string }
  | { kind: 'payment_disputed'; payment: ProviderPayment; disputeReference: string; amountMinor: bigint; currency: string; reason: string };

export interface ProviderEvent {
  provider: 'stripe' | 'sandbox';
  /** The provider's event id: applied once. */
  id: string;
  /** The provider's own type name (e.g. `payment_intent.succeeded`). */
  type: string;
  /** Null for a type Bursar does not handle: acknowledged and ignored. */
  change: ProviderPaymentChange | null;
}

/** The provider event's signature does not verify (or is missing): answered 400, nothing applied. */
export class ProviderEventSignatureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProviderEventSignatureError';
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Our invoice id from a payment's metadata, when it is one (anything else on the account is not ours). */
export function invoiceIdFromMetadata(metadata: unknown): string | null {
  if (typeof metadata !== 'object' || metadata === null) return null;
  const value = (metadata as Record<string, unknown>)['invoice_id'];
  return typeof value === 'string' && UUID.test(value) ? value.toLowerCase() : null;
}
