import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { composeInvoice, type ComposeInvoiceInput } from '../../src/domain/invoice-math.js';
import { applyCredits } from '../../src/domain/credit-application.js';
import { formatMoney } from '../../src/domain/money.js';

function input(overrides: Partial<ComposeInvoiceInput> = {}): ComposeInvoiceInput {
  return {
    currency: 'USD',
    planLines: [{ description: 'Plan TEAM (November 2026)', amountMinor: 3000n }],
    usageLines: [{ description: 'Cluster prod', quantity: '720 node-hours', amountMinor: 7200n }],
    availableCreditMinor: 0n,
    applyCredits: false,
    ...overrides,
  };
}

describe('composeInvoice', () => {
  it('sums plan and usage lines, in order, with kinds', () => {
    const inv = composeInvoice(input());
    assert.deepEqual(inv.lines, [
      { kind: 'plan', description: 'Plan TEAM (November 2026)', quantity: null, amountMinor: 3000n },
      { kind: 'usage', description: 'Cluster prod', quantity: '720 node-hours', amountMinor: 7200n },
    ]);
    assert.equal(inv.subtotalMinor, 10_200n);
    assert.equal(inv.creditsAppliedMinor, 0n);
    assert.equal(inv.totalMinor, 10_200n);
  });

  it('does not apply credits unless asked', () => {
    const inv = composeInvoice(input({ availableCreditMinor: 5000n, applyCredits: false }));
    assert.equal(inv.creditsAppliedMinor, 0n);
    assert.equal(inv.totalMinor, 10_200n);
    assert.ok(inv.lines.every((l) => l.kind !== 'credit'));
  });

  it('applies part of the subtotal as one negative credit line', () => {
    const inv = composeInvoice(input({ availableCreditMinor: 5000n, applyCredits: true }));
    assert.equal(inv.creditsAppliedMinor, 5000n);
    assert.equal(inv.totalMinor, 5200n);
    const credits = inv.lines.filter((l) => l.kind === 'credit');
    assert.deepEqual(credits, [{ kind: 'credit', description: 'Credits applied', quantity: null, amountMinor: -5000n }]);
    assert.equal(inv.lines[inv.lines.length - 1].kind, 'credit');
  });

  it('never applies more credit than the subtotal', () => {
    const inv = composeInvoice(input({ availableCreditMinor: 1_000_000n, applyCredits: true }));
    assert.equal(inv.creditsAppliedMinor, 10_200n);
    assert.equal(inv.totalMinor, 0n);
  });

  it('never applies a negative credit, and adds no line for zero', () => {
    for (const availableCreditMinor of [0n, -500n]) {
      const inv = composeInvoice(input({ availableCreditMinor, applyCredits: true }));
      assert.equal(inv.creditsAppliedMinor, 0n);
      assert.equal(inv.totalMinor, 10_200n);
      assert.ok(inv.lines.every((l) => l.kind !== 'credit'));
    }
  });

  it('handles an empty invoice', () => {
    const inv = composeInvoice(input({ planLines: [], usageLines: [], availableCreditMinor: 100n, applyCredits: true }));
    assert.deepEqual(inv, { lines: [], subtotalMinor: 0n, taxLines: [], taxMinor: 0n, creditsAppliedMinor: 0n, totalMinor: 0n });
  });

  it('keeps the invariants for many combinations (property loop)', () => {
    for (const plan of [0n, 1n, 999n, 3000n]) {
      for (const usage of [0n, 1n, 12_345n]) {
        for (const credit of [-1n, 0n, 1n, 1000n, 20_000n]) {
          for (const applyCredits of [true, false]) {
            const inv = composeInvoice(input({ planLines: [{ description: 'p', amountMinor: plan }], usageLines: [{ description: 'u', quantity: null, amountMinor: usage }], availableCreditMinor: credit, applyCredits }));
            assert.equal(inv.subtotalMinor, plan + usage);
            assert.ok(inv.creditsAppliedMinor >= 0n && inv.creditsAppliedMinor <= inv.subtotalMinor);
            assert.ok(inv.creditsAppliedMinor <= (credit > 0n ? credit : 0n));
            assert.equal(inv.totalMinor, inv.subtotalMinor - inv.creditsAppliedMinor);
            assert.equal(inv.lines.reduce((sum, l) => sum + l.amountMinor, 0n), inv.totalMinor);
            assert.ok(inv.totalMinor >= 0n);
          }
        }
      }
    }
  });

  it('works in JPY (0 decimals) and BHD (3 decimals)', () => {
    const jpy = composeInvoice({ currency: 'JPY', planLines: [{ description: 'p', amountMinor: 4980n }], usageLines: [{ description: 'u', quantity: '3', amountMinor: 21n }], availableCreditMinor: 1000n, applyCredits: true });
    assert.equal(jpy.totalMinor, 4001n);
    assert.equal(formatMoney(jpy.totalMinor, 'JPY'), '¥4,001');
    const bhd = composeInvoice({ currency: 'BHD', planLines: [{ description: 'p', amountMinor: 12_345n }], usageLines: [{ description: 'u', quantity: null, amountMinor: 5n }], availableCreditMinor: 350n, applyCredits: true });
    assert.equal(bhd.subtotalMinor, 12_350n);
    assert.equal(bhd.totalMinor, 12_000n);
    assert.match(formatMoney(bhd.totalMinor, 'BHD'), /^BHD\s12\.000$/); // ICU puts a no-break space after the code
  });

  it('is exact beyond the float range', () => {
    const big = 2n ** 60n + 1n;
    const inv = composeInvoice(input({ planLines: [{ description: 'p', amountMinor: big }], usageLines: [{ description: 'u', quantity: null, amountMinor: big }], availableCreditMinor: 1n, applyCredits: true }));
    assert.equal(inv.totalMinor, 2n * big - 1n);
  });

  it('refuses an unknown currency', () => {
    assert.throws(() => composeInvoice(input({ currency: 'XYZ' })), RangeError);
  });
});

describe('applyCredits', () => {
  it('takes what the balance has, up to the amount; nothing from an empty or negative balance', () => {
    assert.deepEqual(applyCredits(9900n, 5000n), { creditsAppliedMinor: 5000n, remainingMinor: 4900n });
    assert.deepEqual(applyCredits(9900n, 20000n), { creditsAppliedMinor: 9900n, remainingMinor: 0n });
    assert.deepEqual(applyCredits(9900n, 0n), { creditsAppliedMinor: 0n, remainingMinor: 9900n });
    assert.deepEqual(applyCredits(9900n, -100n), { creditsAppliedMinor: 0n, remainingMinor: 9900n });
    assert.deepEqual(applyCredits(0n, 5000n), { creditsAppliedMinor: 0n, remainingMinor: 0n });
  });
});
