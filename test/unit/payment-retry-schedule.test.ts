import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextPaymentAttemptAt, PAYMENT_RETRY_DAYS } from '../../src/domain/payment-retry-schedule.js';

describe('nextPaymentAttemptAt', () => {
  const issuedAt = new Date('2026-02-01T00:00:05Z');

  it('retries 1, 3 and 5 days after the issue, then gives up', () => {
    assert.deepEqual(PAYMENT_RETRY_DAYS, [1, 3, 5]);
    assert.equal(nextPaymentAttemptAt(issuedAt, 1)?.toISOString(), '2026-02-02T00:00:05.000Z');
    assert.equal(nextPaymentAttemptAt(issuedAt, 2)?.toISOString(), '2026-02-04T00:00:05.000Z');
    assert.equal(nextPaymentAttemptAt(issuedAt, 3)?.toISOString(), '2026-02-06T00:00:05.000Z');
    assert.equal(nextPaymentAttemptAt(issuedAt, 4), null);
    assert.equal(nextPaymentAttemptAt(issuedAt, 9), null);
  });

  it('counts from the issue, not from the failure: a late attempt does not push the schedule back', () => {
    // Attempt 2 ran late (a worker was down); attempt 3 stays on day 3.
    assert.equal(nextPaymentAttemptAt(issuedAt, 2)?.toISOString(), '2026-02-04T00:00:05.000Z');
  });

  it('crosses month and year ends in UTC', () => {
    assert.equal(nextPaymentAttemptAt(new Date('2026-12-31T12:00:00Z'), 3)?.toISOString(), '2027-01-05T12:00:00.000Z');
  });

  it('refuses nonsense', () => {
    assert.throws(() => nextPaymentAttemptAt(issuedAt, 0), RangeError);
    assert.throws(() => nextPaymentAttemptAt(issuedAt, 1.5), RangeError);
    assert.throws(() => nextPaymentAttemptAt(new Date('nope'), 1), RangeError);
  });
});
