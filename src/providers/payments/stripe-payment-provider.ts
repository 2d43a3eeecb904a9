/**
 * The Stripe adapter, on the official SDK. Our amounts are ISO 4217 minor units; Stripe's own unit differs for a
 * few currencies, so every amount crosses `toStripeAmount`. Card data goes to Stripe once, in
 * `attachPaymentMethod`, and no Stripe error text reaches our errors without the card data scrubbed out.
 */
import Stripe from 'stripe';
import { currencyDecimals, toSafeInteger } from '../../domain/money.js';
import {
  authenticationRequired,
  PaymentProviderError,
  unknownCardToken,
  type AttachedPaymentMethod,
  type CardInput,
  type ChargeRequest,
  type ChargeResult,
  type PaymentFailureCode,
  type PaymentProvider,
  type ProviderCustomerDetails,
} from './payment-provider.js';

export interface StripePaymentProviderOptions {
  secretKey: string;
  /** Another API origin, e.g. `http://127.0.0.1:12345` for a local stand-in. Defaults to https://api.stripe.com. */
  apiBaseUrl?: string;
  /** Per-request timeout in milliseconds (default 20 000). */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 20_000;
const MAX_NETWORK_RETRIES = 2;

// Stripe's own decimal places (https://docs.stripe.com/currencies): these are zero-decimal, these three-decimal,
// and every other currency is two-decimal, even where ISO/ICU says 0 (ISK, HUF, IDR, ...).
const STRIPE_ZERO_DECIMAL = new Set([
  'BIF', 'CLP', 'DJF', 'GNF', 'JPY', 'KMF', 'KRW', 'MGA', 'PYG', 'RWF', 'UGX', 'VND', 'VUV', 'XAF', 'XOF', 'XPF',
]);
const STRIPE_THREE_DECIMAL = new Set(['BHD', 'JOD', 'KWD', 'OMR', 'TND']);

/**
 * Our minor units (ICU decimals) → Stripe's `amount`. Throws RangeError for an amount Stripe cannot take exactly:
 * beyond a JSON-safe integer, finer than Stripe's unit, or a three-decimal amount not ending in 0 (a Stripe rule).
 */
export function toStripeAmount(amountMinor: bigint, currency: string): number {
  const code = currency.toUpperCase();
  const stripeDecimals = STRIPE_ZERO_DECIMAL.has(code) ? 0 : STRIPE_THREE_DECIMAL.has(code) ? 3 : 2;
  const shift = stripeDecimals - currencyDecimals(code);
  let amount = amountMinor;
  if (shift > 0) {
    amount = amountMinor * 10n ** BigInt(shift);
  } else if (shift < 0) {
    const divisor = 10n ** BigInt(-shift);
    if (amountMinor % divisor !== 0n) throw new RangeError(`${code} amount ${amountMinor} is finer than Stripe's unit`);
    amount = amountMinor / divisor;
  }
  if (stripeDecimals === 3 && amount % 10n !== 0n) {
    throw new RangeError(`Stripe requires ${code} amounts to end in 0 (got ${amount})`);
  }
  return toSafeInteger(amount);
}

/** Stripe's `amount` → our minor units (ICU decimals): the inverse of `toStripeAmount`, rounding toward zero. */
export function fromStripeAmount(amount: number, currency: string): bigint {
  const code = currency.toUpperCase();
  const stripeDecimals = STRIPE_ZERO_DECIMAL.has(code) ? 0 : STRIPE_THREE_DECIMAL.has(code) ? 3 : 2;
  const shift = currencyDecimals(code) - stripeDecimals;
  const value = BigInt(Math.trunc(amount));
  return shift >= 0 ? value * 10n ** BigInt(shift) : value / 10n ** BigInt(-shift);
}

// Stripe `code` / `decline_code` values that have a code of ours; anything else from a card error is a decline.
const CARD_CODES: Readonly<Record<string, PaymentFailureCode>> = {
  card_declined: 'card_declined',
  expired_card: 'expired_card',
  invalid_expiry_month: 'expired_card',
  invalid_expiry_year: 'expired_card',
  incorrect_cvc: 'incorrect_cvc',
  invalid_cvc: 'incorrect_cvc',
  processing_error: 'processing_error',
  incorrect_number: 'incorrect_number',
  invalid_number: 'incorrect_number',
};

export function cardFailureCode(code: string | undefined, declineCode: string | undefined): PaymentFailureCode | null {
  const fromCode = code === undefined ? undefined : CARD_CODES[code];
  // A generic `card_declined` may carry a more precise reason in decline_code.
  if (fromCode === 'card_declined' || fromCode === undefined) {
    const fromDecline = declineCode === undefined ? undefined : CARD_CODES[declineCode];
    if (fromDecline) return fromDecline;
  }
  return fromCode ?? null;
}

/** Removes anything that could be card data from text we did not write (Stripe's messages). */
function scrub(text: string, secrets: readonly string[]): string {
  let result = text.replace(/\d(?:[ -]?\d){11,18}/g, '[redacted]');
  for (const secret of secrets) {
    if (secret.length === 0) continue;
    const escaped = secret.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    result = result.replace(new RegExp(`(?<![0-9])${escaped}(?![0-9])`, 'g'), '[redacted]');
  }
  return result;
}

/**
 * A Stripe SDK error → a PaymentProviderError (card refusals, outages) or a plain Error whose message names the
 * Stripe error type, code and request id. Never passes the SDK error on as `cause`: its fields are not ours to vet.
 */
function translateError(error: unknown, action: string, secrets: readonly string[] = []): Error {
  if (error instanceof PaymentProviderError) return error;
  if (!(error instanceof Stripe.errors.StripeError)) {
    return error instanceof Error ? new Error(`Stripe ${action} failed: ${scrub(error.message, secrets)}`) : new Error(`Stripe ${action} failed`);
  }
  const mapped = cardFailureCode(error.code, error.decline_code);
  // Card problems sometimes arrive as invalid-request errors (e.g. invalid_number), so the code decides too.
  if (error instanceof Stripe.errors.StripeCardError || mapped !== null) {
    const code = mapped ?? 'card_declined';
    return new PaymentProviderError(code);
  }
  if (
    error instanceof Stripe.errors.StripeConnectionError ||
    error instanceof Stripe.errors.StripeAPIError ||
    error instanceof Stripe.errors.StripeRateLimitError
  ) {
    return new PaymentProviderError('provider_unavailable');
  }
  const parts = [error.type, error.code, error.requestId ? `request ${error.requestId}` : undefined].filter(Boolean);
  return new Error(`Stripe ${action} failed (${parts.join(', ')}): ${scrub(error.message, secrets)}`);
}

function addressParam(address: ProviderCustomerDetails['address'], clearMissing: boolean): Stripe.AddressParam | null {
  if (!address) return null;
  const fields = {
    line1: address.line1,
    line2: address.line2,
    city: address.city,
    state: address.state,
    postal_code: address.postalCode,
    country: address.country,
  };
  if (Object.values(fields).every((value) => value === null || value === '')) return null;
  const param: Stripe.AddressParam = {};
  for (const [key, value] of Object.entries(fields) as [keyof typeof fields, string | null][]) {
    // On update '' clears a line that is gone; on create a missing line is simply not sent.
    if (value !== null) param[key] = value;
    else if (clearMissing) param[key] = '';
  }
  return param;
}

function normaliseTaxValue(value: string): string {
  return value.replace(/[\s.-]/g, '').toUpperCase();
}

export class StripePaymentProvider implements PaymentProvider {
  readonly name = 'stripe' as const;
  private readonly stripe: Stripe;

