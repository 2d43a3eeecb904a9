/** The restriction codes of the one billing-status rule, and the CSV writer of usage reports. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateBillingStatus, NO_CREDIT_CARD_MESSAGE, type BillingStatusInput } from '../../src/domain/billing-status.js';
import { csvField, toCsv } from '../../src/domain/csv.js';

const now = new Date('2026-12-20T00:00:00Z');
const overdue = { number: 'INV-000001', issuedAt: new Date('2026-12-01T00:00:00Z'), totalMinor: 4900n, currency: 'USD' };
const invoiced = (values: Partial<BillingStatusInput> = {}): BillingStatusInput => ({
  planKind: 'invoiced', now, unpaidInvoices: [], creditBalanceMinor: 0n, currency: 'USD', hasUsableCard: true, ...values,
});

describe('deployment restriction', () => {
  it('is null for an invoiced plan in good standing with a usable card', () => {
    assert.equal(evaluateBillingStatus(invoiced()).reason, null);
  });
  it('is NO_CREDIT_CARD without a usable card, billing still valid', () => {
    assert.deepEqual(evaluateBillingStatus(invoiced({ hasUsableCard: false })), {
      isValid: true,
      message: `Billing is in good standing. ${NO_CREDIT_CARD_MESSAGE}`,
      reason: 'NO_CREDIT_CARD',
    });
  });
  it('is INVOICE_UNPAID for an overdue invoice, whether or not there is a card', () => {
    for (const hasUsableCard of [true, false]) {
      const status = evaluateBillingStatus(invoiced({ unpaidInvoices: [overdue], hasUsableCard }));
      assert.equal(status.isValid, false);
      assert.equal(status.reason, 'INVOICE_UNPAID');
    }
  });
  it('is NO_CREDIT_LEFT for a credits plan without credit; a card does not matter there', () => {
    assert.equal(evaluateBillingStatus(invoiced({ planKind: 'credits', hasUsableCard: true })).reason, 'NO_CREDIT_LEFT');
    assert.equal(evaluateBillingStatus(invoiced({ planKind: 'credits', creditBalanceMinor: 1n, hasUsableCard: false })).reason, null);
  });
});

describe('CSV', () => {
  it('quotes commas, quotes and line breaks, and neutralises formulas in text only', () => {
    assert.equal(csvField('a,b'), '"a,b"');
    assert.equal(csvField('say "hi"'), '"say ""hi"""');
    assert.equal(csvField('two\nlines'), '"two\nlines"');
    assert.equal(csvField('=SUM(A1)'), "'=SUM(A1)");
    assert.equal(csvField('-1.50', true), '-1.50');
    assert.equal(toCsv(['name', 'amount'], [['@x', '-2']], new Set(['amount'])), "name,amount\r\n'@x,-2\r\n");
  });
});
