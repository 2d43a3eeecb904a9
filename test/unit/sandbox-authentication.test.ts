/** The sandbox's strong-customer-authentication test card: the charge waits, the authentication settles it. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SandboxPaymentProvider } from '../../src/providers/payments/sandbox-payment-provider.js';

const INVOICE_ID = '0b6f3c1e-8d2a-4f5b-9c7d-1e2f3a4b5c6d';

async function setup(number = '4000 0025 0000 3155') {
  const provider = new SandboxPaymentProvider({ fingerprintSecret: 'secret', authenticationUrl: (reference) => `https://bursar.test/sandbox/payments/${reference}/authenticate` });
  const customer = await provider.upsertCustomer(null, { organizationId: 'org', name: 'Acme', email: null, address: null, taxId: null });
  const method = await provider.attachPaymentMethod(customer, { kind: 'card', number, cvv: '123', expiryMonth: 12, expiryYear: 2099 });
  const request = { customerReference: customer, paymentMethodReference: method.providerReference, amountMinor: 1234n, currency: 'EUR', invoiceId: INVOICE_ID, description: 'Invoice INV-000001' };
  return { provider, request, method };
}

describe('sandbox 4000 0025 0000 3155', () => {
  it('answers requires_action with the authentication page, the same on a replay, and charges nothing yet', async () => {
    const { provider, request } = await setup();
    const result = await provider.charge(request);
    assert.equal(result.kind, 'requires_action');
    assert.match(result.chargeReference, /^pi_sandbox_[0-9a-f]{24}$/);
    assert.equal(result.kind === 'requires_action' && result.actionUrl, `https://bursar.test/sandbox/payments/${result.chargeReference}/authenticate`);
    assert.deepEqual(await provider.charge(request), result);
    assert.equal(provider.charges.length, 0);
    assert.deepEqual(provider.pendingAuthentication(result.chargeReference), { amountMinor: 1234n, currency: 'EUR', description: 'Invoice INV-000001' });
  });

  it('completing the authentication charges the card and reports payment_succeeded for the invoice; once', async () => {
    const { provider, request } = await setup();
    const result = await provider.charge(request);
    const event = provider.completeAuthentication(result.chargeReference, 'succeeded');
    assert.ok(event);
    assert.equal(event.provider, 'sandbox');
    assert.equal(event.type, 'payment_intent.succeeded');
    assert.deepEqual(event.change, { kind: 'payment_succeeded', payment: { paymentReference: result.chargeReference, invoiceId: INVOICE_ID } });
    assert.deepEqual(provider.charges.map((charge) => charge.chargeReference), [result.chargeReference]);
    assert.equal(provider.completeAuthentication(result.chargeReference, 'succeeded'), null);
    assert.equal(provider.pendingAuthentication(result.chargeReference), null);
    // The charge now replays as succeeded, and can be refunded.
    assert.deepEqual(await provider.charge(request), { kind: 'succeeded', chargeReference: result.chargeReference });
    await provider.refund(result.chargeReference, null);
  });

  it('reopens a completed authentication whose event could not be applied', async () => {
    const { provider, request } = await setup();
    const result = await provider.charge(request);
    assert.ok(provider.completeAuthentication(result.chargeReference, 'succeeded'));
    provider.reopenAuthentication(result.chargeReference);
    assert.equal(provider.charges.length, 0);
    assert.ok(provider.pendingAuthentication(result.chargeReference));
    assert.equal(provider.completeAuthentication(result.chargeReference, 'succeeded')?.change?.kind, 'payment_succeeded');
    assert.equal(provider.charges.length, 1);
  });

  it('failing it reports payment_failed and charges nothing', async () => {
    const { provider, request } = await setup();
    const result = await provider.charge(request);
    const event = provider.completeAuthentication(result.chargeReference, 'failed');
    assert.equal(event?.change?.kind, 'payment_failed');
    assert.equal(provider.charges.length, 0);
  });

  it('is remembered across a restart by the card reference', async () => {
    const { request } = await setup();
    const restarted = new SandboxPaymentProvider({ fingerprintSecret: 'another-process' });
    const result = await restarted.charge(request);
    assert.equal(result.kind, 'requires_action');
    assert.equal(result.kind === 'requires_action' && result.actionUrl, `/sandbox/payments/${result.chargeReference}/authenticate`);
  });
});
