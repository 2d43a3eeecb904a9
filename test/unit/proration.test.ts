import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { planFeeLines, prorate, type PlanSegment } from '../../src/domain/proration.js';
import { periodContaining, secondsBetween } from '../../src/domain/billing-period.js';

const nov = periodContaining(new Date('2026-11-10T00:00:00Z'));
const NOV_SECONDS = 30n * 86_400n;
const d = (s: string) => new Date(s);

function team(from: string, to: string, monthlyPriceMinor = 3000n): PlanSegment {
  return { planCode: 'team', planName: 'TEAM', monthlyPriceMinor, from: d(from), to: d(to) };
}

describe('prorate', () => {
  it('gives the full amount for the full period and nothing for none', () => {
    assert.equal(prorate(3000n, NOV_SECONDS, NOV_SECONDS), 3000n);
    assert.equal(prorate(3000n, 0n, NOV_SECONDS), 0n);
  });

  it('clamps active seconds into [0, period]', () => {
    assert.equal(prorate(3000n, NOV_SECONDS * 2n, NOV_SECONDS), 3000n);
    assert.equal(prorate(3000n, -5n, NOV_SECONDS), 0n);
  });

  it('rounds half away from zero', () => {
    assert.equal(prorate(1n, 1n, 2n), 1n); // 0.5 → 1
    assert.equal(prorate(3n, 1n, 2n), 2n); // 1.5 → 2
    assert.equal(prorate(5n, 1n, 3n), 2n); // 1.67 → 2
    assert.equal(prorate(4n, 1n, 3n), 1n); // 1.33 → 1
    assert.equal(prorate(-1n, 1n, 2n), -1n); // -0.5 → -1
  });

  it('prorates half of November exactly', () => {
    assert.equal(prorate(3000n, 15n * 86_400n, NOV_SECONDS), 1500n);
  });

  it('is exact for amounts far beyond the float range', () => {
    const big = 10n ** 30n + 7n;
    assert.equal(prorate(big, 1n, 3n), (big + 1n) / 3n);
  });

  it('refuses an empty period', () => {
    assert.throws(() => prorate(100n, 0n, 0n), RangeError);
    assert.throws(() => prorate(100n, 0n, -1n), RangeError);
  });
});

describe('planFeeLines', () => {
  it('charges exactly the monthly price for a full-period segment, whatever its price', () => {
    for (const price of [0n, 1n, 2999n, 3001n, 123_456_789n]) {
      const lines = planFeeLines({ periodStart: nov.start, periodEnd: nov.end, segments: [team('2026-01-01T00:00:00Z', '2027-06-01T00:00:00Z', price)] });
      assert.equal(lines.length, 1);
      assert.equal(lines[0].amountMinor, price);
      assert.equal(lines[0].description, 'Plan TEAM (November 2026)');
      assert.equal(lines[0].from.toISOString(), nov.start.toISOString());
      assert.equal(lines[0].to.toISOString(), nov.end.toISOString());
      assert.equal(lines[0].planCode, 'team');
    }
  });

  it('clips to the period and prorates by seconds', () => {
    const lines = planFeeLines({
      periodStart: nov.start,
      periodEnd: nov.end,
      segments: [team('2026-10-20T00:00:00Z', '2026-11-16T00:00:00Z'), { ...team('2026-11-16T00:00:00Z', '2027-01-01T00:00:00Z', 9000n), planCode: 'business', planName: 'BUSINESS' }],
    });
    assert.deepEqual(
      lines.map((l) => [l.description, l.planCode, l.amountMinor, l.from.toISOString(), l.to.toISOString()]),
      [
        ['Plan TEAM (Nov 1 – Nov 15, 2026, prorated)', 'team', 1500n, '2026-11-01T00:00:00.000Z', '2026-11-16T00:00:00.000Z'],
        ['Plan BUSINESS (Nov 16 – Nov 30, 2026, prorated)', 'business', 4500n, '2026-11-16T00:00:00.000Z', '2026-12-01T00:00:00.000Z'],
      ],
    );
  });

  it('rounds with divideRounded', () => {
    // 1000 × 10 days / 30 days = 333.33 → 333 ; 1000 × 20/30 = 666.67 → 667
    const lines = planFeeLines({
      periodStart: nov.start,
      periodEnd: nov.end,
      segments: [team('2026-11-01T00:00:00Z', '2026-11-11T00:00:00Z', 1000n), team('2026-11-11T00:00:00Z', '2026-12-01T00:00:00Z', 1000n)],
    });
    assert.deepEqual(lines.map((l) => l.amountMinor), [333n, 667n]);
  });

  it('uses the share of the actual month length (leap February)', () => {
    const feb = periodContaining(new Date('2028-02-10T00:00:00Z'));
    assert.equal(secondsBetween(feb.start, feb.end), 29n * 86_400n);
    const [line] = planFeeLines({ periodStart: feb.start, periodEnd: feb.end, segments: [team('2028-02-01T00:00:00Z', '2028-02-02T00:00:00Z', 2900n)] });
    assert.equal(line.amountMinor, 100n);
    assert.equal(line.description, 'Plan TEAM (Feb 1, 2028, prorated)');
    const [full] = planFeeLines({ periodStart: feb.start, periodEnd: feb.end, segments: [team('2028-02-01T00:00:00Z', '2028-03-01T00:00:00Z', 2900n)] });
    assert.equal(full.description, 'Plan TEAM (February 2028)');
    assert.equal(full.amountMinor, 2900n);
  });

  it('shows the last day a segment ending mid-day was active', () => {
    const [line] = planFeeLines({ periodStart: nov.start, periodEnd: nov.end, segments: [team('2026-11-03T12:00:00Z', '2026-11-15T12:00:00Z')] });
    assert.equal(line.description, 'Plan TEAM (Nov 3 – Nov 15, 2026, prorated)');
    assert.equal(line.amountMinor, 1200n);
  });

  it('drops segments that are empty or outside the period', () => {
    const lines = planFeeLines({
      periodStart: nov.start,
      periodEnd: nov.end,
      segments: [
        team('2026-11-05T00:00:00Z', '2026-11-05T00:00:00Z'),
        team('2026-10-01T00:00:00Z', '2026-11-01T00:00:00Z'),
        team('2026-12-01T00:00:00Z', '2027-01-01T00:00:00Z'),
        team('2026-11-20T00:00:00Z', '2026-11-10T00:00:00Z'),
      ],
    });
    assert.deepEqual(lines, []);
  });

  it('refuses an empty period and a negative price', () => {
    assert.throws(() => planFeeLines({ periodStart: nov.end, periodEnd: nov.start, segments: [] }), RangeError);
    assert.throws(() => planFeeLines({ periodStart: nov.start, periodEnd: nov.end, segments: [team('2026-11-01T00:00:00Z', '2026-11-02T00:00:00Z', -1n)] }), RangeError);
  });
});

it('a segment starting a few milliseconds into the period is a full period, not "prorated"', () => {
  const lines = planFeeLines({
    periodStart: new Date('2026-10-01T00:00:00.000Z'),
    periodEnd: new Date('2026-11-01T00:00:00.000Z'),
    segments: [
      { planCode: 'TEAM', planName: 'Team', monthlyPriceMinor: 29900n, from: new Date('2026-10-01T00:00:00.030Z'), to: new Date('2026-11-01T00:00:00Z') },
    ],
  });
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!.amountMinor, 29900n);
  assert.equal(lines[0]!.description, 'Plan Team (October 2026)');
});
