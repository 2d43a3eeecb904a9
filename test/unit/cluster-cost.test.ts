import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  clusterActiveHours,
  clusterChargeForPeriod,
  clusterCostRange,
  validateClusterPricing,
  type ClusterPricing,
} from '../../src/domain/cluster-cost.js';
import { periodContaining } from '../../src/domain/billing-period.js';

const nov = periodContaining(new Date('2026-11-10T00:00:00Z')); // 720 hours
const d = (s: string) => new Date(s);

const usd: ClusterPricing = { hourlyPricePerNodeMinor: 10n, minNodes: 1, maxNodes: 3, fixedMonthlyMinor: 3000n, currency: 'USD' };

describe('clusterActiveHours', () => {
  it('counts the whole period for a cluster registered before it and still active', () => {
    assert.equal(clusterActiveHours(nov.start, nov.end, d('2026-01-01T00:00:00Z'), null), 720n);
  });

  it('counts a started hour as a whole hour', () => {
    assert.equal(clusterActiveHours(nov.start, nov.end, d('2026-11-30T22:59:59.999Z'), null), 2n);
    assert.equal(clusterActiveHours(nov.start, nov.end, d('2026-11-30T23:00:00Z'), null), 1n);
    assert.equal(clusterActiveHours(nov.start, nov.end, d('2026-11-30T23:59:59.999Z'), null), 1n);
    assert.equal(clusterActiveHours(nov.start, nov.end, d('2026-11-10T00:00:00Z'), d('2026-11-10T00:00:01Z')), 1n);
    assert.equal(clusterActiveHours(nov.start, nov.end, d('2026-11-10T00:00:00Z'), d('2026-11-10T03:00:00Z')), 3n);
  });

  it('is 0 outside the period or for an empty interval', () => {
    assert.equal(clusterActiveHours(nov.start, nov.end, d('2026-12-01T00:00:00Z'), null), 0n);
    assert.equal(clusterActiveHours(nov.start, nov.end, d('2026-10-01T00:00:00Z'), d('2026-11-01T00:00:00Z')), 0n);
    assert.equal(clusterActiveHours(nov.start, nov.end, d('2026-11-05T00:00:00Z'), d('2026-11-05T00:00:00Z')), 0n);
    assert.equal(clusterActiveHours(nov.start, nov.end, d('2026-11-05T00:00:00Z'), d('2026-11-04T00:00:00Z')), 0n);
  });

  it('knows leap February has 696 hours', () => {
    const feb = periodContaining(new Date('2028-02-10T00:00:00Z'));
    assert.equal(clusterActiveHours(feb.start, feb.end, d('2020-01-01T00:00:00Z'), null), 696n);
  });
});

describe('clusterCostRange', () => {
  it('adds the fixed part to hourly × nodes × hours', () => {
    const range = clusterCostRange({ pricing: usd, periodStart: nov.start, periodEnd: nov.end, activeFrom: d('2026-01-01T00:00:00Z'), activeUntil: null });
    assert.deepEqual(range, { minMinor: 3000n + 10n * 1n * 720n, maxMinor: 3000n + 10n * 3n * 720n });
  });

  it('prorates the fixed part by the active share of the period', () => {
    const range = clusterCostRange({ pricing: usd, periodStart: nov.start, periodEnd: nov.end, activeFrom: d('2026-11-16T00:00:00Z'), activeUntil: null });
    assert.deepEqual(range, { minMinor: 1500n + 10n * 360n, maxMinor: 1500n + 30n * 360n });
  });

  it('is zero when the cluster is not active in the period', () => {
    const range = clusterCostRange({ pricing: usd, periodStart: nov.start, periodEnd: nov.end, activeFrom: d('2026-12-05T00:00:00Z'), activeUntil: null });
    assert.deepEqual(range, { minMinor: 0n, maxMinor: 0n });
  });

  it('allows minNodes 0', () => {
    const range = clusterCostRange({ pricing: { ...usd, minNodes: 0 }, periodStart: nov.start, periodEnd: nov.end, activeFrom: nov.start, activeUntil: null });
    assert.equal(range.minMinor, 3000n);
  });

  it('works in zero- and three-decimal currencies (JPY, BHD) with no float arithmetic', () => {
    const jpy: ClusterPricing = { hourlyPricePerNodeMinor: 15n, minNodes: 2, maxNodes: 4, fixedMonthlyMinor: 1001n, currency: 'JPY' };
    // 10 days of 30: fixed 1001 × 1/3 = 333.67 → 334 yen
    const rj = clusterCostRange({ pricing: jpy, periodStart: nov.start, periodEnd: nov.end, activeFrom: nov.start, activeUntil: d('2026-11-11T00:00:00Z') });
    assert.deepEqual(rj, { minMinor: 334n + 15n * 2n * 240n, maxMinor: 334n + 15n * 4n * 240n });
    const bhd: ClusterPricing = { hourlyPricePerNodeMinor: 125n, minNodes: 1, maxNodes: 2, fixedMonthlyMinor: 10_000n, currency: 'BHD' };
    const rb = clusterCostRange({ pricing: bhd, periodStart: nov.start, periodEnd: nov.end, activeFrom: nov.start, activeUntil: null });
    assert.deepEqual(rb, { minMinor: 10_000n + 125n * 720n, maxMinor: 10_000n + 250n * 720n });
  });

  it('refuses an invalid pricing', () => {
    assert.throws(
      () => clusterCostRange({ pricing: { ...usd, minNodes: 4 }, periodStart: nov.start, periodEnd: nov.end, activeFrom: nov.start, activeUntil: null }),
      RangeError,
    );
  });
});

