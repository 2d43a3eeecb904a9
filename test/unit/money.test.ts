import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  currencyDecimals,
  divideRounded,
  formatMoney,
  isKnownCurrency,
  toDecimalString,
  toMajorUnitsNumber,
  toSafeInteger,
} from '../../src/domain/money.js';

describe('money in minor units', () => {
  test('the number of decimals comes from the currency', () => {
    assert.equal(currencyDecimals('USD'), 2);
    assert.equal(currencyDecimals('EUR'), 2);
    assert.equal(currencyDecimals('JPY'), 0);
    assert.equal(currencyDecimals('BHD'), 3);
  });

  test('decimal strings are exact, for every currency and sign', () => {
    assert.equal(toDecimalString(12345n, 'USD'), '123.45');
    assert.equal(toDecimalString(5n, 'USD'), '0.05');
    assert.equal(toDecimalString(-5n, 'USD'), '-0.05');
    assert.equal(toDecimalString(0n, 'USD'), '0.00');
    assert.equal(toDecimalString(12345n, 'JPY'), '12345');
    assert.equal(toDecimalString(12345n, 'BHD'), '12.345');
    assert.equal(toDecimalString(1n, 'BHD'), '0.001');
    // Far beyond what a float holds exactly.
    assert.equal(toDecimalString(123456789012345678901n, 'USD'), '1234567890123456789.01');
  });

  test('major-unit numbers (API `total` fields) derive from the exact decimal', () => {
    assert.equal(toMajorUnitsNumber(30000n, 'USD'), 300);
    assert.equal(toMajorUnitsNumber(1999n, 'USD'), 19.99);
    assert.equal(toMajorUnitsNumber(1999n, 'JPY'), 1999);
    assert.equal(toMajorUnitsNumber(1999n, 'BHD'), 1.999);
  });

  test('JSON integers refuse what a JSON number cannot hold exactly', () => {
    assert.equal(toSafeInteger(9007199254740991n), 9007199254740991);
    assert.throws(() => toSafeInteger(9007199254740992n), RangeError);
    assert.throws(() => toSafeInteger(-9007199254740992n), RangeError);
  });

  test('formatting for documents uses the currency symbol and decimals', () => {
    assert.equal(formatMoney(123456n, 'USD'), '$1,234.56');
    assert.equal(formatMoney(-500n, 'USD'), '-$5.00');
    assert.equal(formatMoney(1234n, 'JPY'), '¥1,234');
    assert.equal(formatMoney(12345n, 'BHD').replace(/\s/g, ' '), 'BHD 12.345');
    assert.equal(formatMoney(12345678901234567n, 'USD'), '$123,456,789,012,345.67');
  });

  test('division rounds half away from zero, in integers', () => {
    assert.equal(divideRounded(5n, 2n), 3n);
    assert.equal(divideRounded(-5n, 2n), -3n);
    assert.equal(divideRounded(4n, 3n), 1n);
    assert.equal(divideRounded(29900n * 15n, 30n), 14950n);
    assert.equal(divideRounded(1n, 3n), 0n);
    assert.equal(divideRounded(2n, 3n), 1n);
    assert.throws(() => divideRounded(1n, 0n), RangeError);
  });

  test('known currencies are ISO 4217 codes', () => {
    assert.equal(isKnownCurrency('USD'), true);
    assert.equal(isKnownCurrency('usd'), false);
    assert.equal(isKnownCurrency('XYZ'), false);
  });
});
