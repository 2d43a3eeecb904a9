import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { brandDisplayName, isCardExpired, validateCardDetails, type CardDetailsInput } from '../../src/domain/card.js';

const now = new Date('2026-11-15T12:00:00Z');

function valid(overrides: Partial<CardDetailsInput> = {}): CardDetailsInput {
  return { number: '4242 4242 4242 4242', cvv: '123', expiryMonth: 12, expiryYear: 2028, ...overrides };
}

describe('validateCardDetails', () => {
  it('accepts a valid Visa, stripping spaces and dashes', () => {
    for (const number of ['4242424242424242', '4242 4242 4242 4242', '4242-4242-4242-4242', ' 4242 - 4242-4242 4242 ']) {
      const result = validateCardDetails(valid({ number }), now);
      assert.deepEqual(result, { ok: true, brand: 'visa', last4: '4242', digits: '4242424242424242' });
    }
  });

  it('detects brands through card-validator', () => {
    const cases: Array<[string, string, string]> = [
      ['5555 5555 5555 4444', '123', 'mastercard'],
      ['3782 822463 10005', '1234', 'american-express'],
      ['6011 1111 1111 1117', '123', 'discover'],
      ['3530 1113 3330 0000', '123', 'jcb'],
    ];
    for (const [number, cvv, brand] of cases) {
      const result = validateCardDetails(valid({ number, cvv }), now);
      assert.equal(result.ok, true, number);
      if (result.ok) assert.equal(result.brand, brand);
    }
  });

  it('rejects a number failing the Luhn check', () => {
    const result = validateCardDetails(valid({ number: '4242 4242 4242 4241' }), now);
    assert.equal(result.ok, false);
    if (!result.ok) assert.deepEqual(result.errors.map((e) => e.field), ['number']);
  });

  it('rejects empty, non-digit, too short and unknown-brand numbers', () => {
    for (const number of ['', '   ', '4242x4242424242424', '4242', '0000000000000000', '9999 9999 9999 9995']) {
      const result = validateCardDetails(valid({ number }), now);
      assert.equal(result.ok, false, number);
      if (!result.ok) assert.ok(result.errors.some((e) => e.field === 'number'), number);
    }
  });

  it('requires a CVV of 3 digits, 4 for American Express', () => {
    const visa = (cvv: string) => validateCardDetails(valid({ cvv }), now);
    const amex = (cvv: string) => validateCardDetails(valid({ number: '378282246310005', cvv }), now);
    assert.equal(visa('123').ok, true);
    assert.equal(visa(' 123 ').ok, true);
    for (const cvv of ['', '12', '1234', '12a', '1 3']) assert.equal(visa(cvv).ok, false, cvv);
    assert.equal(amex('1234').ok, true);
    for (const cvv of ['123', '12345', '']) assert.equal(amex(cvv).ok, false, cvv);
    const result = amex('123');
    if (!result.ok) {
      assert.deepEqual(result.errors.map((e) => e.field), ['cvv']);
      assert.match(result.errors[0].message, /four digits/);
    }
  });

  it('checks month and year', () => {
    for (const expiryMonth of [0, 13, 1.5, -1, Number.NaN]) {
      const result = validateCardDetails(valid({ expiryMonth }), now);
      assert.equal(result.ok, false);
      if (!result.ok) assert.deepEqual(result.errors.map((e) => e.field), ['expiry_month']);
    }
    for (const expiryYear of [28, 202, 20280, 2028.5]) {
      const result = validateCardDetails(valid({ expiryYear }), now);
      assert.equal(result.ok, false);
      if (!result.ok) assert.deepEqual(result.errors.map((e) => e.field), ['expiry_year']);
    }
  });

  it('accepts a card through the end of its expiry month and rejects it after', () => {
    assert.equal(validateCardDetails(valid({ expiryMonth: 11, expiryYear: 2026 }), now).ok, true);
    const lastInstant = new Date('2026-11-30T23:59:59.999Z');
    assert.equal(validateCardDetails(valid({ expiryMonth: 11, expiryYear: 2026 }), lastInstant).ok, true);
    const expired = validateCardDetails(valid({ expiryMonth: 10, expiryYear: 2026 }), now);
    assert.equal(expired.ok, false);
    if (!expired.ok) assert.deepEqual(expired.errors, [{ field: 'expiry_month', message: 'The card has expired.' }]);
    const lastYear = validateCardDetails(valid({ expiryMonth: 12, expiryYear: 2025 }), now);
    if (!lastYear.ok) assert.deepEqual(lastYear.errors.map((e) => e.field), ['expiry_year']);
    else assert.fail('expected expired');
  });

  it('reports every invalid field at once', () => {
    const result = validateCardDetails({ number: '1234', cvv: 'x', expiryMonth: 13, expiryYear: 99 }, now);
    assert.equal(result.ok, false);
    if (!result.ok) assert.deepEqual(result.errors.map((e) => e.field).sort(), ['cvv', 'expiry_month', 'expiry_year', 'number']);
  });

  it('never puts the card number or the CVV into an error message', () => {
    const numbers = ['4242424242424241', '4242 4242 4242 4241', '378282246310006', '5555555555554443', '1234567890123', '4242x', '6011111111111117'];
    const cvvs = ['123', '1234', '12345', '99', '7a7', '0000'];
    const months = [0, 1, 12, 13];
    const years = [2025, 2026, 2030, 26];
    let checked = 0;
    for (const number of numbers) {
      for (const cvv of cvvs) {
        for (const expiryMonth of months) {
          for (const expiryYear of years) {
            const result = validateCardDetails({ number, cvv, expiryMonth, expiryYear }, now);
            if (result.ok) continue;
            const digits = number.replace(/[\s-]/g, '');
            for (const error of result.errors) {
              checked += 1;
              assert.ok(!error.message.includes(number), 'message contains the number');
              assert.ok(!error.message.includes(digits), 'message contains the digits');
              assert.ok(!error.message.includes(digits.slice(-4)), 'message contains the last 4');
              assert.ok(!error.message.includes(cvv), 'message contains the CVV');
            }
          }
        }
      }
    }
    assert.ok(checked > 100);
  });
});

