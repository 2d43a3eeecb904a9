import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { SettableClock } from '../../src/clock.js';
import { PaymentProviderError, type CardInput, type PaymentFailureCode, type ProviderCustomerDetails } from '../../src/providers/payments/payment-provider.js';
import { SandboxPaymentProvider } from '../../src/providers/payments/sandbox-payment-provider.js';

const SECRET = 'test-fingerprint-secret';
const CVV = '987';

function details(overrides: Partial<ProviderCustomerDetails> = {}): ProviderCustomerDetails {
  return {
    organizationId: 'org_1',
    name: 'Acme GmbH',
    email: 'billing@acme.test',
    address: { line1: 'Hauptstr. 1', line2: null, city: 'Berlin', state: null, postalCode: '10115', country: 'DE' },
    taxId: { value: 'DE123456789', type: 'eu_vat' },
    ...overrides,
  };
}

function card(number: string, cvv = CVV, expiryMonth = 12, expiryYear = 2030): CardInput {
  return { kind: 'card', number, cvv, expiryMonth, expiryYear };
}

function fixedClock(): SettableClock {
  const clock = new SettableClock();
  clock.set(new Date('2026-03-15T12:00:00Z'));
  return clock;
}

async function setup(): Promise<{ provider: SandboxPaymentProvider; customer: string }> {
  const provider = new SandboxPaymentProvider({ fingerprintSecret: SECRET, clock: fixedClock() });
  const customer = await provider.upsertCustomer(null, details());
  return { provider, customer };
}

/** Runs `action`, asserts a PaymentProviderError with `code`, returns it. */
async function refusal(action: () => Promise<unknown>, code: PaymentFailureCode): Promise<PaymentProviderError> {
  try {
    await action();
  } catch (error) {
    assert.ok(error instanceof PaymentProviderError, `expected PaymentProviderError, got ${String(error)}`);
    assert.equal(error.code, code);
    return error;
  }
  assert.fail(`expected a ${code} refusal`);
}

