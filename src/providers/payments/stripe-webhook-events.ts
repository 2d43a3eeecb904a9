/**
 * Stripe's webhook events, verified with the official SDK's signature check and read into provider events.
 * Only this module knows Stripe's event shapes; the core sees `ProviderEvent`s.
 */
import Stripe from 'stripe';
import { paymentFailureMessages } from './payment-provider.js';
import {
  invoiceIdFromMetadata,
  ProviderEventSignatureError,
  type ProviderEvent,
  type ProviderPayment,
  type ProviderPaymentChange,
} from './provider-events.js';
import { cardFailureCode, fromStripeAmount } from './stripe-payment-provider.js';

/** The Stripe event types Bursar applies; every other type is acknowledged and ignored. */
export const handledStripeEventTypes = [
  'payment_intent.succeeded',
  'payment_intent.payment_failed',
  'payment_intent.requires_action',
  'charge.refunded',
  'charge.dispute.created',
] as const;

function idOf(value: string | { id: string } | null | undefined): string | null {
  if (typeof value === 'string') return value;
  return value?.id ?? null;
}

function intentPayment(intent: Stripe.PaymentIntent): ProviderPayment {
  return { paymentReference: intent.id, invoiceId: invoiceIdFromMetadata(intent.metadata) };
}

function changeOf(event: Stripe.Event): ProviderPaymentChange | null {
  switch (event.type) {
    case 'payment_intent.succeeded':
      return { kind: 'payment_succeeded', payment: intentPayment(event.data.object) };
    case 'payment_intent.payment_failed': {
      const intent = event.data.object;
      const error = intent.last_payment_error;
      // An off-session charge the issuer wants authenticated fails first with authentication_required: Bursar then
      // asks the customer to authenticate, so this says "requires action", not "failed".
      if (error?.code === 'authentication_required' || error?.decline_code === 'authentication_required') {
        return { kind: 'payment_requires_action', payment: intentPayment(intent), actionUrl: null };
      }
      const code = cardFailureCode(error?.code, error?.decline_code) ?? 'card_declined';
      // Our own wording: the provider's text is not vetted for card data.
      return { kind: 'payment_failed', payment: intentPayment(intent), code, message: paymentFailureMessages[code] };
    }
    case 'payment_intent.requires_action': {
      const intent = event.data.object;
      return { kind: 'payment_requires_action', payment: intentPayment(intent), actionUrl: intent.next_action?.redirect_to_url?.url ?? null };
    }
    case 'charge.refunded': {
      const charge = event.data.object;
      return {
        kind: 'payment_refunded',
        payment: { paymentReference: idOf(charge.payment_intent), invoiceId: invoiceIdFromMetadata(charge.metadata) },
        refundedMinor: fromStripeAmount(charge.amount_refunded, charge.currency),
        currency: charge.currency.toUpperCase(),
      };
    }
    case 'charge.dispute.created': {
      const dispute = event.data.object;
      return {
        kind: 'payment_disputed',
        payment: { paymentReference: idOf(dispute.payment_intent), invoiceId: invoiceIdFromMetadata(dispute.metadata) },
        disputeReference: dispute.id,
        amountMinor: fromStripeAmount(dispute.amount, dispute.currency),
        currency: dispute.currency.toUpperCase(),
        reason: dispute.reason,
      };
    }
    default:
      return null;
  }
}

/**
 * Verifies `Stripe-Signature` over the raw body with the endpoint's secret (the SDK's check, 5 minutes of tolerance
 * against this machine's clock) and reads the event. Throws ProviderEventSignatureError when it does not verify.
 */
export function parseStripeWebhook(rawBody: Buffer, signatureHeader: string | undefined, secret: string): ProviderEvent {
  if (!signatureHeader) throw new ProviderEventSignatureError('The Stripe-Signature header is missing');
  let event: Stripe.Event;
  try {
    event = Stripe.webhooks.constructEvent(rawBody, signatureHeader, secret);
  } catch (error) {
    if (error instanceof Stripe.errors.StripeSignatureVerificationError) {
      throw new ProviderEventSignatureError('The Stripe-Signature header does not verify this body');
    }
    throw error;
  }
  return { provider: 'stripe', id: event.id, type: event.type, change: changeOf(event) };
}