  constructor(options: StripePaymentProviderOptions) {
    if (!options.secretKey) throw new Error('StripePaymentProvider needs a secretKey');
    const config: Stripe.StripeConfig = {
      maxNetworkRetries: MAX_NETWORK_RETRIES,
      timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    };
    if (options.apiBaseUrl !== undefined) {
      // The SDK takes the origin as separate host/port/protocol settings; the /v1/ path is its own.
      const url = new URL(options.apiBaseUrl);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        throw new Error(`apiBaseUrl must be http(s), got ${url.protocol}`);
      }
      if (url.pathname !== '/' || url.search !== '' || url.username !== '') {
        throw new Error('apiBaseUrl must be a bare origin such as http://127.0.0.1:12345');
      }
      const protocol = url.protocol === 'https:' ? 'https' : 'http';
      config.protocol = protocol;
      config.host = url.hostname.replace(/^\[(.*)\]$/, '$1');
      config.port = url.port || (protocol === 'https' ? 443 : 80);
    }
    this.stripe = new Stripe(options.secretKey, config);
  }

  async upsertCustomer(customerReference: string | null, details: ProviderCustomerDetails): Promise<string> {
    const metadata = { organization_id: details.organizationId };
    const taxId = details.taxId && details.taxId.value.trim() !== '' ? details.taxId : null;

    if (customerReference === null) {
      const params: Stripe.CustomerCreateParams = { metadata };
      if (details.taxExempt !== undefined) params.tax_exempt = details.taxExempt;
      if (details.email !== null) params.email = details.email;
      if (details.name !== null) params.name = details.name;
      const address = addressParam(details.address, false);
      if (address) params.address = address;
      if (taxId) params.tax_id_data = [{ type: taxId.type ?? 'eu_vat', value: taxId.value }];
      try {
        // Keyed on the organization: a retried create (timeout, crash before we stored the id) returns the same customer.
        const customer = await this.stripe.customers.create(params, {
          idempotencyKey: `customer-create-${details.organizationId}`,
        });
        return customer.id;
      } catch (error) {
        throw translateError(error, 'customer create');
      }
    }

    // '' is Stripe's way to unset a field, so whatever the organization removed disappears there too.
    const address = addressParam(details.address, true);
    const params: Stripe.CustomerUpdateParams = {
      email: details.email ?? '',
      name: details.name ?? '',
      address: address ?? '',
      metadata,
    };
    if (details.taxExempt !== undefined) params.tax_exempt = details.taxExempt;
    try {
      await this.stripe.customers.update(customerReference, params);
      await this.replaceTaxIds(customerReference, taxId);
    } catch (error) {
      throw translateError(error, 'customer update');
    }
    return customerReference;
  }