describe('SandboxPaymentProvider', () => {
  it('charges cards attached before a restart (a new provider instance) from what their references carry', async () => {
    const { provider, customer } = await setup();
    const good = await provider.attachPaymentMethod(customer, card('4242424242424242'));
    const failing = await provider.attachPaymentMethod(customer, card('4000000000000341'));
    const restarted = new SandboxPaymentProvider({ fingerprintSecret: 'another-process' });
    const charge = await restarted.charge({
      customerReference: customer,
      paymentMethodReference: good.providerReference,
      amountMinor: 500n,
      currency: 'USD',
      invoiceId: 'inv_after_restart',
      description: 'after restart',
    });
    assert.match(charge.chargeReference, /^ch_sandbox_/);
    await assert.rejects(
      restarted.charge({
        customerReference: customer,
        paymentMethodReference: failing.providerReference,
        amountMinor: 500n,
        currency: 'USD',
        invoiceId: 'inv_after_restart_2',
        description: 'after restart',
      }),
      (error: unknown) => error instanceof PaymentProviderError && error.code === 'card_declined',
    );
    await assert.rejects(restarted.upsertCustomer('cus_not_ours', { organizationId: 'o', name: null, email: null, address: null, taxId: null }));
  });

  it('is named sandbox and hands out sandbox references', async () => {
    const { provider, customer } = await setup();
    assert.equal(provider.name, 'sandbox');
    assert.match(customer, /^cus_sandbox_[0-9a-f]+$/);
    const pm = await provider.attachPaymentMethod(customer, card('4242424242424242'));
    assert.match(pm.providerReference, /^pm_sandbox_[0-9a-f]+_c_\d{6}$/);
    const charge = await provider.charge({
      customerReference: customer,
      paymentMethodReference: pm.providerReference,
      amountMinor: 1000n,
      currency: 'EUR',
      invoiceId: 'inv_1',
      description: 'Invoice 1',
    });
    assert.match(charge.chargeReference, /^ch_sandbox_[0-9a-f]+$/);
  });

  it('creates and updates customers', async () => {
    const { provider, customer } = await setup();
    assert.equal(provider.customer(customer)?.name, 'Acme GmbH');
    const same = await provider.upsertCustomer(customer, details({ name: null, address: null, taxId: null }));
    assert.equal(same, customer);
    assert.deepEqual(provider.customer(customer), details({ name: null, address: null, taxId: null }));
    await assert.rejects(provider.upsertCustomer('cus_sandbox_missing', details()), /No such sandbox customer/);
  });

  it('accepts valid card numbers with the brand card-validator detects', async () => {
    const { provider, customer } = await setup();
    const cases: [string, string, string, string][] = [
      ['4242 4242 4242 4242', '123', 'visa', '4242'],
      ['5555 5555 5555 4444', '123', 'mastercard', '4444'],
      ['3782 822463 10005', '1234', 'amex', '0005'],
      ['6011111111111117', '123', 'discover', '1117'],
    ];
    for (const [number, cvv, brand, last4] of cases) {
      const pm = await provider.attachPaymentMethod(customer, card(number, cvv, 4, 2029));
      assert.equal(pm.brand, brand, number);
      assert.equal(pm.last4, last4);
      assert.equal(pm.expiryMonth, 4);
      assert.equal(pm.expiryYear, 2029);
      assert.match(pm.fingerprint, /^[0-9a-f]{64}$/);
    }
  });

  it('refuses the decline test cards when attaching', async () => {
    const { provider, customer } = await setup();
    const cases: [string, PaymentFailureCode][] = [
      ['4000000000000002', 'card_declined'],
      ['4000000000000069', 'expired_card'],
      ['4000000000000127', 'incorrect_cvc'],
      ['4000000000000119', 'processing_error'],
    ];
    for (const [number, code] of cases) {
      await refusal(() => provider.attachPaymentMethod(customer, card(number)), code);
    }
  });

  it('refuses malformed cards: bad Luhn, past expiry, wrong CVV length', async () => {
    const { provider, customer } = await setup();
    await refusal(() => provider.attachPaymentMethod(customer, card('4242424242424241')), 'incorrect_number');
    await refusal(() => provider.attachPaymentMethod(customer, card('4242abcd42424242')), 'incorrect_number');
    await refusal(() => provider.attachPaymentMethod(customer, card('4242424242424242', CVV, 2, 2026)), 'expired_card');
    await refusal(() => provider.attachPaymentMethod(customer, card('4242424242424242', CVV, 13, 2030)), 'expired_card');
    await refusal(() => provider.attachPaymentMethod(customer, card('4242424242424242', '12')), 'incorrect_cvc');
    await refusal(() => provider.attachPaymentMethod(customer, card('378282246310005', '123')), 'incorrect_cvc');
    // The current month is still valid.
    await provider.attachPaymentMethod(customer, card('4242424242424242', CVV, 3, 2026));
  });

  it('attaches 4000 0000 0000 0341 but declines every charge on it', async () => {
    const { provider, customer } = await setup();
    const pm = await provider.attachPaymentMethod(customer, card('4000000000000341'));
    for (const invoiceId of ['inv_a', 'inv_a', 'inv_b']) {
      await refusal(
        () =>
          provider.charge({
            customerReference: customer,
            paymentMethodReference: pm.providerReference,
            amountMinor: 500n,
            currency: 'USD',
            invoiceId,
            description: 'x',
          }),
        'card_declined',
      );
    }
    assert.equal(provider.charges.length, 0);
  });

  it('accepts the provider test tokens', async () => {
    const { provider, customer } = await setup();
    const ok: [string, string, string][] = [
      ['tok_visa', 'visa', '4242'],
      ['tok_mastercard', 'mastercard', '4444'],
      ['tok_amex', 'amex', '0005'],
    ];
    for (const [token, brand, last4] of ok) {
      const pm = await provider.attachPaymentMethod(customer, { kind: 'token', token });
      assert.equal(pm.brand, brand);
      assert.equal(pm.last4, last4);
      assert.equal(pm.expiryYear, 2027);
    }
    const refused: [string, PaymentFailureCode][] = [
      ['tok_chargeDeclined', 'card_declined'],
      ['tok_chargeDeclinedExpiredCard', 'expired_card'],
      ['tok_chargeDeclinedIncorrectCvc', 'incorrect_cvc'],
      ['tok_chargeDeclinedProcessingError', 'processing_error'],
    ];
    for (const [token, code] of refused) {
      await refusal(() => provider.attachPaymentMethod(customer, { kind: 'token', token }), code);
    }
    const failing = await provider.attachPaymentMethod(customer, { kind: 'token', token: 'tok_chargeCustomerFail' });
    await refusal(
      () =>
        provider.charge({
          customerReference: customer,
          paymentMethodReference: failing.providerReference,
          amountMinor: 100n,
          currency: 'USD',
          invoiceId: 'inv_fail',
          description: 'x',
        }),
      'card_declined',
    );
    const unknown = await refusal(() => provider.attachPaymentMethod(customer, { kind: 'token', token: 'tok_nope' }), 'incorrect_number');
    assert.equal(unknown.message, 'Unknown card token');
  });

  it('gives a stable fingerprint per number that is neither the number nor shared across secrets', async () => {
    const { provider, customer } = await setup();
    const other = await provider.upsertCustomer(null, details({ organizationId: 'org_2' }));
    const a = await provider.attachPaymentMethod(customer, card('4242424242424242'));
    const b = await provider.attachPaymentMethod(other, card('4242 4242 4242 4242', '321', 1, 2031));
    const token = await provider.attachPaymentMethod(customer, { kind: 'token', token: 'tok_visa' });
    const mastercard = await provider.attachPaymentMethod(customer, card('5555555555554444'));
    assert.equal(a.fingerprint, b.fingerprint);
    assert.equal(a.fingerprint, token.fingerprint);
    assert.notEqual(a.fingerprint, mastercard.fingerprint);
    assert.ok(!a.fingerprint.includes('4242424242424242'));

    const otherSecret = new SandboxPaymentProvider({ fingerprintSecret: 'another-secret', clock: fixedClock() });
    const otherCustomer = await otherSecret.upsertCustomer(null, details());
    const c = await otherSecret.attachPaymentMethod(otherCustomer, card('4242424242424242'));
    assert.notEqual(c.fingerprint, a.fingerprint);
  });

  it('charges an invoice once: a retry returns the first charge and records nothing new', async () => {
    const { provider, customer } = await setup();
    const pm = await provider.attachPaymentMethod(customer, card('4242424242424242'));
    const request = {
      customerReference: customer,
      paymentMethodReference: pm.providerReference,
      amountMinor: 12345n,
      currency: 'EUR',
      invoiceId: 'inv_42',
      description: 'Invoice 42',
    };
    const first = await provider.charge(request);
    const second = await provider.charge({ ...request });
    assert.deepEqual(second, first);
    assert.equal(provider.charges.length, 1);
    const [recorded] = provider.charges;
    assert.equal(recorded?.amountMinor, 12345n);
    assert.equal(recorded?.currency, 'EUR');
    assert.equal(recorded?.invoiceId, 'inv_42');
    assert.equal(recorded?.chargeReference, first.chargeReference);

    // Reusing the invoice id for a different amount is a caller bug, not a new charge.
    await assert.rejects(provider.charge({ ...request, amountMinor: 1n }), /already charged with different parameters/);
    await provider.charge({ ...request, invoiceId: 'inv_43' });
    assert.deepEqual(
      provider.charges.map((c) => c.invoiceId),
      ['inv_42', 'inv_43'],
    );
  });

  it('exposes charges read-only', async () => {
    const { provider, customer } = await setup();
    const pm = await provider.attachPaymentMethod(customer, card('4242424242424242'));
    await provider.charge({
      customerReference: customer,
      paymentMethodReference: pm.providerReference,
      amountMinor: 100n,
      currency: 'USD',
      invoiceId: 'inv_1',
      description: 'x',
    });
    const charges = provider.charges;
    assert.ok(Object.isFrozen(charges));
    assert.ok(Object.isFrozen(charges[0]));
    assert.throws(() => (charges as SandboxChargeList).push(charges[0]));
    assert.equal(provider.charges.length, 1);
  });

  it('refuses charges on detached, foreign or unknown payment methods', async () => {
    const { provider, customer } = await setup();
    const other = await provider.upsertCustomer(null, details({ organizationId: 'org_2' }));
    const pm = await provider.attachPaymentMethod(customer, card('4242424242424242'));
    const base = {
      customerReference: other,
      paymentMethodReference: pm.providerReference,
      amountMinor: 100n,
      currency: 'USD',
      invoiceId: 'inv_1',
      description: 'x',
    };
    await assert.rejects(provider.charge(base), /is not attached/);
    await assert.rejects(provider.charge({ ...base, paymentMethodReference: 'pm_sandbox_missing' }), /is not attached/);
    await assert.rejects(provider.charge({ ...base, customerReference: customer, amountMinor: 0n }), /positive/);
    await assert.rejects(provider.charge({ ...base, customerReference: customer, currency: 'XYZ' }), /Unknown currency/);
    await provider.detachPaymentMethod(pm.providerReference);
    await assert.rejects(provider.charge({ ...base, customerReference: customer }), /is not attached/);
    await assert.rejects(provider.detachPaymentMethod(pm.providerReference), /is not attached/);
    await assert.rejects(provider.detachPaymentMethod('pm_sandbox_missing'), /No such sandbox payment method/);
  });

  it('declines a card that expired after it was attached', async () => {
    const clock = fixedClock();
    const provider = new SandboxPaymentProvider({ fingerprintSecret: SECRET, clock });
    const customer = await provider.upsertCustomer(null, details());
    const pm = await provider.attachPaymentMethod(customer, card('4242424242424242', CVV, 4, 2026));
    clock.set(new Date('2026-05-01T00:00:00Z'));
    await refusal(
      () =>
        provider.charge({
          customerReference: customer,
          paymentMethodReference: pm.providerReference,
          amountMinor: 100n,
          currency: 'USD',
          invoiceId: 'inv_1',
          description: 'x',
        }),
      'expired_card',
    );
  });

  it('refunds in full or in part, never beyond the charge', async () => {
    const { provider, customer } = await setup();
    const pm = await provider.attachPaymentMethod(customer, card('4242424242424242'));
    const charge = (invoiceId: string) =>
      provider.charge({
        customerReference: customer,
        paymentMethodReference: pm.providerReference,
        amountMinor: 1000n,
        currency: 'USD',
        invoiceId,
        description: 'x',
      });
    const first = await charge('inv_1');
    await provider.refund(first.chargeReference, 300n);
    await assert.rejects(provider.refund(first.chargeReference, 701n), /exceeds/);
    await provider.refund(first.chargeReference, null);
    await assert.rejects(provider.refund(first.chargeReference, null), /already fully refunded/);
    assert.deepEqual(
      provider.refunds.map((r) => r.amountMinor),
      [300n, 700n],
    );
    assert.equal(provider.charges[0]?.refundedMinor, 1000n);
    await assert.rejects(provider.refund('ch_sandbox_missing', null), /No such sandbox charge/);
  });

  it('refunds once per idempotency key and answers the same refund', async () => {
    const { provider, customer } = await setup();
    const pm = await provider.attachPaymentMethod(customer, card('4242424242424242'));
    const charged = await provider.charge({
      customerReference: customer,
      paymentMethodReference: pm.providerReference,
      amountMinor: 1000n,
      currency: 'EUR',
      invoiceId: 'inv_key',
      description: 'x',
    });
    const first = await provider.refund(charged.chargeReference, 400n, 'credit-note-1');
    assert.equal(await provider.refund(charged.chargeReference, 400n, 'credit-note-1'), first);
    assert.notEqual(await provider.refund(charged.chargeReference, 400n, 'credit-note-2'), first);
    assert.deepEqual(provider.refunds.map((r) => r.amountMinor), [400n, 400n]);
  });

  it('keeps no card number or CVV in its state, errors or results', async () => {
    const { provider, customer } = await setup();
    const numbers = ['4242424242424242', '5555555555554444', '4000000000000341'];
    const cvv = '735';
    const seen: string[] = [];
    for (const number of numbers) {
      seen.push(JSON.stringify(await provider.attachPaymentMethod(customer, card(number, cvv))));
    }
    for (const number of ['4000000000000002', '4000000000000069', '4000000000000127', '4000000000000119', '4242424242424241']) {
      try {
        await provider.attachPaymentMethod(customer, card(number, cvv));
        assert.fail('expected a refusal');
      } catch (error) {
        assert.ok(error instanceof PaymentProviderError);
        seen.push(error.message, String(error.stack), inspect(error));
        numbers.push(number);
      }
    }
    seen.push(inspect(provider, { depth: Infinity, showHidden: true }));
    const everything = seen.join('\n');
    for (const number of numbers) {
      assert.ok(!everything.includes(number), `found ${number.slice(-4)} in full`);
    }
    // Bounded, since random hex references may contain the three digits by chance.
    assert.doesNotMatch(everything, new RegExp(`(?<![0-9A-Za-z])${cvv}(?![0-9A-Za-z])`), 'found the CVV');
    assert.ok(!everything.includes(SECRET), 'found the fingerprint secret');
  });

  it('requires a fingerprint secret', () => {
    assert.throws(() => new SandboxPaymentProvider({ fingerprintSecret: '' }), /fingerprintSecret/);
  });
});

type SandboxChargeList = SandboxPaymentProvider['charges'][number][];
