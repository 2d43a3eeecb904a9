import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { inspect } from 'node:util';
import { PaymentProviderError, type CardInput, type PaymentFailureCode, type ProviderCustomerDetails } from '../../src/providers/payments/payment-provider.js';
import { StripePaymentProvider, toStripeAmount } from '../../src/providers/payments/stripe-payment-provider.js';
import { startStripeStandIn, type RecordedRequest, type StripeStandIn } from '../fixtures/stripe-stand-in.js';

const CVV = '987';
const NEXT_YEAR = new Date().getUTCFullYear() + 1;

function details(overrides: Partial<ProviderCustomerDetails> = {}): ProviderCustomerDetails {
  return {
    organizationId: 'org_1',
    name: 'Acme GmbH',
    email: 'billing@acme.test',
    address: { line1: 'Hauptstr. 1', line2: 'Hinterhaus', city: 'Berlin', state: null, postalCode: '10115', country: 'DE' },
    taxId: { value: 'DE123456789', type: 'eu_vat' },
    ...overrides,
  };
}

function card(number: string, cvv = CVV, expiryMonth = 7, expiryYear = NEXT_YEAR + 3): CardInput {
  return { kind: 'card', number, cvv, expiryMonth, expiryYear };
}

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

function record(value: unknown): Record<string, unknown> {
  assert.ok(typeof value === 'object' && value !== null && !Array.isArray(value), `not an object: ${inspect(value)}`);
  return value as Record<string, unknown>;
}

