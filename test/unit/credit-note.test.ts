import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { creditNoteAmounts, settleCreditNote, type CreditableInvoice, type CreditedSoFar } from '../../src/domain/credit-note.js';

const nothingYet: CreditedSoFar = { subtotalMinor: 0n, taxByLine: [0n], refundedMinor: 0n, creditsReturnedMinor: 0n, owedReducedMinor: 0n };

// 333 + 8.875 % = 29.55… → 30; paid 233 by card after 100 of credits.
const invoice: CreditableInvoice = {
  subtotalMinor: 333n,
  taxLines: [{ name: 'NY', percentage: '8.875', taxableMinor: 333n, taxMinor: 30n }],
  totalMinor: 263n,
  creditsAppliedMinor: 100n,
  paid: true,
};

describe('credit notes', () => {
  it('credit the tax in reverse, and the last note credits exactly what is left of each tax line', () => {
    const first = creditNoteAmounts(invoice, nothingYet, 111n);
    assert.equal(first.taxMinor, 10n, '9.85 → 10');
    const soFar: CreditedSoFar = { ...nothingYet, subtotalMinor: 111n, taxByLine: [10n] };
    const rest = creditNoteAmounts(invoice, soFar, 222n);
    assert.equal(rest.taxMinor, 20n, 'what is left, not round(19.70) = 20 by chance');
    assert.equal(first.totalMinor + rest.totalMinor, 363n, 'subtotal + tax of the invoice');
    assert.throws(() => creditNoteAmounts(invoice, soFar, 223n), RangeError);
    assert.throws(() => creditNoteAmounts(invoice, nothingYet, 0n), RangeError);
  });

  it('settle a paid invoice: the card first, then the credits it used', () => {
    assert.deepEqual(settleCreditNote(invoice, nothingYet, 200n), { refundMinor: 200n, creditsReturnedMinor: 0n, owedReducedMinor: 0n });
    const refunded = { ...nothingYet, refundedMinor: 200n };
    assert.deepEqual(settleCreditNote(invoice, refunded, 163n), { refundMinor: 63n, creditsReturnedMinor: 100n, owedReducedMinor: 0n });
  });

  it('settle an unpaid invoice: what is owed first, then the credits it used', () => {
    const unpaid = { ...invoice, paid: false };
    assert.deepEqual(settleCreditNote(unpaid, nothingYet, 363n), { refundMinor: 0n, creditsReturnedMinor: 100n, owedReducedMinor: 263n });
    assert.throws(() => settleCreditNote(unpaid, nothingYet, 364n), RangeError);
  });
});
