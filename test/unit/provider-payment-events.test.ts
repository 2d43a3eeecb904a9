import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { effectOfPaymentEvent, type InvoicePaymentState } from '../../src/domain/provider-payment-events.js';

const pending: InvoicePaymentState = { status: 'PENDING', providerChargeReference: null, paymentActionUrl: null, refundedMinor: 0n, disputedAt: null };
const awaiting: InvoicePaymentState = { ...pending, providerChargeReference: 'pi_1', paymentActionUrl: 'https://pay.test/pi_1' };
const paid: InvoicePaymentState = { ...pending, status: 'PAID', providerChargeReference: 'pi_1' };

describe('effectOfPaymentEvent', () => {
  it('payment_succeeded pays an invoice awaiting payment; the same payment again changes nothing; another is given back', () => {
    for (const status of ['PENDING', 'NOT_PAID', 'PAYMENT_DUE'] as const) {
      assert.deepEqual(effectOfPaymentEvent({ ...pending, status }, { kind: 'payment_succeeded', paymentReference: 'pi_1' }), { kind: 'paid' });
    }
    assert.deepEqual(effectOfPaymentEvent(paid, { kind: 'payment_succeeded', paymentReference: 'pi_1' }), { kind: 'none' });
    assert.deepEqual(effectOfPaymentEvent(paid, { kind: 'payment_succeeded', paymentReference: 'pi_2' }), { kind: 'unapplied_payment' });
    assert.deepEqual(effectOfPaymentEvent({ ...pending, status: 'VOIDED' }, { kind: 'payment_succeeded', paymentReference: 'pi_1' }), { kind: 'unapplied_payment' });
  });

  it('payment_failed counts only for the payment awaiting authentication (the charge call records its own refusals)', () => {
    assert.deepEqual(effectOfPaymentEvent(awaiting, { kind: 'payment_failed', paymentReference: 'pi_1' }), { kind: 'authentication_failed' });
    assert.deepEqual(effectOfPaymentEvent(awaiting, { kind: 'payment_failed', paymentReference: 'pi_2' }), { kind: 'none' });
    assert.deepEqual(effectOfPaymentEvent({ ...pending, status: 'NOT_PAID' }, { kind: 'payment_failed', paymentReference: 'pi_1' }), { kind: 'none' });
  });

  it('payment_requires_action makes an unpaid invoice wait on the page; never a paid one; a repeat changes nothing', () => {
    assert.deepEqual(effectOfPaymentEvent({ ...pending, status: 'NOT_PAID' }, { kind: 'payment_requires_action', paymentReference: 'pi_1', actionUrl: 'https://pay.test/pi_1' }), {
      kind: 'awaiting_action',
      actionUrl: 'https://pay.test/pi_1',
    });
    assert.deepEqual(effectOfPaymentEvent(awaiting, { kind: 'payment_requires_action', paymentReference: 'pi_1', actionUrl: 'https://pay.test/pi_1' }), { kind: 'none' });
    assert.deepEqual(effectOfPaymentEvent(awaiting, { kind: 'payment_requires_action', paymentReference: 'pi_1', actionUrl: null }), { kind: 'none' });
    assert.deepEqual(effectOfPaymentEvent(paid, { kind: 'payment_requires_action', paymentReference: 'pi_1', actionUrl: 'https://pay.test/pi_1' }), { kind: 'none' });
  });

  it('refunds only grow; a dispute is recorded once', () => {
    const refunded = { ...paid, refundedMinor: 500n };
    assert.deepEqual(effectOfPaymentEvent(refunded, { kind: 'payment_refunded', paymentReference: 'pi_1', refundedMinor: 800n }), { kind: 'refunded', refundedMinor: 800n });
    assert.deepEqual(effectOfPaymentEvent(refunded, { kind: 'payment_refunded', paymentReference: 'pi_1', refundedMinor: 500n }), { kind: 'none' });
    assert.deepEqual(effectOfPaymentEvent(refunded, { kind: 'payment_refunded', paymentReference: 'pi_1', refundedMinor: 300n }), { kind: 'none' });
    assert.deepEqual(effectOfPaymentEvent(paid, { kind: 'payment_disputed', paymentReference: 'pi_1' }), { kind: 'disputed' });
    assert.deepEqual(effectOfPaymentEvent({ ...paid, disputedAt: new Date() }, { kind: 'payment_disputed', paymentReference: 'pi_1' }), { kind: 'none' });
  });
});
