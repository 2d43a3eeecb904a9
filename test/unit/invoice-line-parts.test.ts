import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clusterChargeForPeriod, type ClusterPeriodInput } from '../../src/domain/cluster-cost.js';
import { clusterLineParts } from '../../src/domain/invoice-line-parts.js';
import { formatAmountWithCode } from '../../src/domain/money.js';
import { periodPortion, planFeeLines } from '../../src/domain/proration.js';

const january = { start: new Date('2026-01-01T00:00:00Z'), end: new Date('2026-02-01T00:00:00Z') };

describe('periodPortion', () => {
  it('labels a whole month by its name and never "prorated"', () => {
    assert.deepEqual(periodPortion(january.start, january.end, january.start, january.end), {
      full: true,
      label: 'January 2026',
      quantity: '1 month',
    });
    // Less than a second short is still the whole period (proration counts whole seconds).
    const almost = periodPortion(january.start, january.end, new Date('2026-01-01T00:00:00.400Z'), january.end);
    assert.equal(almost.full, true);
    assert.equal(almost.label, 'January 2026');
  });

  it('labels part of a period with its days, prorated, and says how many of how many days', () => {
    assert.deepEqual(periodPortion(january.start, january.end, new Date('2026-01-19T00:00:00Z'), january.end), {
      full: false,
      label: 'Jan 19 – Jan 31, 2026, prorated',
      quantity: '13 of 31 days',
    });
    assert.equal(periodPortion(january.start, january.end, new Date('2026-01-19T12:00:00Z'), january.end).quantity, '12.5 of 31 days');
  });

  it('gives plan lines their monthly price as unit price and the portion as quantity', () => {
    const segment = { planCode: 'PRO', planName: 'Pro', monthlyPriceMinor: 9900n };
    const [whole] = planFeeLines({ periodStart: january.start, periodEnd: january.end, segments: [{ ...segment, from: new Date('2025-12-01T00:00:00Z'), to: new Date('2026-03-01T00:00:00Z') }] });
    assert.equal(whole!.description, 'Plan Pro (January 2026)');
    assert.equal(whole!.quantity, '1 month');
    assert.equal(whole!.monthlyPriceMinor, 9900n);
    assert.equal(whole!.amountMinor, 9900n);
    const [part] = planFeeLines({ periodStart: january.start, periodEnd: january.end, segments: [{ ...segment, from: new Date('2026-01-19T00:00:00Z'), to: january.end }] });
    assert.equal(part!.description, 'Plan Pro (Jan 19 – Jan 31, 2026, prorated)');
    assert.equal(part!.quantity, '13 of 31 days');
    assert.equal(part!.amountMinor, 4152n);
    // A few seconds short of the month rounds to the whole price: labelled as the whole month, not prorated.
    const [almost] = planFeeLines({ periodStart: january.start, periodEnd: january.end, segments: [{ ...segment, from: new Date('2026-01-01T00:00:04Z'), to: january.end }] });
    assert.equal(almost!.amountMinor, 9900n);
    assert.equal(almost!.description, 'Plan Pro (January 2026)');
    assert.equal(almost!.quantity, '1 month');
  });
});

function cluster(overrides: Partial<ClusterPeriodInput['pricing']> = {}, activeFrom = january.start, activeUntil: Date | null = null) {
  return {
    pricing: { hourlyPricePerNodeMinor: 20n, minNodes: 1, maxNodes: 3, fixedMonthlyMinor: 0n, currency: 'USD', ...overrides },
    periodStart: january.start,
    periodEnd: january.end,
    activeFrom,
    activeUntil,
  };
}

function partsOf(input: ClusterPeriodInput, usedNodeHours: bigint) {
  const charge = clusterChargeForPeriod({ ...input, usedNodeHours });
  const parts = clusterLineParts({ ...input, usedNodeHours }, charge);
  if (parts.length > 0) assert.equal(parts.reduce((sum, part) => sum + part.amountMinor, 0n), charge.amountMinor, 'the parts sum to the amount');
  return { charge, parts };
}

describe('clusterLineParts', () => {
  it('has none when the line is usage alone: quantity × unit price is the amount', () => {
    const { charge, parts } = partsOf(cluster(), 1000n);
    assert.deepEqual(parts, []);
    assert.equal(charge.amountMinor, 1000n * 20n);
  });

  it('shows a whole month fixed part without "prorated", then the usage', () => {
    const { parts } = partsOf(cluster({ fixedMonthlyMinor: 5000n }), 1000n);
    assert.deepEqual(parts, [
      { description: 'Fixed part (January 2026)', quantity: '1 month', unitPriceMinor: 5000n, amountMinor: 5000n },
      { description: 'Usage (node-hours)', quantity: '1,000', unitPriceMinor: 20n, amountMinor: 20_000n },
    ]);
  });

  it('prorates the fixed part of a cluster registered during the period, and labels it so', () => {
    const { parts } = partsOf(cluster({ fixedMonthlyMinor: 3100n }, new Date('2026-01-17T00:00:00Z')), 100n);
    assert.deepEqual(parts[0], { description: 'Fixed part (Jan 17 – Jan 31, 2026, prorated)', quantity: '15 of 31 days', unitPriceMinor: 3100n, amountMinor: 1500n });
  });

  it('shows the cap or the minimum that bounded the charge', () => {
    const capped = partsOf(cluster(), 5000n);
    assert.deepEqual(capped.parts.at(-1), { description: 'Cap: at most 3 nodes for 744 hours', quantity: null, unitPriceMinor: null, amountMinor: 3n * 744n * 20n - 5000n * 20n });
    const raised = partsOf(cluster(), 10n);
    assert.deepEqual(raised.parts.at(-1), { description: 'Minimum: 1 node for 744 hours', quantity: null, unitPriceMinor: null, amountMinor: 744n * 20n - 10n * 20n });
  });
});

describe('formatAmountWithCode', () => {
  it('prints the ISO code beside exact digits in each currency', () => {
    assert.equal(formatAmountWithCode(2999n, 'USD'), '29.99 USD');
    assert.equal(formatAmountWithCode(-500n, 'USD'), '-5.00 USD');
    assert.equal(formatAmountWithCode(150_000n, 'JPY'), '150,000 JPY');
    assert.equal(formatAmountWithCode(12_345n, 'BHD'), '12.345 BHD');
    assert.equal(formatAmountWithCode(5n, 'BHD'), '0.005 BHD');
    assert.equal(formatAmountWithCode(12_345_678_901_234_567n, 'USD'), '123,456,789,012,345.67 USD');
  });
});
