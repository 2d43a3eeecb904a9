import { divideRounded } from './money.js';
import { periodContaining, secondsBetween } from './billing-period.js';

/**
 * `amountMinor × activeSeconds / periodSeconds`, rounded half away from zero (divideRounded).
 * `activeSeconds` is clamped into [0, periodSeconds], so the result never exceeds `amountMinor` in size.
 * Throws RangeError when periodSeconds ≤ 0.
 */
export function prorate(amountMinor: bigint, activeSeconds: bigint, periodSeconds: bigint): bigint {
  if (periodSeconds <= 0n) throw new RangeError('period must be longer than zero seconds');
  const active = activeSeconds < 0n ? 0n : activeSeconds > periodSeconds ? periodSeconds : activeSeconds;
  if (active === periodSeconds) return amountMinor;
  return divideRounded(amountMinor * active, periodSeconds);
}

export interface PlanSegment {
  planCode: string;
  planName: string;
  monthlyPriceMinor: bigint;
  /** Inclusive. */
  from: Date;
  /** Exclusive. */
  to: Date;
}

export interface PlanFeeLine {
  description: string;
  planCode: string;
  amountMinor: bigint;
  /** The plan's price for a whole period: the line's unit price. */
  monthlyPriceMinor: bigint;
  /** '1 month' for a whole period, '13 of 31 days' for part of one. */
  quantity: string;
  /** The segment clipped to the period: inclusive. */
  from: Date;
  /** The segment clipped to the period: exclusive. */
  to: Date;
}

const dayFormat = new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', month: 'short', day: 'numeric' });
const monthFormat = new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', month: 'long', year: 'numeric' });

function msOf(d: Date, name: string): number {
  const ms = d.getTime();
  if (Number.isNaN(ms)) throw new RangeError(`${name} is an invalid date`);
  return ms;
}

function isWholeUtcMonth(startMs: number, endMs: number): boolean {
  const month = periodContaining(new Date(startMs));
  return month.start.getTime() === startMs && month.end.getTime() === endMs;
}

/** 'Nov 1 – Nov 15, 2026' (inclusive days; `toMs` is exclusive), 'Nov 15, 2026' for one day. */
function dayRangeLabel(fromMs: number, toMs: number): string {
  const first = new Date(fromMs);
  const last = new Date(toMs - 1);
  const firstYear = first.getUTCFullYear();
  const lastYear = last.getUTCFullYear();
  const firstDay = dayFormat.format(first);
  const lastDay = dayFormat.format(last);
  if (firstYear !== lastYear) return `${firstDay}, ${firstYear} – ${lastDay}, ${lastYear}`;
  if (firstDay === lastDay) return `${firstDay}, ${firstYear}`;
  return `${firstDay} – ${lastDay}, ${lastYear}`;
}

/** How much of a billing period a span covers, in words a document shows. */
export interface PeriodPortion {
  /** The span covers the whole period (to the second): it costs the whole price and is not labelled prorated. */
  full: boolean;
  /** 'November 2026' for a whole calendar month; 'Nov 1 – Nov 15, 2026, prorated' for part of the period. */
  label: string;
  /** '1 month' (or '1 period' when the period is not a calendar month); '15 of 30 days' for part of it. */
  quantity: string;
}

const dayCount = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

/** Days of `ms` milliseconds, up to two decimals: 13, 12.5, 0.04. */
function days(ms: number): string {
  return dayCount.format(ms / 86_400_000);
}

/**
 * The portion of [periodStart, periodEnd) that [from, to) covers (both already clipped to the period). Proration
 * counts whole seconds: a span missing less than a second of the period (an organization created a few
 * milliseconds after midnight) is the whole period, billed and labelled as such.
 */
export function periodPortion(periodStart: Date, periodEnd: Date, from: Date, to: Date): PeriodPortion {
  const periodStartMs = msOf(periodStart, 'periodStart');
  const periodEndMs = msOf(periodEnd, 'periodEnd');
  const fromMs = msOf(from, 'from');
  const toMs = msOf(to, 'to');
  const full = periodEndMs - periodStartMs - (toMs - fromMs) < 1000;
  if (full) {
    const month = isWholeUtcMonth(periodStartMs, periodEndMs);
    return {
      full,
      label: month ? monthFormat.format(periodStart) : dayRangeLabel(periodStartMs, periodEndMs),
      quantity: month ? '1 month' : '1 period',
    };
  }
  return {
    full,
    label: `${dayRangeLabel(fromMs, toMs)}, prorated`,
    quantity: `${days(toMs - fromMs)} of ${days(periodEndMs - periodStartMs)} days`,
  };
}

/**
 * One fee line per plan segment, in input order: each segment is clipped to [periodStart, periodEnd)
 * and its monthly price prorated by the share of the period (in whole seconds) it was active.
 * A segment covering the whole period costs exactly the monthly price; segments that are empty after
 * clipping are dropped. Descriptions use the plan name:
 * 'Plan TEAM (November 2026)' for a full calendar month, 'Plan TEAM (Nov 1 – Nov 15, 2026, prorated)' otherwise.
 */
export function planFeeLines(input: { periodStart: Date; periodEnd: Date; segments: PlanSegment[] }): PlanFeeLine[] {
  const periodStartMs = msOf(input.periodStart, 'periodStart');
  const periodEndMs = msOf(input.periodEnd, 'periodEnd');
  const periodSeconds = secondsBetween(input.periodStart, input.periodEnd);
  if (periodSeconds <= 0n) throw new RangeError('the billing period must be longer than zero seconds');

  const lines: PlanFeeLine[] = [];
  for (const segment of input.segments) {
    if (segment.monthlyPriceMinor < 0n) throw new RangeError(`plan ${segment.planCode} has a negative monthly price`);
    const fromMs = Math.max(msOf(segment.from, 'segment from'), periodStartMs);
    const toMs = Math.min(msOf(segment.to, 'segment to'), periodEndMs);
    if (toMs <= fromMs) continue;

    const from = new Date(fromMs);
    const to = new Date(toMs);
    const share = periodPortion(input.periodStart, input.periodEnd, from, to);
    const amountMinor = share.full
      ? segment.monthlyPriceMinor
      : prorate(segment.monthlyPriceMinor, secondsBetween(from, to), periodSeconds);
    // A span a few seconds short of the period costs the whole price once rounded: it is labelled as the whole period.
    const portion = amountMinor === segment.monthlyPriceMinor ? periodPortion(input.periodStart, input.periodEnd, input.periodStart, input.periodEnd) : share;
    lines.push({
      description: `Plan ${segment.planName} (${portion.label})`,
      planCode: segment.planCode,
      amountMinor,
      monthlyPriceMinor: segment.monthlyPriceMinor,
      quantity: portion.quantity,
      from,
      to,
    });
  }
  return lines;
}
