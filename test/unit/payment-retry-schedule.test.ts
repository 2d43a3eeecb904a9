import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextPaymentAttemptAt, PAYMENT_RETRY_DAYS } from '../../src/domain/payment-retry-schedule.js';

describe('nextPaymentAttemptAt', () => {
  const issuedAt = new Date('2026-02-01T00:00:05Z');

  it('retries 1, 3 and 5 days after the issue, then gives up', () => {
    assert.deepEqual(PAYMENT_RETRY_DAYS, [1, 3, 5]);
    assert.equal(nextPaymentAttemptAt(issuedAt, 1, issuedAt)?.toISOString(), '2026-02-02T00:00:05.000Z');
    assert.equal(nextPaymentAttemptAt(issuedAt, 2, new Date('2026-02-02T00:10:00Z'))?.toISOString(), '2026-02-04T00:00:05.000Z');
    assert.equal(nextPaymentAttemptAt(issuedAt, 3, new Date('2026-02-04T00:10:00Z'))?.toISOString(), '2026-02-06T00:00:05.000Z');
    assert.equal(nextPaymentAttemptAt(issuedAt, 4, new Date('2026-02-06T00:10:00Z')), null);
    assert.equal(nextPaymentAttemptAt(issuedAt, 9, new Date('2026-02-06T00:10:00Z')), null);
  });

  it('counts from the issue, not from the failure: a late attempt does not push the schedule back', () => {
    // Attempt 2 ran late (a worker was down); attempt 3 stays on day 3.
    assert.equal(nextPaymentAttemptAt(issuedAt, 2, new Date('2026-02-03T20:00:00Z'))?.toISOString(), '2026-02-04T00:00:05.000Z');
  });

  it('never answers a past instant: after downtime the next attempt keeps the schedule\'s gap from the catch-up', () => {
    // Nothing ran from February 1 to 9: attempt 2 (due February 2) is the catch-up; attempt 3 two days after it.
    const catchUp = new Date('2026-02-09T08:00:00Z');
    assert.equal(nextPaymentAttemptAt(issuedAt, 2, catchUp)?.toISOString(), '2026-02-11T08:00:00.000Z');
    // The attempt at issue itself ran a week late: the first retry a day after it.
    assert.equal(nextPaymentAttemptAt(issuedAt, 1, catchUp)?.toISOString(), '2026-02-10T08:00:00.000Z');
    // Exactly on the next day of the schedule counts as past.
    assert.equal(nextPaymentAttemptAt(issuedAt, 2, new Date('2026-02-04T00:00:05Z'))?.toISOString(), '2026-02-06T00:00:05.000Z');
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      for (const at of ['2026-02-01T00:00:05Z', '2026-02-03T00:00:00Z', '2026-03-15T00:00:00Z']) {
        const next = nextPaymentAttemptAt(issuedAt, attempt, new Date(at));
        assert.ok(next !== null && next.getTime() > new Date(at).getTime(), `${attempt} at ${at}`);
      }
    }
  });

  it('crosses month and year ends in UTC', () => {
    const issued = new Date('2026-12-31T12:00:00Z');
    assert.equal(nextPaymentAttemptAt(issued, 3, new Date('2027-01-03T12:30:00Z'))?.toISOString(), '2027-01-05T12:00:00.000Z');
  });

  it('refuses nonsense', () => {
    assert.throws(() => nextPaymentAttemptAt(issuedAt, 0, issuedAt), RangeError);
    assert.throws(() => nextPaymentAttemptAt(issuedAt, 1.5, issuedAt), RangeError);
    assert.throws(() => nextPaymentAttemptAt(new Date('nope'), 1, issuedAt), RangeError);
    assert.throws(() => nextPaymentAttemptAt(issuedAt, 1, new Date('nope')), RangeError);
  });
});
