/**
 * The payment provider boundary. Amounts are integer minor units (bigint) with an ISO 4217 currency;
 * conversion to a provider's own units happens only inside its adapter.
 * Card numbers and CVVs pass through `attachPaymentMethod` once and are never returned, stored or logged.
 */

export interface ProviderCustomerDetails {
  organizationId: string;
  /** Company name if set, else the contact name, else null (the provider then shows the e-mail only). */
  name: string | null;
  email: string | null;
  address: {
    line1: string | null;
    line2: string | null;
    city: string | null;
    state: string | null;
    postalCode: string | null;
    /** ISO 3166-1 alpha-2 */
    country: string | null;
  } | null;
  taxId: { value: string; type: string | null } | null;
  /** `reverse` when EU reverse charge applies to the customer (the provider then charges no VAT); `none` otherwise. */
  taxExempt?: 'none' | 'reverse';
}

export type CardInput =
  | { kind: 'token'; token: string }
  | { kind: 'card'; number: string; cvv: string; expiryMonth: number; expiryYear: number };

export interface AttachedPaymentMethod {
  providerReference: string;
  brand: string;
  last4: string;
  expiryMonth: number;
  expiryYear: number;
  /** Stable per card number across attachments (never the number itself): used to refuse duplicates. */
  fingerprint: string;
}

export interface ChargeRequest {
  customerReference: string;
  paymentMethodReference: string;
  amountMinor: bigint;
  currency: string;
  /** Our invoice id: with `attempt`, the provider-side idempotency key, so a retried call never charges twice. */
  invoiceId: string;
  /**
   * The dunning attempt (1 at issue, then 2, 3, …; default 1). A retry of the same attempt replays its outcome; a
   * new attempt after a recorded failure is a new charge request (the provider keeps a declined answer under its key).
   */
  attempt?: number;
  description: string;
  /**
   * Where the provider's authentication page sends the customer back after strong customer authentication
   * (a Bursar page); providers that host no such page ignore it.
   */
  returnUrl?: string;
}

/**
 * A charge either succeeded, or waits for the customer to authenticate it (strong customer authentication, 3-D
 * Secure): that is not a refusal. `actionUrl` is the page where the customer completes it; the outcome then arrives
 * as a provider event (`payment_succeeded` or `payment_failed`) naming `chargeReference`.
 */
export type ChargeResult =
  | { kind: 'succeeded'; chargeReference: string }
  | { kind: 'requires_action'; chargeReference: string; actionUrl: string };

/** Provider refusals normalised to stable codes; answered as HTTP 402. */
export type PaymentFailureCode =
  | 'card_declined'
  | 'expired_card'
  | 'incorrect_cvc'
  | 'processing_error'
  | 'incorrect_number'
  | 'provider_unavailable';

/** What a person is told for each refusal, whichever provider refused: the adapters pass their own text only when it says more. */
export const paymentFailureMessages: Readonly<Record<PaymentFailureCode, string>> = {
  card_declined: 'The card was declined.',
  expired_card: 'The card has expired.',
  incorrect_cvc: "The card's security code is incorrect.",
  processing_error: 'An error occurred while processing the card. Try again later.',
  incorrect_number: 'The card number is incorrect.',
  provider_unavailable: 'The payment provider is unavailable. Try again later.',
};

export class PaymentProviderError extends Error {
  constructor(
    readonly code: PaymentFailureCode,
    message: string = paymentFailureMessages[code],
  ) {
    super(message);
    this.name = 'PaymentProviderError';
  }
}

/** A token the provider never issued (or one of another account). */
export const unknownCardToken = (): PaymentProviderError => new PaymentProviderError('incorrect_number', 'Unknown card token');

/** A charge the card issuer wants the customer to authenticate, when no page for that can be offered. */
export const authenticationRequired = (): PaymentProviderError =>
  new PaymentProviderError('card_declined', 'The card issuer requires the customer to authenticate this payment.');

export interface PaymentProvider {
  readonly name: 'sandbox' | 'stripe';
  /** Creates the customer when `customerReference` is null, updates it otherwise; returns the reference. */
  upsertCustomer(customerReference: string | null, details: ProviderCustomerDetails): Promise<string>;
  attachPaymentMethod(customerReference: string, card: CardInput): Promise<AttachedPaymentMethod>;
  detachPaymentMethod(paymentMethodReference: string): Promise<void>;
  charge(request: ChargeRequest): Promise<ChargeResult>;
  /**
   * Refunds `amountMinor` (null: what is left) of a charge; returns the provider's refund reference. With an
   * `idempotencyKey` (a credit note's), a retried call refunds once and answers the same refund.
   */
  refund(chargeReference: string, amountMinor: bigint | null, idempotencyKey?: string): Promise<string>;
}