describe('StripePaymentProvider against the stand-in', () => {
  let standIn: StripeStandIn;
  let provider: StripePaymentProvider;
  let organizationCounter = 0;

  /** Requests made while `action` runs. */
  async function during(action: () => Promise<unknown>): Promise<RecordedRequest[]> {
    const start = standIn.requests.length;
    await action();
    return standIn.requests.slice(start);
  }

  async function newCustomer(overrides: Partial<ProviderCustomerDetails> = {}): Promise<string> {
    organizationCounter += 1;
    return provider.upsertCustomer(null, details({ organizationId: `org_${organizationCounter}_${Date.now()}`, ...overrides }));
  }

  function taxIdsOf(customer: string): Record<string, unknown>[] {
    return [...standIn.taxIds.values()].filter((taxId) => taxId['customer'] === customer);
  }

  before(async () => {
    standIn = await startStripeStandIn();
    provider = new StripePaymentProvider({ secretKey: 'sk_test_bursar', apiBaseUrl: standIn.url });
  });

  after(async () => {
    await standIn.close();
  });

  it('is named stripe and checks apiBaseUrl', () => {
    assert.equal(provider.name, 'stripe');
    assert.throws(() => new StripePaymentProvider({ secretKey: 'sk_test_x', apiBaseUrl: 'ftp://127.0.0.1:1' }), /http/);
    assert.throws(() => new StripePaymentProvider({ secretKey: 'sk_test_x', apiBaseUrl: 'http://127.0.0.1:1/v1' }), /bare origin/);
    assert.throws(() => new StripePaymentProvider({ secretKey: '' }), /secretKey/);
  });

  it('creates a customer with name, address, metadata and tax id, idempotently per organization', async () => {
    let reference = '';
    const requests = await during(async () => {
      reference = await provider.upsertCustomer(null, details({ organizationId: 'org_create' }));
    });
    assert.match(reference, /^cus_/);
    assert.equal(requests.length, 1);
    const [create] = requests;
    assert.equal(create?.method, 'POST');
    assert.equal(create?.path, '/v1/customers');
    assert.equal(create?.idempotencyKey, 'customer-create-org_create');
    assert.deepEqual(create?.body, {
      email: 'billing@acme.test',
      name: 'Acme GmbH',
      address: { line1: 'Hauptstr. 1', line2: 'Hinterhaus', city: 'Berlin', postal_code: '10115', country: 'DE' },
      metadata: { organization_id: 'org_create' },
      tax_id_data: [{ type: 'eu_vat', value: 'DE123456789' }],
    });
    const stored = record(standIn.customers.get(reference));
    assert.equal(stored['name'], 'Acme GmbH');
    assert.deepEqual(stored['metadata'], { organization_id: 'org_create' });
    assert.deepEqual(
      taxIdsOf(reference).map((t) => [t['type'], t['value']]),
      [['eu_vat', 'DE123456789']],
    );

    // A retried create (say, after a crash before we stored the id) gets the same customer back.
    const count = standIn.customers.size;
    assert.equal(await provider.upsertCustomer(null, details({ organizationId: 'org_create' })), reference);
    assert.equal(standIn.customers.size, count);
  });

  it('updates a customer and replaces a changed tax id', async () => {
    const reference = await newCustomer();
    const [oldTaxId] = taxIdsOf(reference);

    const changed = details({
      name: 'Acme SE',
      address: { line1: 'Neue Str. 2', line2: null, city: 'Hamburg', state: null, postalCode: '20095', country: 'DE' },
      taxId: { value: 'DE999999999', type: null },
    });
    const requests = await during(() => provider.upsertCustomer(reference, changed));
    assert.deepEqual(
      requests.map((r) => `${r.method} ${r.path}`),
      [
        `POST /v1/customers/${reference}`,
        `GET /v1/customers/${reference}/tax_ids`,
        `POST /v1/customers/${reference}/tax_ids`,
        `DELETE /v1/customers/${reference}/tax_ids/${String(oldTaxId?.['id'])}`,
      ],
    );
    assert.deepEqual(requests[0]?.body['address'], {
      line1: 'Neue Str. 2',
      line2: '',
      city: 'Hamburg',
      state: '',
      postal_code: '20095',
      country: 'DE',
    });
    // Our null type means an EU VAT number.
    assert.deepEqual(requests[2]?.body, { type: 'eu_vat', value: 'DE999999999' });

    const stored = record(standIn.customers.get(reference));
    assert.equal(stored['name'], 'Acme SE');
    assert.deepEqual(stored['address'], {
      city: 'Hamburg',
      country: 'DE',
      line1: 'Neue Str. 2',
      line2: null,
      postal_code: '20095',
      state: null,
    });
    assert.deepEqual(
      taxIdsOf(reference).map((t) => [t['type'], t['value']]),
      [['eu_vat', 'DE999999999']],
    );

    // Unchanged tax id: listed, not touched.
    const again = await during(() => provider.upsertCustomer(reference, changed));
    assert.deepEqual(
      again.map((r) => `${r.method} ${r.path}`),
      [`POST /v1/customers/${reference}`, `GET /v1/customers/${reference}/tax_ids`],
    );
  });

  it('falls back to e-mail only when there is no name, address or tax id', async () => {
    let created = '';
    const requests = await during(async () => {
      created = await newCustomer({ name: null, address: null, taxId: null });
    });
    assert.deepEqual(Object.keys(requests[0]?.body ?? {}).sort(), ['email', 'metadata']);
    assert.equal(record(standIn.customers.get(created))['name'], null);

    // An existing customer losing its details: address and name cleared, tax ids removed.
    const reference = await newCustomer();
    const update = await during(() => provider.upsertCustomer(reference, details({ name: null, address: null, taxId: null })));
    assert.equal(update[0]?.body['address'], '');
    assert.equal(update[0]?.body['name'], '');
    assert.equal(update[0]?.body['email'], 'billing@acme.test');
    const stored = record(standIn.customers.get(reference));
    assert.equal(stored['address'], null);
    assert.equal(stored['name'], null);
    assert.equal(stored['email'], 'billing@acme.test');
    assert.deepEqual(taxIdsOf(reference), []);
  });

  it('reports an unknown customer as a plain error', async () => {
    await assert.rejects(provider.upsertCustomer('cus_missing', details()), (error: unknown) => {
      assert.ok(error instanceof Error && !(error instanceof PaymentProviderError));
      assert.match(error.message, /resource_missing/);
      return true;
    });
  });

  it('attaches by token with brand, last4, expiry and fingerprint', async () => {
    const customer = await newCustomer();
    const cases: [string, string, string][] = [
      ['tok_visa', 'visa', '4242'],
      ['tok_mastercard', 'mastercard', '4444'],
      ['tok_amex', 'amex', '0005'],
    ];
    for (const [token, brand, last4] of cases) {
      const requests = await during(async () => {
        const pm = await provider.attachPaymentMethod(customer, { kind: 'token', token });
        assert.match(pm.providerReference, /^pm_/);
        assert.equal(pm.brand, brand);
        assert.equal(pm.last4, last4);
        assert.equal(pm.expiryYear, NEXT_YEAR);
        assert.ok(pm.expiryMonth >= 1 && pm.expiryMonth <= 12);
        assert.match(pm.fingerprint, /^[\w-]{16}$/);
      });
      assert.deepEqual(requests[0]?.body, { type: 'card', card: { token } });
      assert.match(requests[1]?.path ?? '', /^\/v1\/payment_methods\/pm_\w+\/attach$/);
      assert.deepEqual(requests[1]?.body, { customer });
    }
  });

  it('attaches by number; the same card gives the same fingerprint as its token', async () => {
    const customer = await newCustomer();
    const byToken = await provider.attachPaymentMethod(customer, { kind: 'token', token: 'tok_visa' });
    let byNumber: Awaited<ReturnType<StripePaymentProvider['attachPaymentMethod']>> | undefined;
    const requests = await during(async () => {
      byNumber = await provider.attachPaymentMethod(customer, card('4242 4242 4242 4242', CVV, 7, NEXT_YEAR + 3));
    });
    assert.equal(byNumber?.brand, 'visa');
    assert.equal(byNumber?.last4, '4242');
    assert.equal(byNumber?.expiryMonth, 7);
    assert.equal(byNumber?.expiryYear, NEXT_YEAR + 3);
    assert.equal(byNumber?.fingerprint, byToken.fingerprint);
    // What reached the API was the digits, the CVC and the expiry; the stand-in keeps them masked.
    assert.deepEqual(requests[0]?.body, {
      type: 'card',
      card: { number: '****4242', cvc: '***', exp_month: '7', exp_year: String(NEXT_YEAR + 3) },
    });

    const amex = await provider.attachPaymentMethod(customer, card('378282246310005', '1234'));
    assert.equal(amex.brand, 'amex');
    assert.equal(amex.last4, '0005');
    assert.notEqual(amex.fingerprint, byToken.fingerprint);
  });

  it('maps each refusal to its code', async () => {
    const customer = await newCustomer();
    const byNumber: [string, PaymentFailureCode][] = [
      ['4000000000000002', 'card_declined'],
      ['4000000000000069', 'expired_card'],
      ['4000000000000127', 'incorrect_cvc'],
      ['4000000000000119', 'processing_error'],
      ['4242424242424241', 'incorrect_number'],
    ];
    for (const [number, code] of byNumber) {
      await refusal(() => provider.attachPaymentMethod(customer, card(number)), code);
    }
    const byToken: [string, PaymentFailureCode][] = [
      ['tok_chargeDeclined', 'card_declined'],
      ['tok_chargeDeclinedExpiredCard', 'expired_card'],
      ['tok_chargeDeclinedIncorrectCvc', 'incorrect_cvc'],
      ['tok_chargeDeclinedProcessingError', 'processing_error'],
    ];
    for (const [token, code] of byToken) {
      await refusal(() => provider.attachPaymentMethod(customer, { kind: 'token', token }), code);
    }
    const unknown = await refusal(() => provider.attachPaymentMethod(customer, { kind: 'token', token: 'tok_nope' }), 'incorrect_number');
    assert.equal(unknown.message, 'Unknown card token');
    // Stripe's invalid_expiry_year / invalid_cvc land on our nearest codes.
    await refusal(() => provider.attachPaymentMethod(customer, card('4242424242424242', CVV, 1, 2020)), 'expired_card');
    await refusal(() => provider.attachPaymentMethod(customer, card('4242424242424242', '12a')), 'incorrect_cvc');
  });

  it('charges once per invoice: a retry replays the same payment intent', async () => {
    const customer = await newCustomer();
    const pm = await provider.attachPaymentMethod(customer, { kind: 'token', token: 'tok_visa' });
    const request = {
      customerReference: customer,
      paymentMethodReference: pm.providerReference,
      amountMinor: 1999n,
      currency: 'USD',
      invoiceId: 'inv_charge_1',
      description: 'Invoice INV-0001',
    };
    let first = '';
    let second = '';
    const requests = await during(async () => {
      first = (await provider.charge(request)).chargeReference;
      second = (await provider.charge(request)).chargeReference;
    });
    assert.match(first, /^pi_/);
    assert.equal(second, first);
    assert.equal(requests.length, 2);
    for (const recorded of requests) {
      assert.equal(recorded.path, '/v1/payment_intents');
      assert.equal(recorded.idempotencyKey, 'charge-inv_charge_1-attempt-1');
    }
    assert.deepEqual(requests[0]?.body, {
      amount: '1999',
      currency: 'usd',
      customer,
      payment_method: pm.providerReference,
      confirm: 'true',
      off_session: 'true',
      automatic_payment_methods: { enabled: 'true', allow_redirects: 'never' },
      description: 'Invoice INV-0001',
      metadata: { invoice_id: 'inv_charge_1' },
    });
    const intents = [...standIn.paymentIntents.values()].filter((i) => record(i['metadata'])['invoice_id'] === 'inv_charge_1');
    assert.equal(intents.length, 1);
    assert.equal(intents[0]?.['status'], 'succeeded');
    assert.equal(intents[0]?.['amount'], 1999);
  });

  it("converts amounts to Stripe's unit per currency", async () => {
    const customer = await newCustomer();
    const pm = await provider.attachPaymentMethod(customer, { kind: 'token', token: 'tok_visa' });
    const cases: [string, bigint, string][] = [
      ['JPY', 500n, '500'],
      ['ISK', 1000n, '100000'],
      ['BHD', 1230n, '1230'],
      ['EUR', 1n, '1'],
    ];
    for (const [currency, amountMinor, sent] of cases) {
      const requests = await during(() =>
        provider.charge({
          customerReference: customer,
          paymentMethodReference: pm.providerReference,
          amountMinor,
          currency,
          invoiceId: `inv_${currency}`,
          description: currency,
        }),
      );
      assert.equal(requests[0]?.body['amount'], sent, currency);
      assert.equal(requests[0]?.body['currency'], currency.toLowerCase());
    }

    assert.equal(toStripeAmount(1999n, 'USD'), 1999);
    assert.equal(toStripeAmount(1500n, 'HUF'), 150000);
    assert.equal(toStripeAmount(0n, 'KRW'), 0);
    assert.throws(() => toStripeAmount(1235n, 'BHD'), RangeError);
    assert.throws(() => toStripeAmount(BigInt(Number.MAX_SAFE_INTEGER) + 1n, 'USD'), RangeError);
    const before = standIn.requests.length;
    await assert.rejects(
      provider.charge({
        customerReference: customer,
        paymentMethodReference: pm.providerReference,
        amountMinor: 10n ** 20n,
        currency: 'USD',
        invoiceId: 'inv_huge',
        description: 'too big',
      }),
      RangeError,
    );
    assert.equal(standIn.requests.length, before, 'nothing is sent for an amount that cannot be represented');
  });

  it('declines charges on 4000 0000 0000 0341 and tok_chargeCustomerFail', async () => {
    const customer = await newCustomer();
    const byNumber = await provider.attachPaymentMethod(customer, card('4000000000000341'));
    const byToken = await provider.attachPaymentMethod(customer, { kind: 'token', token: 'tok_chargeCustomerFail' });
    for (const [index, pm] of [byNumber, byToken].entries()) {
      await refusal(
        () =>
          provider.charge({
            customerReference: customer,
            paymentMethodReference: pm.providerReference,
            amountMinor: 5000n,
            currency: 'EUR',
            invoiceId: `inv_fail_${index}`,
            description: 'x',
          }),
        'card_declined',
      );
    }
  });

  it('refunds in full and in part', async () => {
    const customer = await newCustomer();
    const pm = await provider.attachPaymentMethod(customer, { kind: 'token', token: 'tok_visa' });
    const charge = (invoiceId: string, currency = 'USD', amountMinor = 1000n) =>
      provider.charge({
        customerReference: customer,
        paymentMethodReference: pm.providerReference,
        amountMinor,
        currency,
        invoiceId,
        description: 'x',
      });

    const full = await charge('inv_refund_full');
    const fullRequests = await during(() => provider.refund(full.chargeReference, null));
    assert.deepEqual(
      fullRequests.map((r) => [r.method, r.path, r.body]),
      [['POST', '/v1/refunds', { payment_intent: full.chargeReference }]],
    );

    const partial = await charge('inv_refund_part', 'ISK', 5000n);
    const partialRequests = await during(() => provider.refund(partial.chargeReference, 1500n));
    assert.deepEqual(
      partialRequests.map((r) => `${r.method} ${r.path}`),
      [`GET /v1/payment_intents/${partial.chargeReference}`, 'POST /v1/refunds'],
    );
    // 1 500 ISK is 150 000 in Stripe's two-decimal ISK.
    assert.deepEqual(partialRequests[1]?.body, { payment_intent: partial.chargeReference, amount: '150000' });
    const refunded = [...standIn.refunds.values()].filter((r) => r['payment_intent'] === partial.chargeReference);
    assert.deepEqual(
      refunded.map((r) => r['amount']),
      [150000],
    );

    await assert.rejects(provider.refund(partial.chargeReference, 4000n), (error: unknown) => {
      assert.ok(error instanceof Error && !(error instanceof PaymentProviderError));
      assert.match(error.message, /amount_too_large/);
      return true;
    });
  });

  it('detaches a payment method, after which it cannot be charged', async () => {
    const customer = await newCustomer();
    const pm = await provider.attachPaymentMethod(customer, { kind: 'token', token: 'tok_visa' });
    const requests = await during(() => provider.detachPaymentMethod(pm.providerReference));
    assert.deepEqual(
      requests.map((r) => `${r.method} ${r.path}`),
      [`POST /v1/payment_methods/${pm.providerReference}/detach`],
    );
    await assert.rejects(
      provider.charge({
        customerReference: customer,
        paymentMethodReference: pm.providerReference,
        amountMinor: 100n,
        currency: 'USD',
        invoiceId: 'inv_after_detach',
        description: 'x',
      }),
      (error: unknown) => error instanceof Error && !(error instanceof PaymentProviderError),
    );
  });

  it('reports an unreachable API as provider_unavailable', async () => {
    const gone = await startStripeStandIn();
    await gone.close();
    const offline = new StripePaymentProvider({ secretKey: 'sk_test_bursar', apiBaseUrl: gone.url, timeoutMs: 2000 });
    await refusal(() => offline.upsertCustomer(null, details()), 'provider_unavailable');
  });

  it('never lets a card number or CVV into a recorded request or an error message', async () => {
    const customer = await newCustomer();
    const cvv = '735';
    const numbers = [
      '4242424242424242',
      '5555555555554444',
      '4000000000000341',
      '4000000000000002',
      '4000000000000069',
      '4000000000000127',
      '4000000000000119',
      '4242424242424241',
    ];
    const messages: string[] = [];
    // Stacks carry line:column numbers, so they are searched for card numbers only, not for the short CVV.
    const stacks: string[] = [];
    for (const number of numbers) {
      for (const input of [card(number, cvv), card(number, cvv, 1, 2020)]) {
        try {
          const pm = await provider.attachPaymentMethod(customer, input);
          messages.push(JSON.stringify(pm));
        } catch (error) {
          assert.ok(error instanceof Error);
          messages.push(error.message, JSON.stringify(error));
          stacks.push(inspect(error, { depth: Infinity }));
        }
      }
    }
    const recorded = JSON.stringify(standIn.requests);
    const cardBodies = standIn.requests.map((r) => r.body['card']).filter((c) => c !== undefined);
    assert.ok(cardBodies.length > 0);
    for (const cardBody of cardBodies) {
      const fields = record(cardBody);
      if (fields['number'] !== undefined) assert.match(String(fields['number']), /^\*{4}\d{4}$/);
      if (fields['cvc'] !== undefined) assert.equal(fields['cvc'], '***');
    }
    const everything = `${recorded}\n${messages.join('\n')}\n${stacks.join('\n')}`;
    for (const number of [...numbers, '378282246310005']) {
      assert.ok(!everything.includes(number), `a full card number ending ${number.slice(-4)} leaked`);
    }
    for (const secret of [cvv, CVV, '1234']) {
      assert.ok(!everything.includes(`"${secret}"`), `CVV ${secret} leaked as a value`);
      assert.doesNotMatch(messages.join('\n'), new RegExp(`(?<![0-9A-Za-z])${secret}(?![0-9A-Za-z])`));
    }
  });
});
