import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  addDays,
  nextPeriod,
  periodContaining,
  periodFromKey,
  periodKey,
  previousPeriod,
  secondsBetween,
} from '../../src/domain/billing-period.js';

const iso = (d: Date) => d.toISOString();

describe('periodContaining', () => {
  it('returns the UTC calendar month, end exclusive', () => {
    const p = periodContaining(new Date('2026-11-15T12:34:56Z'));
    assert.equal(iso(p.start), '2026-11-01T00:00:00.000Z');
    assert.equal(iso(p.end), '2026-12-01T00:00:00.000Z');
  });

  it('puts the first instant in its month and the last instant in the same month', () => {
    assert.equal(iso(periodContaining(new Date('2026-11-01T00:00:00Z')).start), '2026-11-01T00:00:00.000Z');
    assert.equal(iso(periodContaining(new Date('2026-11-30T23:59:59.999Z')).start), '2026-11-01T00:00:00.000Z');
    assert.equal(iso(periodContaining(new Date('2026-12-01T00:00:00Z')).start), '2026-12-01T00:00:00.000Z');
  });

  it('uses UTC, not the offset of the input', () => {
    const p = periodContaining(new Date('2026-12-01T01:00:00+02:00'));
    assert.equal(periodKey(p), '2026-11');
  });

  it('handles December → January', () => {
    const p = periodContaining(new Date('2026-12-31T23:00:00Z'));
    assert.equal(iso(p.end), '2027-01-01T00:00:00.000Z');
  });

  it('handles leap-year February', () => {
    const leap = periodContaining(new Date('2028-02-29T10:00:00Z'));
    assert.equal(iso(leap.start), '2028-02-01T00:00:00.000Z');
    assert.equal(iso(leap.end), '2028-03-01T00:00:00.000Z');
    assert.equal(secondsBetween(leap.start, leap.end), 29n * 86_400n);
    const common = periodContaining(new Date('2027-02-15T00:00:00Z'));
    assert.equal(secondsBetween(common.start, common.end), 28n * 86_400n);
    const century = periodContaining(new Date('2100-02-10T00:00:00Z'));
    assert.equal(secondsBetween(century.start, century.end), 28n * 86_400n);
    const quad = periodContaining(new Date('2000-02-10T00:00:00Z'));
    assert.equal(secondsBetween(quad.start, quad.end), 29n * 86_400n);
  });

  it('throws for an invalid date', () => {
    assert.throws(() => periodContaining(new Date('nope')), RangeError);
  });
});

describe('nextPeriod / previousPeriod', () => {
  it('walks months across year ends and February', () => {
    let p = periodContaining(new Date('2027-11-10T00:00:00Z'));
    const keys: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      p = nextPeriod(p);
      keys.push(periodKey(p));
    }
    assert.deepEqual(keys, ['2027-12', '2028-01', '2028-02', '2028-03', '2028-04']);
    const back: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      p = previousPeriod(p);
      back.push(periodKey(p));
    }
    assert.deepEqual(back, ['2028-03', '2028-02', '2028-01', '2027-12', '2027-11']);
  });

  it('previous of January is December of the year before', () => {
    const jan = periodContaining(new Date('2027-01-05T00:00:00Z'));
    const dec = previousPeriod(jan);
    assert.equal(iso(dec.start), '2026-12-01T00:00:00.000Z');
    assert.equal(iso(dec.end), '2027-01-01T00:00:00.000Z');
  });

  it('next then previous is the identity for 40 years of months', () => {
    let p = periodContaining(new Date('2000-01-01T00:00:00Z'));
    for (let i = 0; i < 480; i += 1) {
      const n = nextPeriod(p);
      assert.equal(n.start.getTime(), p.end.getTime());
      assert.deepEqual(previousPeriod(n), p);
      p = n;
    }
  });
});

describe('periodKey / periodFromKey', () => {
  it('formats YYYY-MM with padding', () => {
    assert.equal(periodKey(periodContaining(new Date('2026-11-15T00:00:00Z'))), '2026-11');
    assert.equal(periodKey(periodContaining(new Date('2027-01-15T00:00:00Z'))), '2027-01');
  });

  it('parses keys back', () => {
    const p = periodFromKey('2028-02');
    assert.ok(p);
    assert.equal(iso(p.start), '2028-02-01T00:00:00.000Z');
    assert.equal(iso(p.end), '2028-03-01T00:00:00.000Z');
    for (const bad of ['2028-13', '2028-00', '2028-2', '28-02', '2028-02-01', '', 'abcd-ef']) {
      assert.equal(periodFromKey(bad), null, bad);
    }
  });
});

describe('secondsBetween', () => {
  it('floors and never goes negative', () => {
    const a = new Date('2026-11-01T00:00:00.000Z');
    assert.equal(secondsBetween(a, new Date('2026-11-01T00:00:01.999Z')), 1n);
    assert.equal(secondsBetween(a, new Date('2026-11-01T00:00:00.999Z')), 0n);
    assert.equal(secondsBetween(a, a), 0n);
    assert.equal(secondsBetween(new Date('2026-11-02T00:00:00Z'), a), 0n);
    assert.equal(secondsBetween(a, new Date('2026-12-01T00:00:00Z')), 30n * 86_400n);
  });
});

describe('addDays', () => {
  it('adds whole UTC days, forward and back, across months and leap days', () => {
    assert.equal(iso(addDays(new Date('2028-02-28T10:00:00Z'), 1)), '2028-02-29T10:00:00.000Z');
    assert.equal(iso(addDays(new Date('2028-02-28T10:00:00Z'), 2)), '2028-03-01T10:00:00.000Z');
    assert.equal(iso(addDays(new Date('2027-01-01T00:00:00Z'), -1)), '2026-12-31T00:00:00.000Z');
    assert.equal(iso(addDays(new Date('2026-11-01T00:00:00Z'), 7)), '2026-11-08T00:00:00.000Z');
  });

  it('does not mutate its argument and refuses fractional days', () => {
    const d = new Date('2026-11-01T00:00:00Z');
    addDays(d, 3);
    assert.equal(iso(d), '2026-11-01T00:00:00.000Z');
    assert.throws(() => addDays(d, 1.5), RangeError);
  });
});
