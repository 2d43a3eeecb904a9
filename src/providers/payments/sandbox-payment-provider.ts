/**
 * An in-memory payment processor for development and tests. No network; outcomes depend only on the card
 * (the usual processor test numbers and `tok_*` tokens), so a test can script declines deterministically.
 * Card numbers and CVVs are checked and then dropped: only brand, last4, expiry and an HMAC fingerprint stay.
 */
import { createHmac, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import cardValidator from 'card-validator';
import { systemClock, type Clock } from '../../clock.js';
import { isKnownCurrency } from '../../domain/money.js';
import {
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
import { invoiceIdFromMetadata, type ProviderEvent } from './provider-events.js';

export interface SandboxPaymentProviderOptions {
  /** Per-process secret keying the card fingerprints (HMAC-SHA256), so fingerprints cannot be reversed. */
  fingerprintSecret: string;
  /** Decides whether a card has expired; defaults to the system clock. */
  clock?: Clock;
  /**
   * The sandbox's authentication page for a charge that needs it (Bursar serves it); read at each charge, so it
   * follows the public URL. Defaults to a relative path.
   */
  authenticationUrl?: (chargeReference: string) => string;
}

/** One successful charge, as the tests see it. */
export interface SandboxCharge {
  readonly chargeReference: string;
  readonly invoiceId: string;
  readonly customerReference: string;
  readonly paymentMethodReference: string;
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly description: string;
  /** Total refunded so far, in the charge's minor units. */
  readonly refundedMinor: bigint;
}

export interface SandboxRefund {
  readonly chargeReference: string;
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly refundReference: string;
}

/** What a test card does once its number is well formed. */
type CardBehaviour =
  | { kind: 'ok' }
  /** Every charge waits for the customer's authentication (strong customer authentication, 3-D Secure). */
  | { kind: 'requires_authentication' }
  | { kind: 'refuse_attach'; code: PaymentFailureCode }
  | { kind: 'refuse_charge'; code: PaymentFailureCode };

// The processor's documented test numbers; any other valid number behaves like 4242 4242 4242 4242.
const TEST_CARD_BEHAVIOURS: ReadonlyMap<string, CardBehaviour> = new Map<string, CardBehaviour>([
  ['4000000000000002', { kind: 'refuse_attach', code: 'card_declined' }],
  ['4000000000000069', { kind: 'refuse_attach', code: 'expired_card' }],
  ['4000000000000127', { kind: 'refuse_attach', code: 'incorrect_cvc' }],
  ['4000000000000119', { kind: 'refuse_attach', code: 'processing_error' }],
  ['4000000000000341', { kind: 'refuse_charge', code: 'card_declined' }],
  ['4000002500003155', { kind: 'requires_authentication' }],
]);

// Same token names as the real provider's test mode; each stands for one test card number.
const TEST_TOKENS: ReadonlyMap<string, string> = new Map([
  ['tok_visa', '4242424242424242'],
  ['tok_mastercard', '5555555555554444'],
  ['tok_amex', '378282246310005'],
  ['tok_chargeDeclined', '4000000000000002'],
  ['tok_chargeDeclinedExpiredCard', '4000000000000069'],
  ['tok_chargeDeclinedIncorrectCvc', '4000000000000127'],
  ['tok_chargeDeclinedProcessingError', '4000000000000119'],
  ['tok_chargeCustomerFail', '4000000000000341'],
  ['tok_authenticationRequired', '4000002500003155'],
]);

// card-validator's type names, renamed to the provider vocabulary (`amex`, `diners`) so both adapters agree.
const BRAND_NAMES: Readonly<Record<string, string>> = {
  'american-express': 'amex',
  'diners-club': 'diners',
};

interface StoredPaymentMethod {
  customerReference: string;
  attached: boolean;
  brand: string;
  last4: string;
  expiryMonth: number;
  expiryYear: number;
  fingerprint: string;
  behaviour: CardBehaviour;
}

interface MutableCharge {
  chargeReference: string;
  invoiceId: string;
  customerReference: string;
  paymentMethodReference: string;
  amountMinor: bigint;
  currency: string;
  description: string;
  refundedMinor: bigint;
}

function reference(prefix: string): string {
  return `${prefix}_sandbox_${randomBytes(12).toString('hex')}`;
}

function copyDetails(details: ProviderCustomerDetails): ProviderCustomerDetails {
  return {
    organizationId: details.organizationId,
    name: details.name,
    email: details.email,
    address: details.address ? { ...details.address } : null,
    taxId: details.taxId ? { ...details.taxId } : null,
    ...(details.taxExempt !== undefined ? { taxExempt: details.taxExempt } : {}),
  };
}

export class SandboxPaymentProvider implements PaymentProvider {
  readonly name = 'sandbox' as const;

  // A KeyObject rather than the string, so inspecting or logging the provider never prints the secret.
  private readonly fingerprintKey: KeyObject;
  private readonly clock: Clock;
  private readonly customerRecords = new Map<string, ProviderCustomerDetails>();
  private readonly paymentMethods = new Map<string, StoredPaymentMethod>();
  private readonly chargeRecords: MutableCharge[] = [];
  private readonly chargesByInvoice = new Map<string, MutableCharge>();
  private readonly refundRecords: SandboxRefund[] = [];
  private readonly refundsByKey = new Map<string, string>();
  /** Charges waiting for the customer's authentication, by charge reference. */
  private readonly pendingAuthentications = new Map<string, MutableCharge>();
  private readonly completedAuthentications = new Map<string, MutableCharge>();
  private readonly authenticationUrl: (chargeReference: string) => string;

  constructor(options: SandboxPaymentProviderOptions) {
    if (!options.fingerprintSecret) throw new Error('SandboxPaymentProvider needs a non-empty fingerprintSecret');
    this.fingerprintKey = createSecretKey(Buffer.from(options.fingerprintSecret, 'utf8'));
    this.clock = options.clock ?? systemClock;
    this.authenticationUrl = options.authenticationUrl ?? ((chargeReference) => `/sandbox/payments/${chargeReference}/authenticate`);
  }

  /** Successful charges in the order they were made (a retried invoice appears once). Snapshots, frozen. */
  get charges(): readonly SandboxCharge[] {
    return Object.freeze(this.chargeRecords.map((charge) => Object.freeze({ ...charge })));
  }

  get refunds(): readonly SandboxRefund[] {
    return Object.freeze(this.refundRecords.map((refund) => Object.freeze({ ...refund })));
  }

  /**
   * A customer this process created, or one a previous process created (the sandbox keeps its state in memory, the
   * organization keeps the reference in the database across restarts).
   */
  private hasCustomer(customerReference: string): boolean {
    if (this.customerRecords.has(customerReference)) return true;
    if (!/^cus_sandbox_[0-9a-f]{24}$/.test(customerReference)) return false;
    this.customerRecords.set(customerReference, {
      organizationId: '',
      name: null,
      email: null,
      address: null,
      taxId: null,
    });
    return true;
  }

  /** A payment method attached by a previous process, rebuilt from what its reference carries. */
  private restorePaymentMethod(paymentMethodReference: string, customerReference: string | null): StoredPaymentMethod | undefined {
    const match = /^pm_sandbox_[0-9a-f]{24}_([cxa])_(\d{2})(\d{4})$/.exec(paymentMethodReference);
    if (!match) return undefined;
    const restored: StoredPaymentMethod = {
      customerReference: customerReference ?? '',
      attached: true,
      brand: 'unknown',
      last4: '0000',
      expiryMonth: Number(match[2]),
      expiryYear: Number(match[3]),
      fingerprint: '',
      behaviour:
        match[1] === 'x' ? { kind: 'refuse_charge', code: 'card_declined' } : match[1] === 'a' ? { kind: 'requires_authentication' } : { kind: 'ok' },
    };
    this.paymentMethods.set(paymentMethodReference, restored);
    return restored;
  }

  /** The details last sent for a customer (a copy), or undefined when the reference is unknown. */
  customer(customerReference: string): ProviderCustomerDetails | undefined {
    const details = this.customerRecords.get(customerReference);
    return details ? copyDetails(details) : undefined;
  }

  async upsertCustomer(customerReference: string | null, details: ProviderCustomerDetails): Promise<string> {
    if (customerReference === null) {
      const created = reference('cus');
      this.customerRecords.set(created, copyDetails(details));
      return created;
    }
    if (!this.hasCustomer(customerReference)) throw new Error(`No such sandbox customer: ${customerReference}`);
    this.customerRecords.set(customerReference, copyDetails(details));
    return customerReference;
  }

  async attachPaymentMethod(customerReference: string, card: CardInput): Promise<AttachedPaymentMethod> {
    if (!this.hasCustomer(customerReference)) throw new Error(`No such sandbox customer: ${customerReference}`);

    let digits: string;
    let expiryMonth: number;
    let expiryYear: number;
    let cvv: string | null;
    if (card.kind === 'token') {
      const tokenDigits = TEST_TOKENS.get(card.token);
      if (tokenDigits === undefined) throw unknownCardToken();
      digits = tokenDigits;
      // Test tokens carry a card valid for another year, as the real provider's do.
      const now = this.clock.now();
      expiryMonth = now.getUTCMonth() + 1;
      expiryYear = now.getUTCFullYear() + 1;
      cvv = null;
    } else {
      digits = card.number.replace(/[\s-]/g, '');
      expiryMonth = card.expiryMonth;
      expiryYear = card.expiryYear;
      cvv = card.cvv;
    }

    const verification = cardValidator.number(digits);
    if (!/^\d{12,19}$/.test(digits) || !verification.isValid || !verification.card) throw new PaymentProviderError('incorrect_number');
    if (!this.isUnexpired(expiryMonth, expiryYear)) throw new PaymentProviderError('expired_card');
    if (cvv !== null && !cardValidator.cvv(cvv, verification.card.code.size).isValid) throw new PaymentProviderError('incorrect_cvc');

    const behaviour = TEST_CARD_BEHAVIOURS.get(digits) ?? { kind: 'ok' };
    if (behaviour.kind === 'refuse_attach') throw new PaymentProviderError(behaviour.code);

    const type = verification.card.type;
    const stored: StoredPaymentMethod = {
      customerReference,
      attached: true,
      brand: BRAND_NAMES[type] ?? type,
      last4: digits.slice(-4),
      expiryMonth,
      expiryYear,
      fingerprint: createHmac('sha256', this.fingerprintKey).update(digits).digest('hex'),
      behaviour,
    };
    // The reference carries what a charge needs (charge behaviour, expiry), so that a restarted process, whose
    // in-memory sandbox is empty, still charges cards attached before the restart as a real processor would.
    const chargeOutcome = behaviour.kind === 'refuse_charge' ? 'x' : behaviour.kind === 'requires_authentication' ? 'a' : 'c';
    const providerReference = `${reference('pm')}_${chargeOutcome}_${String(expiryMonth).padStart(2, '0')}${expiryYear}`;
    this.paymentMethods.set(providerReference, stored);
    return {
      providerReference,
      brand: stored.brand,
      last4: stored.last4,
      expiryMonth: stored.expiryMonth,
      expiryYear: stored.expiryYear,
      fingerprint: stored.fingerprint,
    };
  }

  async detachPaymentMethod(paymentMethodReference: string): Promise<void> {
    const method = this.paymentMethods.get(paymentMethodReference) ?? this.restorePaymentMethod(paymentMethodReference, null);
    if (!method) throw new Error(`No such sandbox payment method: ${paymentMethodReference}`);
    if (!method.attached) throw new Error(`Sandbox payment method ${paymentMethodReference} is not attached`);
    method.attached = false;
  }

  async charge(request: ChargeRequest): Promise<ChargeResult> {
    const previous = this.chargesByInvoice.get(request.invoiceId);
    if (previous) {
      // Same idempotency semantics as the real provider: a replay must carry the same parameters.
      const same =
        previous.amountMinor === request.amountMinor &&
        previous.currency === request.currency &&
        previous.customerReference === request.customerReference &&
        previous.paymentMethodReference === request.paymentMethodReference;
      if (!same) throw new Error(`Invoice ${request.invoiceId} was already charged with different parameters`);
      return { kind: 'succeeded', chargeReference: previous.chargeReference };
    }
    // A replay while the customer has not authenticated yet answers the same pending charge.
    for (const pending of this.pendingAuthentications.values()) {
      if (pending.invoiceId === request.invoiceId && pending.paymentMethodReference === request.paymentMethodReference) {
        return { kind: 'requires_action', chargeReference: pending.chargeReference, actionUrl: this.authenticationUrl(pending.chargeReference) };
      }
    }

    if (!isKnownCurrency(request.currency)) throw new Error(`Unknown currency: ${request.currency}`);
    if (request.amountMinor <= 0n) throw new Error('A charge amount must be positive');
    if (!this.hasCustomer(request.customerReference)) {
      throw new Error(`No such sandbox customer: ${request.customerReference}`);
    }
    const method =
      this.paymentMethods.get(request.paymentMethodReference) ??
      this.restorePaymentMethod(request.paymentMethodReference, request.customerReference);
    if (!method || !method.attached || method.customerReference !== request.customerReference) {
      throw new Error(`Payment method ${request.paymentMethodReference} is not attached to ${request.customerReference}`);
    }
    if (method.behaviour.kind === 'refuse_charge') throw new PaymentProviderError(method.behaviour.code);
    // A card that expired since it was attached is refused like a real processor would.
    if (!this.isUnexpired(method.expiryMonth, method.expiryYear)) throw new PaymentProviderError('expired_card');

    const charge: MutableCharge = {
      // Like the real provider's payment intents, a charge that needs authentication is named before it succeeds.
      chargeReference: reference(method.behaviour.kind === 'requires_authentication' ? 'pi' : 'ch'),
      invoiceId: request.invoiceId,
      customerReference: request.customerReference,
      paymentMethodReference: request.paymentMethodReference,
      amountMinor: request.amountMinor,
      currency: request.currency,
      description: request.description,
      refundedMinor: 0n,
    };
    if (method.behaviour.kind === 'requires_authentication') {
      this.pendingAuthentications.set(charge.chargeReference, charge);
      return { kind: 'requires_action', chargeReference: charge.chargeReference, actionUrl: this.authenticationUrl(charge.chargeReference) };
    }
    this.chargeRecords.push(charge);
    this.chargesByInvoice.set(request.invoiceId, charge);
    return { kind: 'succeeded', chargeReference: charge.chargeReference };
  }

  /** A charge waiting for its customer's authentication in this process, or null. */
  pendingAuthentication(chargeReference: string): { amountMinor: bigint; currency: string; description: string } | null {
    const pending = this.pendingAuthentications.get(chargeReference);
    return pending ? { amountMinor: pending.amountMinor, currency: pending.currency, description: pending.description } : null;
  }

  /**
   * The customer completed (or failed) the authentication of a pending charge, on the sandbox's page: the charge
   * succeeds (or is refused) and the outcome is reported as a provider event, as a real processor's webhook would.
   * Null when no such charge waits (unknown, already completed, or made by a process since restarted).
   */
  completeAuthentication(chargeReference: string, outcome: 'succeeded' | 'failed'): ProviderEvent | null {
    const charge = this.pendingAuthentications.get(chargeReference);
    if (!charge) return null;
    this.pendingAuthentications.delete(chargeReference);
    this.completedAuthentications.set(chargeReference, charge);
    const payment = { paymentReference: charge.chargeReference, invoiceId: invoiceIdFromMetadata({ invoice_id: charge.invoiceId }) };
    const id = reference('evt');
    if (outcome === 'failed') {
      return {
        provider: 'sandbox',
        id,
        type: 'payment_intent.payment_failed',
        change: { kind: 'payment_failed', payment, code: 'card_declined', message: 'The customer did not complete the authentication of the payment.' },
      };
    }
    this.chargeRecords.push(charge);
    this.chargesByInvoice.set(charge.invoiceId, charge);
    return { provider: 'sandbox', id, type: 'payment_intent.succeeded', change: { kind: 'payment_succeeded', payment } };
  }

  /** Undoes `completeAuthentication` when its event could not be applied, so the customer can try again. */
  reopenAuthentication(chargeReference: string): void {
    const charge = this.completedAuthentications.get(chargeReference);
    if (!charge) return;
    this.completedAuthentications.delete(chargeReference);
    const index = this.chargeRecords.indexOf(charge);
    if (index >= 0) this.chargeRecords.splice(index, 1);
    if (this.chargesByInvoice.get(charge.invoiceId) === charge) this.chargesByInvoice.delete(charge.invoiceId);
    this.pendingAuthentications.set(chargeReference, charge);
  }

  async refund(chargeReference: string, amountMinor: bigint | null, idempotencyKey?: string): Promise<string> {
    const replayed = idempotencyKey === undefined ? undefined : this.refundsByKey.get(idempotencyKey);
    if (replayed !== undefined) return replayed;
    const charge = this.chargeRecords.find((candidate) => candidate.chargeReference === chargeReference);
    if (!charge) throw new Error(`No such sandbox charge: ${chargeReference}`);
    const remaining = charge.amountMinor - charge.refundedMinor;
    const amount = amountMinor ?? remaining;
    if (amount <= 0n) throw new Error(amountMinor === null ? 'The charge is already fully refunded' : 'A refund amount must be positive');
    if (amount > remaining) throw new Error(`Refund of ${amount} exceeds the ${remaining} left to refund on ${chargeReference}`);
    charge.refundedMinor += amount;
    const refundReference = reference('re');
    this.refundRecords.push({ chargeReference, amountMinor: amount, currency: charge.currency, refundReference });
    if (idempotencyKey !== undefined) this.refundsByKey.set(idempotencyKey, refundReference);
    return refundReference;
  }

  /** A card is valid through the last day of its expiry month. */
  private isUnexpired(month: number, year: number): boolean {
    if (!Number.isInteger(month) || !Number.isInteger(year) || month < 1 || month > 12) return false;
    const now = this.clock.now();
    const current = now.getUTCFullYear() * 12 + now.getUTCMonth();
    return year * 12 + (month - 1) >= current;
  }
}
