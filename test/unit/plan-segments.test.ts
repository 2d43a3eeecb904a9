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
    const segments = chargeablePlanSegments([free, team], { until: nov.end, trial: null });
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
    const segments = chargeablePlanSegments([free, team], { until: d('2026-11-10T00:00:00Z'), trial: null });
    assert.deepEqual(segments.map((s) => [s.planCode, s.to.toISOString()]), [['FREE', '2026-11-10T00:00:00.000Z']]);
  });

  it('charges nothing during the trial', () => {
    const segments = chargeablePlanSegments([team], { until: nov.end, trial: { startsAt: team.startedAt, endsAt: d('2026-11-23T12:00:00Z') } });
    assert.equal(segments.length, 1);
    assert.deepEqual(segments[0]!.from, d('2026-11-23T12:00:00Z'));
    const [line] = planFeeLines({ periodStart: nov.start, periodEnd: nov.end, segments });
    // 7.5 of 30 days.
    assert.equal(line!.amountMinor, 750n);
    assert.equal(chargeablePlanSegments([team], { until: d('2026-11-20T00:00:00Z'), trial: { startsAt: team.startedAt, endsAt: d('2026-11-23T12:00:00Z') } }).length, 0);
  });

  it('charges the paid time before the trial started (the trial frees its own window only)', () => {
    const paid: PlanSubscriptionSpan = { ...free, planCode: 'BASIC', monthlyPriceMinor: 3000n, startedAt: d('2026-11-01T00:00:00Z') };
    const trial = { startsAt: d('2026-11-16T00:00:00Z'), endsAt: d('2026-11-23T00:00:00Z') };
    const segments = chargeablePlanSegments([paid, team], { until: nov.end, trial });
    assert.deepEqual(
      segments.map((s) => [s.planCode, s.from.toISOString(), s.to.toISOString()]),
      [
        ['BASIC', '2026-11-01T00:00:00.000Z', '2026-11-16T00:00:00.000Z'],
        ['TEAM', '2026-11-23T00:00:00.000Z', '2026-12-01T00:00:00.000Z'],
      ],
    );
    assert.deepEqual(planFeeLines({ periodStart: nov.start, periodEnd: nov.end, segments }).map((l) => l.amountMinor), [1500n, 800n]);
    // The cost so far does not drop when the trial starts: at the change and during the trial it is the paid half.
    for (const until of ['2026-11-16T00:00:00Z', '2026-11-20T00:00:00Z', '2026-11-23T00:00:00Z']) {
      const soFar = chargeablePlanSegments([paid, team], { until: d(until), trial });
      assert.deepEqual(planFeeLines({ periodStart: nov.start, periodEnd: nov.end, segments: soFar }).map((l) => l.amountMinor), [1500n], until);
    }
  });

  it('frees only the last day of a month when the trial starts on it', () => {
    const paid: PlanSubscriptionSpan = { ...free, planCode: 'BASIC', monthlyPriceMinor: 3000n, startedAt: d('2026-11-01T00:00:00Z'), endedAt: d('2026-11-30T00:00:00Z') };
    const pro: PlanSubscriptionSpan = { ...team, startedAt: d('2026-11-30T00:00:00Z') };
    const trial = { startsAt: d('2026-11-30T00:00:00Z'), endsAt: d('2026-12-07T00:00:00Z') };
    const segments = chargeablePlanSegments([paid, pro], { until: nov.end, trial });
    assert.deepEqual(planFeeLines({ periodStart: nov.start, periodEnd: nov.end, segments }).map((l) => [l.planCode, l.amountMinor]), [['BASIC', 2900n]]);
  });

  it('charges a plan on both sides of a trial window inside it', () => {
    const trial = { startsAt: d('2026-11-20T00:00:00Z'), endsAt: d('2026-11-25T00:00:00Z') };
    const segments = chargeablePlanSegments([team], { until: nov.end, trial });
    assert.deepEqual(
      segments.map((s) => [s.from.toISOString(), s.to.toISOString()]),
      [
        ['2026-11-16T00:00:00.000Z', '2026-11-20T00:00:00.000Z'],
        ['2026-11-25T00:00:00.000Z', '2026-12-01T00:00:00.000Z'],
      ],
    );
  });

  it('drops a plan changed away from in the same instant', () => {
    const instant: PlanSubscriptionSpan = { ...team, startedAt: d('2026-11-16T00:00:00Z'), endedAt: d('2026-11-16T00:00:00Z') };
    assert.equal(chargeablePlanSegments([instant], { until: nov.end, trial: null }).length, 0);
  });

  it('refuses an invalid date', () => {
    assert.throws(() => chargeablePlanSegments([team], { until: new Date(Number.NaN), trial: null }), RangeError);
  });
});