describe('clusterChargeForPeriod', () => {
  const base = { pricing: usd, periodStart: nov.start, periodEnd: nov.end, activeFrom: d('2026-01-01T00:00:00Z'), activeUntil: null };

  it('charges fixed + hourly × used node-hours inside the range', () => {
    const c = clusterChargeForPeriod({ ...base, usedNodeHours: 1000n });
    assert.equal(c.fixedMinor, 3000n);
    assert.equal(c.usageMinor, 10_000n);
    assert.equal(c.amountMinor, 13_000n);
    assert.equal(c.cappedAtMax, false);
    assert.equal(c.raisedToMin, false);
    assert.deepEqual(c.range, { minMinor: 10_200n, maxMinor: 24_600n });
  });

  it('never charges more than the max that was shown', () => {
    const c = clusterChargeForPeriod({ ...base, usedNodeHours: 100_000n });
    assert.equal(c.amountMinor, 24_600n);
    assert.equal(c.usageMinor, 1_000_000n);
    assert.equal(c.cappedAtMax, true);
    assert.equal(c.raisedToMin, false);
  });

  it('raises the charge to the min', () => {
    const c = clusterChargeForPeriod({ ...base, usedNodeHours: 0n });
    assert.equal(c.amountMinor, 10_200n);
    assert.equal(c.raisedToMin, true);
    assert.equal(c.cappedAtMax, false);
  });

  it('exact boundaries are neither capped nor raised', () => {
    const atMin = clusterChargeForPeriod({ ...base, usedNodeHours: 720n });
    assert.equal(atMin.amountMinor, atMin.range.minMinor);
    assert.equal(atMin.raisedToMin, false);
    const atMax = clusterChargeForPeriod({ ...base, usedNodeHours: 2160n });
    assert.equal(atMax.amountMinor, atMax.range.maxMinor);
    assert.equal(atMax.cappedAtMax, false);
  });

  it('charges nothing for a cluster inactive in the period, even with reported usage', () => {
    const c = clusterChargeForPeriod({ ...base, activeFrom: d('2026-12-02T00:00:00Z'), usedNodeHours: 50n });
    assert.equal(c.amountMinor, 0n);
    assert.equal(c.cappedAtMax, true);
  });

  it('stays within the range for any usage (property loop)', () => {
    for (let used = 0n; used <= 3000n; used += 37n) {
      const c = clusterChargeForPeriod({ ...base, activeFrom: d('2026-11-07T05:30:00Z'), usedNodeHours: used });
      assert.ok(c.amountMinor >= c.range.minMinor && c.amountMinor <= c.range.maxMinor);
    }
  });

  it('works in JPY and BHD', () => {
    const jpy = clusterChargeForPeriod({ ...base, pricing: { ...usd, currency: 'JPY', hourlyPricePerNodeMinor: 3n, fixedMonthlyMinor: 0n }, usedNodeHours: 1001n });
    assert.equal(jpy.amountMinor, 3003n);
    const bhd = clusterChargeForPeriod({ ...base, pricing: { ...usd, currency: 'BHD', hourlyPricePerNodeMinor: 1n, fixedMonthlyMinor: 5n }, usedNodeHours: 999n });
    assert.equal(bhd.amountMinor, 1004n);
  });

  it('refuses negative usage', () => {
    assert.throws(() => clusterChargeForPeriod({ ...base, usedNodeHours: -1n }), RangeError);
  });
});

describe('validateClusterPricing', () => {
  it('accepts a sound pricing', () => {
    assert.deepEqual(validateClusterPricing(usd), []);
    assert.deepEqual(validateClusterPricing({ ...usd, minNodes: 0, maxNodes: 1, hourlyPricePerNodeMinor: 0n, fixedMonthlyMinor: 0n }), []);
  });

  it('names each bad field', () => {
    const fields = (p: ClusterPricing) => validateClusterPricing(p).map((e) => e.field);
    assert.deepEqual(fields({ ...usd, hourlyPricePerNodeMinor: -1n }), ['hourlyPricePerNodeMinor']);
    assert.deepEqual(fields({ ...usd, fixedMonthlyMinor: -1n }), ['fixedMonthlyMinor']);
    assert.deepEqual(fields({ ...usd, minNodes: -1 }), ['minNodes']);
    assert.deepEqual(fields({ ...usd, minNodes: 1.5 }), ['minNodes']);
    assert.deepEqual(fields({ ...usd, maxNodes: 0, minNodes: 0 }), ['maxNodes']);
    assert.deepEqual(fields({ ...usd, maxNodes: 2.5 }), ['maxNodes']);
    assert.deepEqual(fields({ ...usd, minNodes: 5, maxNodes: 4 }), ['minNodes']);
    assert.deepEqual(fields({ ...usd, currency: 'usd' }), ['currency']);
    assert.deepEqual(fields({ ...usd, currency: 'XYZ' }), ['currency']);
  });
});
