import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  creditCodeRefusal,
  creditCodeStatus,
  normalizeCreditCode,
  type CreditCodeState,
} from '../../src/domain/credit-code.js';

const now = new Date('2026-11-21T12:00:00Z');
const code = (overrides: Partial<CreditCodeState> = {}): CreditCodeState => ({
  expiresAt: null,
  maxRedemptions: null,
  redemptionCount: 0,
  disabledAt: null,
  ...overrides,
});

describe('normalizeCreditCode', () => {
  it('upper-cases, so codes match without regard to case', () => {
    assert.equal(normalizeCreditCode('welcome-50_x'), 'WELCOME-50_X');
    assert.equal(normalizeCreditCode('WeLcOmE'), 'WELCOME');
  });

  it('drops the blanks around a pasted code', () => {
    assert.equal(normalizeCreditCode('  spring26\n'), 'SPRING26');
  });

  it('refuses what cannot be a code', () => {
    for (const input of ['', 'ab', 'a'.repeat(65), 'WITH SPACE', 'ÉTÉ2026', 'semi;colon', "x' OR 1=1 --"]) {
      assert.equal(normalizeCreditCode(input), null, input);
    }
    assert.equal(normalizeCreditCode('abc'), 'ABC');
    assert.equal(normalizeCreditCode('a'.repeat(64)), 'A'.repeat(64));
  });
});

describe('creditCodeRefusal', () => {
  it('accepts a plain code, and one with uses left before its expiry', () => {
    assert.equal(creditCodeRefusal(code(), now), null);
    assert.equal(creditCodeRefusal(code({ maxRedemptions: 3, redemptionCount: 2, expiresAt: new Date(now.getTime() + 1) }), now), null);
  });

  it('refuses a disabled code, whatever else is true', () => {
    const disabled = code({ disabledAt: new Date(now.getTime() + 60_000), expiresAt: now, maxRedemptions: 1, redemptionCount: 1 });
    assert.equal(creditCodeRefusal(disabled, now), 'disabled');
  });

  it('refuses from the expiry instant on, not before', () => {
    assert.equal(creditCodeRefusal(code({ expiresAt: now }), now), 'expired');
    assert.equal(creditCodeRefusal(code({ expiresAt: new Date(now.getTime() - 1) }), now), 'expired');
    assert.equal(creditCodeRefusal(code({ expiresAt: new Date(now.getTime() + 1) }), now), null);
  });

  it('refuses a code used its maximum number of times', () => {
    assert.equal(creditCodeRefusal(code({ maxRedemptions: 1, redemptionCount: 1 }), now), 'exhausted');
    assert.equal(creditCodeRefusal(code({ maxRedemptions: 1, redemptionCount: 0 }), now), null);
    assert.equal(creditCodeRefusal(code({ maxRedemptions: null, redemptionCount: 1_000_000 }), now), null);
  });

  it('says expired before exhausted', () => {
    assert.equal(creditCodeRefusal(code({ expiresAt: now, maxRedemptions: 1, redemptionCount: 1 }), now), 'expired');
  });
});

describe('creditCodeStatus', () => {
  it('is active when redeemable, else the refusal', () => {
    assert.equal(creditCodeStatus(code(), now), 'active');
    assert.equal(creditCodeStatus(code({ maxRedemptions: 2, redemptionCount: 2 }), now), 'exhausted');
    assert.equal(creditCodeStatus(code({ disabledAt: now }), now), 'disabled');
  });
});