  /** Leaves exactly the wanted tax id on the customer; adds the new one before deleting the old ones. */
  private async replaceTaxIds(customerReference: string, wanted: { value: string; type: string | null } | null): Promise<void> {
    const existing = await this.stripe.customers.listTaxIds(customerReference, { limit: 100 });
    const wantedType = wanted ? (wanted.type ?? 'eu_vat') : null;
    const matches = (taxId: Stripe.TaxId): boolean =>
      wanted !== null && taxId.type === wantedType && normaliseTaxValue(taxId.value) === normaliseTaxValue(wanted.value);

    if (wanted !== null && wantedType !== null && !existing.data.some(matches)) {
      await this.stripe.customers.createTaxId(customerReference, { type: wantedType, value: wanted.value });
    }
    let keptOne = false;
    for (const taxId of existing.data) {
      if (matches(taxId) && !keptOne) {
        keptOne = true;
        continue;
      }
      await this.stripe.customers.deleteTaxId(customerReference, taxId.id);
    }
  }

  async attachPaymentMethod(customerReference: string, card: CardInput): Promise<AttachedPaymentMethod> {
    let cardParam: Stripe.PaymentMethodCreateParams.Card;
    let secrets: string[];
    if (card.kind === 'token') {
      cardParam = { token: card.token };
      secrets = [];
    } else {
      const digits = card.number.replace(/[\s-]/g, '');
      cardParam = { number: digits, cvc: card.cvv, exp_month: card.expiryMonth, exp_year: card.expiryYear };
      secrets = [digits, card.cvv];
    }

    let paymentMethod: Stripe.PaymentMethod;
    try {
      paymentMethod = await this.stripe.paymentMethods.create({ type: 'card', card: cardParam });
    } catch (error) {
      // The only object a card create refers to is the token, so "no such object" means an unknown token.
      if (card.kind === 'token' && error instanceof Stripe.errors.StripeInvalidRequestError && error.code === 'resource_missing') {
        throw unknownCardToken();
      }
      throw translateError(error, 'payment method create', secrets);
    }
    const created = paymentMethod.card;
    if (!created || !created.fingerprint) {
      throw new Error(`Stripe payment method ${paymentMethod.id} has no card fingerprint`);
    }

    let attached: Stripe.PaymentMethod;
    try {
      attached = await this.stripe.paymentMethods.attach(paymentMethod.id, { customer: customerReference });
    } catch (error) {
      throw translateError(error, 'payment method attach', secrets);
    }
    const details = attached.card ?? created;
    return {
      providerReference: attached.id,
      brand: details.brand,
      last4: details.last4,
      expiryMonth: details.exp_month,
      expiryYear: details.exp_year,
      fingerprint: details.fingerprint ?? created.fingerprint,
    };
  }

  async detachPaymentMethod(paymentMethodReference: string): Promise<void> {
    try {
      await this.stripe.paymentMethods.detach(paymentMethodReference);
    } catch (error) {
      // Detaching is retried by a job: a method that is already gone (or no longer attached) is the wanted outcome.
      if (error instanceof Stripe.errors.StripeInvalidRequestError && (error.code === 'resource_missing' || /not attached/i.test(error.message))) {
        return;
      }
      throw translateError(error, 'payment method detach');
    }
  }

