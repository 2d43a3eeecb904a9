import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  isChargeable,
  statusAfterChargeAttempt,
  statusAfterOperatorAction,
  statusAtIssue,
} from '../../src/domain/invoice-status.js';
import { BillingError } from '../../src/errors.js';

describe('invoice status', () => {
  it('at issue: settled when nothing is owed, PENDING when charged to a card, NOT_PAID otherwise', () => {
    assert.equal(statusAtIssue(0n, true), 'PAID');
    assert.equal(statusAtIssue(0n, false), 'PAID');
    assert.equal(statusAtIssue(100n, true), 'PENDING');
    assert.equal(statusAtIssue(100n, false), 'NOT_PAID');
  });

  it('any invoice with something owed and still awaiting payment is charged, whatever its plan kind', () => {
    assert.equal(isChargeable({ totalMinor: 100n, status: 'PENDING' }), true);
    assert.equal(isChargeable({ totalMinor: 100n, status: 'PAYMENT_DUE' }), true);
    assert.equal(isChargeable({ totalMinor: 100n, status: 'PAID' }), false);
    assert.equal(isChargeable({ totalMinor: 100n, status: 'VOIDED' }), false);
    assert.equal(isChargeable({ totalMinor: 0n, status: 'PENDING' }), false);
    assert.equal(isChargeable({ totalMinor: 100n, status: 'NOT_PAID' }), true);
  });

  it('after a charge attempt: PAID, NOT_PAID while attempts remain, PAYMENT_DUE after the last one', () => {
    assert.equal(statusAfterChargeAttempt(true, null), 'PAID');
    assert.equal(statusAfterChargeAttempt(false, new Date('2026-01-04T00:00:00Z')), 'NOT_PAID');
    assert.equal(statusAfterChargeAttempt(false, null), 'PAYMENT_DUE');
  });

  it("operators' actions: no change when already there, 409 from the status that forbids them", () => {
    assert.equal(statusAfterOperatorAction('NOT_PAID', 'mark_paid'), 'PAID');
    assert.equal(statusAfterOperatorAction('PAID', 'mark_paid'), null);
    assert.throws(() => statusAfterOperatorAction('VOIDED', 'mark_paid'), (error: unknown) => error instanceof BillingError && error.code === 'invoice_voided' && error.status === 409);
    assert.equal(statusAfterOperatorAction('PAYMENT_DUE', 'void'), 'VOIDED');
    assert.equal(statusAfterOperatorAction('VOIDED', 'void'), null);
    // Issue 12: a paid invoice is voided with a credit note that refunds it.
    assert.equal(statusAfterOperatorAction('PAID', 'void'), 'VOIDED');
  });
});
