/**
 * Billing periods are UTC calendar months: [first instant of the month, first instant of the next month).
 * Pure: every instant is passed in.
 */

export interface BillingPeriod {
  /** First instant of the month, UTC (inclusive). */
  start: Date;
  /** First instant of the next month, UTC (exclusive). */
  end: Date;
}

const MS_PER_DAY = 86_400_000;

/** First instant of month `month` (0-based, may overflow into the next/previous year) of `year`, UTC. */
function utcMonthStart(year: number, month: number): Date {
  const d = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not map years 0–99 to 1900–1999.
  d.setUTCFullYear(year, month, 1);
  return d;
}

function assertValidDate(d: Date, name: string): number {
  const ms = d.getTime();
  if (Number.isNaN(ms)) throw new RangeError(`${name} is an invalid date`);
  return ms;
}

/** The UTC calendar month containing `at`. */
export function periodContaining(at: Date): BillingPeriod {
  assertValidDate(at, 'at');
  const year = at.getUTCFullYear();
  const month = at.getUTCMonth();
  return { start: utcMonthStart(year, month), end: utcMonthStart(year, month + 1) };
}

/** The month after `p` (December → January of the next year). */
export function nextPeriod(p: BillingPeriod): BillingPeriod {
  return periodContaining(p.end);
}

/** The month before `p` (January → December of the previous year). */
export function previousPeriod(p: BillingPeriod): BillingPeriod {
  return periodContaining(new Date(assertValidDate(p.start, 'period start') - 1));
}

/** 'YYYY-MM' of the period's start, e.g. '2026-11'. */
export function periodKey(p: BillingPeriod): string {
  assertValidDate(p.start, 'period start');
  const year = p.start.getUTCFullYear().toString().padStart(4, '0');
  const month = (p.start.getUTCMonth() + 1).toString().padStart(2, '0');
  return `${year}-${month}`;
}

/** The inverse of periodKey: '2026-11' → November 2026; null for anything that is not 'YYYY-MM'. */
export function periodFromKey(key: string): BillingPeriod | null {
  const match = /^(\d{4})-(\d{2})$/.exec(key);
  if (match === null) return null;
  const year = Number(match[1]);
  const month = Number(match[2]);
  if (month < 1 || month > 12) return null;
  return periodContaining(utcMonthStart(year, month - 1));
}

/** Whole seconds from `a` to `b`, rounded down; 0 when `b` is not after `a` (never negative). */
export function secondsBetween(a: Date, b: Date): bigint {
  const aMs = assertValidDate(a, 'a');
  const bMs = assertValidDate(b, 'b');
  if (bMs <= aMs) return 0n;
  return (BigInt(bMs) - BigInt(aMs)) / 1000n;
}

/** `d` moved by `n` whole days of 24 hours (UTC has no DST); `n` may be negative. */
export function addDays(d: Date, n: number): Date {
  if (!Number.isInteger(n)) throw new RangeError('days must be an integer');
  return new Date(assertValidDate(d, 'date') + n * MS_PER_DAY);
}
