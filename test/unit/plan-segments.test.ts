import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { periodContaining } from '../../src/domain/billing-period.js';
import { chargeablePlanSegments, type PlanSubscriptionSpan } from '../../src/domain/plan-segments.js';
import { planFeeLines } from '../../src/domain/proration.js';

const d = (s: string) => new Date(s);
const nov = periodContaining(d('2026-11-10T00:00:00Z')); // 30 days

const free: PlanSubscriptionSpan = { planCode: 'FREE', planName: 'Free', monthlyPriceMinor: 0n, startedAt: d('2026-10-01T00:00:00Z'), endedAt: d('2026-11-16T00:00:00Z') };
const team: PlanSubscriptionSpan = { planCode: 'TEAM', planName: 'Team', monthlyPriceMinor: 3000n, startedAt: d('2026-11-16T00:00:00Z'), endedAt: null };

describe('chargeablePlanSegments', () => {
  it('runs the current plan until `until` and keeps closed rows as they are', () => {
    const segments = chargeablePlanSegments([free, team], { until: nov.end, trialEndsAt: null });
    assert.deepEqual(
      segments.map((s) => [s.planCode, s.from.toISOString(), s.to.toISOString()]),
      [
        ['FREE', '2026-10-01T00:00:00.000Z', '2026-11-16T00:00:00.000Z'],
        ['TEAM', '2026-11-16T00:00:00.000Z', '2026-12-01T00:00:00.000Z'],
      ],
    );
    // With planFeeLines: half of November on TEAM costs half its price.
    const lines = planFeeLines({ periodStart: nov.start, periodEnd: nov.end, segments });
    assert.deepEqual(lines.map((l) => l.amountMinor), [0n, 1500n]);
  });

  it('stops every segment at `until` (the cost so far) and drops what starts later', () => {
    const segments = chargeablePlanSegments([free, team], { until: d('2026-11-10T00:00:00Z'), trialEndsAt: null });
    assert.deepEqual(segments.map((s) => [s.planCode, s.to.toISOString()]), [['FREE', '2026-11-10T00:00:00.000Z']]);
  });

  it('charges nothing before the trial ends', () => {
    const segments = chargeablePlanSegments([team], { until: nov.end, trialEndsAt: d('2026-11-23T12:00:00Z') });
    assert.equal(segments.length, 1);
    assert.deepEqual(segments[0]!.from, d('2026-11-23T12:00:00Z'));
    const [line] = planFeeLines({ periodStart: nov.start, periodEnd: nov.end, segments });
    // 7.5 of 30 days.
    assert.equal(line!.amountMinor, 750n);
    assert.equal(chargeablePlanSegments([team], { until: d('2026-11-20T00:00:00Z'), trialEndsAt: d('2026-11-23T12:00:00Z') }).length, 0);
  });

  it('drops a plan changed away from in the same instant', () => {
    const instant: PlanSubscriptionSpan = { ...team, startedAt: d('2026-11-16T00:00:00Z'), endedAt: d('2026-11-16T00:00:00Z') };
    assert.equal(chargeablePlanSegments([instant], { until: nov.end, trialEndsAt: null }).length, 0);
  });

  it('refuses an invalid date', () => {
    assert.throws(() => chargeablePlanSegments([team], { until: new Date(Number.NaN), trialEndsAt: null }), RangeError);
  });
});