  async charge(request: ChargeRequest): Promise<ChargeResult> {
    const amount = toStripeAmount(request.amountMinor, request.currency);
    let intent: Stripe.PaymentIntent;
    const idempotencyKey = `charge-${request.invoiceId}-attempt-${request.attempt ?? 1}`;
    try {
      intent = await this.stripe.paymentIntents.create(
        {
          amount,
          currency: request.currency.toLowerCase(),
          customer: request.customerReference,
          payment_method: request.paymentMethodReference,
          confirm: true,
          off_session: true,
          // Without this, confirming server-side can demand a return_url for redirect-based methods.
          automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
          description: request.description,
          metadata: { invoice_id: request.invoiceId },
        },
        { idempotencyKey },
      );
    } catch (error) {
      // Off session, a card whose issuer wants the customer to authenticate is refused with `authentication_required`:
      // not a decline. The same payment intent is confirmed again for the customer to complete on Stripe's page.
      const waiting = error instanceof Stripe.errors.StripeCardError && (error.code === 'authentication_required' || error.decline_code === 'authentication_required')
        ? error.payment_intent
        : undefined;
      if (!waiting) throw translateError(error, 'charge');
      intent = waiting;
    }
    if (intent.status === 'succeeded') return { kind: 'succeeded', chargeReference: intent.id };
    const authenticationNeeded =
      intent.status === 'requires_action' ||
      (intent.status === 'requires_payment_method' && intent.last_payment_error?.code === 'authentication_required');
    if (authenticationNeeded) return this.awaitAuthentication(intent, request, idempotencyKey);
    if (intent.status === 'requires_payment_method') throw new PaymentProviderError('card_declined');
    throw new PaymentProviderError('processing_error', `The payment did not complete (status ${intent.status}).`);
  }

  /**
   * A payment intent that needs the customer's authentication: the URL of Stripe's own authentication page (a
   * `redirect_to_url` next action), asking Stripe for one by confirming with `return_url` when it has none yet.
   */
  private async awaitAuthentication(intent: Stripe.PaymentIntent, request: ChargeRequest, idempotencyKey: string): Promise<ChargeResult> {
    const hostedPage = (candidate: Stripe.PaymentIntent): string | null =>
      candidate.status === 'requires_action' ? (candidate.next_action?.redirect_to_url?.url ?? null) : null;
    const existing = hostedPage(intent);
    if (existing !== null) return { kind: 'requires_action', chargeReference: intent.id, actionUrl: existing };
    if (request.returnUrl === undefined) {
      throw authenticationRequired();
    }
    let confirmed: Stripe.PaymentIntent;
    try {
      confirmed = await this.stripe.paymentIntents.confirm(
        intent.id,
        { payment_method: request.paymentMethodReference, return_url: request.returnUrl },
        { idempotencyKey: `${idempotencyKey}-authenticate` },
      );
    } catch (error) {
      throw translateError(error, 'charge confirmation');
    }
    if (confirmed.status === 'succeeded') return { kind: 'succeeded', chargeReference: confirmed.id };
    const url = hostedPage(confirmed);
    if (url !== null) return { kind: 'requires_action', chargeReference: confirmed.id, actionUrl: url };
    throw authenticationRequired();
  }

  async refund(chargeReference: string, amountMinor: bigint | null, idempotencyKey?: string): Promise<string> {
    const params: Stripe.RefundCreateParams = { payment_intent: chargeReference };
    if (amountMinor !== null) {
      // Our refund has no currency of its own; it is the charge's, which decides Stripe's unit.
      let currency: string;
      try {
        currency = (await this.stripe.paymentIntents.retrieve(chargeReference)).currency;
      } catch (error) {
        throw translateError(error, 'refund');
      }
      params.amount = toStripeAmount(amountMinor, currency);
    }
    let refund: Stripe.Refund;
    try {
      refund = await this.stripe.refunds.create(params, idempotencyKey === undefined ? {} : { idempotencyKey: `refund-${idempotencyKey}` });
    } catch (error) {
      throw translateError(error, 'refund');
    }
    if (refund.status === 'failed' || refund.status === 'canceled') {
      throw new Error(`Stripe refund ${refund.id} ended ${refund.status}`);
    }
    return refund.id;
  }
}
