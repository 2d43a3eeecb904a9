import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { remainingTrialDays, trialEndDate } from '../../src/domain/trial.js';

const d = (s: string) => new Date(s);

describe('trialEndDate', () => {
  it('is the start plus whole days of 24 hours', () => {
    assert.deepEqual(trialEndDate(d('2026-11-20T10:30:00Z'), 14), d('2026-12-04T10:30:00Z'));
    assert.deepEqual(trialEndDate(d('2026-02-20T00:00:00Z'), 30), d('2026-03-22T00:00:00Z'));
  });

  it('is null for a plan without a trial', () => {
    assert.equal(trialEndDate(d('2026-11-20T10:30:00Z'), 0), null);
  });

  it('refuses negative or fractional days', () => {
    assert.throws(() => trialEndDate(d('2026-11-20T10:30:00Z'), -1), RangeError);
    assert.throws(() => trialEndDate(d('2026-11-20T10:30:00Z'), 1.5), RangeError);
  });
});

describe('remainingTrialDays', () => {
  const ends = d('2026-12-04T10:30:00Z');

  it('counts the whole trial at its start and a started day as a whole one', () => {
    assert.equal(remainingTrialDays(ends, d('2026-11-20T10:30:00Z')), 14);
    assert.equal(remainingTrialDays(ends, d('2026-11-20T10:30:00.001Z')), 14);
    assert.equal(remainingTrialDays(ends, d('2026-11-21T10:30:00Z')), 13);
    assert.equal(remainingTrialDays(ends, d('2026-12-03T10:30:00Z')), 1);
    assert.equal(remainingTrialDays(ends, d('2026-12-04T10:29:59.999Z')), 1);
  });

  it('is 0 at and after the end, and without a trial', () => {
    assert.equal(remainingTrialDays(ends, ends), 0);
    assert.equal(remainingTrialDays(ends, d('2027-01-01T00:00:00Z')), 0);
    assert.equal(remainingTrialDays(null, d('2026-11-20T10:30:00Z')), 0);
  });

  it('refuses an invalid date', () => {
    assert.throws(() => remainingTrialDays(ends, new Date(Number.NaN)), RangeError);
  });
});