describe('isCardExpired', () => {
  it('is valid through the last instant of the expiry month, UTC', () => {
    assert.equal(isCardExpired(11, 2026, new Date('2026-11-30T23:59:59.999Z')), false);
    assert.equal(isCardExpired(11, 2026, new Date('2026-12-01T00:00:00.000Z')), true);
    assert.equal(isCardExpired(12, 2026, new Date('2026-12-31T23:59:59.999Z')), false);
    assert.equal(isCardExpired(12, 2026, new Date('2027-01-01T00:00:00.000Z')), true);
    assert.equal(isCardExpired(2, 2028, new Date('2028-02-29T12:00:00Z')), false);
    assert.equal(isCardExpired(1, 2030, now), false);
    assert.equal(isCardExpired(1, 2020, now), true);
  });

  it('does not depend on the local time zone (a UTC+14 evening is still the same UTC month)', () => {
    assert.equal(isCardExpired(11, 2026, new Date('2026-12-01T09:00:00+14:00')), false);
  });

  it('throws for an invalid month or year', () => {
    assert.throws(() => isCardExpired(0, 2026, now), RangeError);
    assert.throws(() => isCardExpired(13, 2026, now), RangeError);
    assert.throws(() => isCardExpired(5, 26, now), RangeError);
  });
});

describe('brandDisplayName', () => {
  it('maps card-validator types and uppercases the rest', () => {
    assert.equal(brandDisplayName('visa'), 'VISA');
    assert.equal(brandDisplayName('mastercard'), 'MASTERCARD');
    assert.equal(brandDisplayName('american-express'), 'AMEX');
    assert.equal(brandDisplayName('diners-club'), 'DINERS CLUB');
    assert.equal(brandDisplayName('discover'), 'DISCOVER');
    assert.equal(brandDisplayName('jcb'), 'JCB');
    assert.equal(brandDisplayName('unionpay'), 'UNIONPAY');
    assert.equal(brandDisplayName('some-new-brand'), 'SOME-NEW-BRAND');
    assert.equal(brandDisplayName('toString'), 'TOSTRING');
  });
});
