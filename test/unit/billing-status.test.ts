import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  evaluateBillingStatus,
  isInvoiceOverdue,
  UNPAID_INVOICE_GRACE_DAYS,
  UNPAID_INVOICE_GRACE_MS,
  type BillingStatusInput,
  type UnpaidInvoiceSummary,
} from '../../src/domain/billing-status.js';
import { formatMoney } from '../../src/domain/money.js';

const issued = new Date('2026-11-01T10:00:00Z');
const DAY = 86_400_000;
const at = (ms: number) => new Date(issued.getTime() + ms);

function invoice(overrides: Partial<UnpaidInvoiceSummary> = {}): UnpaidInvoiceSummary {
  return { number: 'INV-000012', issuedAt: issued, totalMinor: 12_000n, currency: 'USD', ...overrides };
}

function invoiced(now: Date, unpaidInvoices: UnpaidInvoiceSummary[]): BillingStatusInput {
  return { planKind: 'invoiced', now, unpaidInvoices, creditBalanceMinor: 0n, currency: 'USD', hasUsableCard: true };
}

describe('grace constant', () => {
  it('is seven days', () => {
    assert.equal(UNPAID_INVOICE_GRACE_DAYS, 7);
    assert.equal(UNPAID_INVOICE_GRACE_MS, 7 * DAY);
  });
});

describe('evaluateBillingStatus — invoiced plan', () => {
  it('is in good standing with no unpaid invoice', () => {
    assert.deepEqual(evaluateBillingStatus(invoiced(at(100 * DAY), [])), { isValid: true, message: 'Billing is in good standing.', reason: null });
  });

  it('is still valid at exactly 7 days, invalid one millisecond later', () => {
    assert.equal(evaluateBillingStatus(invoiced(at(7 * DAY - 1), [invoice()])).isValid, true);
    assert.equal(evaluateBillingStatus(invoiced(at(7 * DAY), [invoice()])).isValid, true);
    assert.equal(evaluateBillingStatus(invoiced(at(7 * DAY + 1), [invoice()])).isValid, false);
    assert.equal(isInvoiceOverdue(issued, at(7 * DAY)), false);
    assert.equal(isInvoiceOverdue(issued, at(7 * DAY + 1)), true);
  });

  it('names the overdue invoice, its amount and since when', () => {
    const status = evaluateBillingStatus(invoiced(at(8 * DAY), [invoice()]));
    assert.deepEqual(status, {
      isValid: false,
      message: 'Invoice INV-000012 of $120.00 has been unpaid since Nov 1, 2026. Pay it or update your credit card to keep deploying.',
      reason: 'INVOICE_UNPAID',
    });
  });

  it('names the oldest overdue invoice, ignoring recent ones', () => {
    const status = evaluateBillingStatus(
      invoiced(new Date('2026-12-20T00:00:00Z'), [
        invoice({ number: 'INV-000020', issuedAt: new Date('2026-12-15T00:00:00Z') }),
        invoice({ number: 'INV-000014', issuedAt: new Date('2026-11-20T00:00:00Z'), totalMinor: 5000n }),
        invoice({ number: 'INV-000013', issuedAt: new Date('2026-11-05T00:00:00Z'), totalMinor: 9999n }),
      ]),
    );
    assert.equal(status.isValid, false);
    assert.match(status.message, /^Invoice INV-000013 of \$99\.99 has been unpaid since Nov 5, 2026\./);
  });

  it('formats the date in UTC', () => {
    const status = evaluateBillingStatus(invoiced(new Date('2026-12-20T00:00:00Z'), [invoice({ issuedAt: new Date('2026-11-30T23:30:00Z') })]));
    assert.match(status.message, /since Nov 30, 2026\./);
  });

  it('formats JPY and BHD amounts with their own decimals', () => {
    const jpy = evaluateBillingStatus(invoiced(at(30 * DAY), [invoice({ totalMinor: 12_000n, currency: 'JPY' })]));
    assert.match(jpy.message, /of ¥12,000 has been unpaid/);
    const bhd = evaluateBillingStatus(invoiced(at(30 * DAY), [invoice({ totalMinor: 12_345n, currency: 'BHD' })]));
    assert.match(bhd.message, /of BHD\s12\.345 has been unpaid/); // ICU: no-break space after the code
  });
});

describe('evaluateBillingStatus — credits plan', () => {
  const credits = (creditBalanceMinor: bigint, currency = 'USD'): BillingStatusInput => ({
    planKind: 'credits',
    now: issued,
    unpaidInvoices: [],
    creditBalanceMinor,
    currency,
    hasUsableCard: false,
  });

  it('is invalid at zero or negative balance', () => {
    for (const balance of [0n, -1n, -5000n]) {
      assert.deepEqual(evaluateBillingStatus(credits(balance)), {
        isValid: false,
        message: 'No credit left: add a credit code or move to a paid plan to keep deploying.',
        reason: 'NO_CREDIT_LEFT',
      });
    }
  });

  it('is valid with credit left and says how much', () => {
    const status = evaluateBillingStatus(credits(1n));
    assert.equal(status.isValid, true);
    assert.equal(status.message, 'Billing is in good standing. Remaining credit: $0.01.');
    assert.equal(evaluateBillingStatus(credits(500n, 'JPY')).message, 'Billing is in good standing. Remaining credit: ¥500.');
    assert.equal(evaluateBillingStatus(credits(1500n, 'BHD')).message, `Billing is in good standing. Remaining credit: ${formatMoney(1500n, 'BHD')}.`);
    assert.match(formatMoney(1500n, 'BHD'), /^BHD\s1\.500$/);
  });

  it('counts an unpaid invoice like an invoiced plan does: invalid once it is overdue, whatever the balance', () => {
    const overdue = evaluateBillingStatus({ ...credits(100n), now: at(30 * DAY), unpaidInvoices: [invoice()] });
    assert.equal(overdue.isValid, false);
    assert.equal(overdue.reason, 'INVOICE_UNPAID');
    const withinGrace = evaluateBillingStatus({ ...credits(100n), now: at(7 * DAY), unpaidInvoices: [invoice()] });
    assert.equal(withinGrace.isValid, true);
    // No credit left is said first: it is what a credits plan needs.
    assert.equal(evaluateBillingStatus({ ...credits(0n), now: at(30 * DAY), unpaidInvoices: [invoice()] }).reason, 'NO_CREDIT_LEFT');
  });
});
