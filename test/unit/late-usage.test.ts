import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { periodContaining } from '../../src/domain/billing-period.js';
import { clusterChargeForPeriod, type ClusterPeriodInput } from '../../src/domain/cluster-cost.js';
import { lateUsageCharge } from '../../src/domain/late-usage.js';

const january = periodContaining(new Date('2027-01-10T00:00:00Z')); // 744 hours
/** 20 a node-hour, 1 to 2 nodes, no fixed part: January costs 14,880 to 29,760. */
const input: ClusterPeriodInput = {
  pricing: { hourlyPricePerNodeMinor: 20n, minNodes: 1, maxNodes: 2, fixedMonthlyMinor: 0n, currency: 'USD' },
  periodStart: january.start,
  periodEnd: january.end,
  activeFrom: january.start,
  activeUntil: null,
};

describe('lateUsageCharge', () => {
  it('charges what the late node-hours add to the period, in full while below the max', () => {
    assert.deepEqual(lateUsageCharge({ ...input, usedNodeHours: 1300n, lateNodeHours: 300n }), { amountMinor: 6000n, cappedAtMax: false });
  });

  it('stops at the max: the period’s invoice plus every late line never exceed it', () => {
    const invoiced = clusterChargeForPeriod({ ...input, usedNodeHours: 1000n }).amountMinor;
    const first = lateUsageCharge({ ...input, usedNodeHours: 1300n, lateNodeHours: 300n });
    const second = lateUsageCharge({ ...input, usedNodeHours: 1900n, lateNodeHours: 600n });
    assert.deepEqual(second, { amountMinor: 3760n, cappedAtMax: true });
    assert.equal(invoiced + first.amountMinor + second.amountMinor, 29760n);
    assert.deepEqual(lateUsageCharge({ ...input, usedNodeHours: 2500n, lateNodeHours: 600n }), { amountMinor: 0n, cappedAtMax: true });
  });

  it('adds nothing for usage the minimum already paid for, then only what goes beyond it', () => {
    // 700 node-hours were raised to the minimum (744 × 20); 40 late ones stay under it, 100 go 56 beyond it.
    assert.equal(lateUsageCharge({ ...input, usedNodeHours: 740n, lateNodeHours: 40n }).amountMinor, 0n);
    assert.equal(lateUsageCharge({ ...input, usedNodeHours: 800n, lateNodeHours: 100n }).amountMinor, 56n * 20n);
  });

  it('refuses late node-hours that are not part of the used ones', () => {
    assert.throws(() => lateUsageCharge({ ...input, usedNodeHours: 10n, lateNodeHours: 11n }), RangeError);
    assert.throws(() => lateUsageCharge({ ...input, usedNodeHours: 10n, lateNodeHours: -1n }), RangeError);
  });
});
