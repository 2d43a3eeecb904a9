import { isKnownCurrency } from './money.js';
import { secondsBetween } from './billing-period.js';
import { prorate } from './proration.js';

/**
 * Cost of a cluster (a billable resource) for one billing period.
 * All amounts are integer minor units of `pricing.currency`.
 */
export interface ClusterPricing {
  hourlyPricePerNodeMinor: bigint;
  minNodes: number;
  maxNodes: number;
  fixedMonthlyMinor: bigint;
  currency: string;
}

export interface ClusterCostRange {
  minMinor: bigint;
  maxMinor: bigint;
}

export interface ClusterPeriodInput {
  pricing: ClusterPricing;
  periodStart: Date;
  /** Exclusive. */
  periodEnd: Date;
  /** Registration instant (inclusive). */
  activeFrom: Date;
  /** Exclusive; null while the cluster is still active. */
  activeUntil: Date | null;
}

export interface ClusterCharge {
  /** What the invoice charges: fixedMinor + usageMinor clamped into [range.minMinor, range.maxMinor]. */
  amountMinor: bigint;
  /** The fixed monthly part prorated by the active share of the period. */
  fixedMinor: bigint;
  /** Raw metered usage: hourly price × used node-hours, before clamping. */
  usageMinor: bigint;
  /** fixedMinor + usageMinor was above range.maxMinor and was lowered to it. */
  cappedAtMax: boolean;
  /** fixedMinor + usageMinor was below range.minMinor and was raised to it. */
  raisedToMin: boolean;
  range: ClusterCostRange;
}

export interface ClusterPricingError {
  field: 'hourlyPricePerNodeMinor' | 'minNodes' | 'maxNodes' | 'fixedMonthlyMinor' | 'currency';
  message: string;
}

const MS_PER_HOUR = 3_600_000n;

function msOf(d: Date, name: string): bigint {
  const ms = d.getTime();
  if (Number.isNaN(ms)) throw new RangeError(`${name} is an invalid date`);
  return BigInt(ms);
}

/** The active interval clipped to the period, as [from, to) in ms; to ≤ from when not active in it. */
function activeWindowMs(periodStart: Date, periodEnd: Date, activeFrom: Date, activeUntil: Date | null): [bigint, bigint] {
  const ps = msOf(periodStart, 'periodStart');
  const pe = msOf(periodEnd, 'periodEnd');
  const af = msOf(activeFrom, 'activeFrom');
  const from = af > ps ? af : ps;
  let to = pe;
  if (activeUntil !== null) {
    const au = msOf(activeUntil, 'activeUntil');
    if (au < to) to = au;
  }
  return [from, to];
}

/**
 * Whole hours the cluster is active within [periodStart, periodEnd), rounded UP (a started hour counts,
 * even one millisecond of it). 0 when it is not active in the period.
 */
export function clusterActiveHours(periodStart: Date, periodEnd: Date, activeFrom: Date, activeUntil: Date | null): bigint {
  const [from, to] = activeWindowMs(periodStart, periodEnd, activeFrom, activeUntil);
  if (to <= from) return 0n;
  return (to - from + MS_PER_HOUR - 1n) / MS_PER_HOUR;
}

/** Field errors of a pricing; empty when valid. Messages never contain amounts. */
export function validateClusterPricing(p: ClusterPricing): ClusterPricingError[] {
  const errors: ClusterPricingError[] = [];
  if (typeof p.hourlyPricePerNodeMinor !== 'bigint' || p.hourlyPricePerNodeMinor < 0n) {
    errors.push({ field: 'hourlyPricePerNodeMinor', message: 'Hourly price per node must be a non-negative integer amount of minor units.' });
  }
  if (typeof p.fixedMonthlyMinor !== 'bigint' || p.fixedMonthlyMinor < 0n) {
    errors.push({ field: 'fixedMonthlyMinor', message: 'Fixed monthly price must be a non-negative integer amount of minor units.' });
  }
  const minOk = Number.isSafeInteger(p.minNodes) && p.minNodes >= 0;
  const maxOk = Number.isSafeInteger(p.maxNodes) && p.maxNodes >= 1;
  if (!minOk) errors.push({ field: 'minNodes', message: 'Minimum nodes must be a non-negative integer.' });
  if (!maxOk) errors.push({ field: 'maxNodes', message: 'Maximum nodes must be an integer of at least 1.' });
  if (minOk && maxOk && p.minNodes > p.maxNodes) {
    errors.push({ field: 'minNodes', message: 'Minimum nodes must not exceed maximum nodes.' });
  }
  if (typeof p.currency !== 'string' || !isKnownCurrency(p.currency)) {
    errors.push({ field: 'currency', message: 'Currency must be a known ISO 4217 code in upper case, e.g. USD.' });
  }
  return errors;
}

function assertValidPricing(p: ClusterPricing): void {
  const errors = validateClusterPricing(p);
  if (errors.length > 0) {
    throw new RangeError(`invalid cluster pricing: ${errors.map((e) => e.field).join(', ')}`);
  }
}

function fixedPart(input: ClusterPeriodInput): bigint {
  const periodSeconds = secondsBetween(input.periodStart, input.periodEnd);
  if (periodSeconds <= 0n) throw new RangeError('the billing period must be longer than zero seconds');
  const [from, to] = activeWindowMs(input.periodStart, input.periodEnd, input.activeFrom, input.activeUntil);
  if (to <= from) return 0n;
  const activeSeconds = (to - from) / 1000n;
  return prorate(input.pricing.fixedMonthlyMinor, activeSeconds, periodSeconds);
}

function rangeWithFixed(input: ClusterPeriodInput, fixed: bigint): ClusterCostRange {
  const hours = clusterActiveHours(input.periodStart, input.periodEnd, input.activeFrom, input.activeUntil);
  const perHour = input.pricing.hourlyPricePerNodeMinor;
  return {
    minMinor: fixed + perHour * BigInt(input.pricing.minNodes) * hours,
    maxMinor: fixed + perHour * BigInt(input.pricing.maxNodes) * hours,
  };
}

/**
 * The cost bounds shown before the period is billed:
 * min = prorated fixed part + hourly × minNodes × active hours; max = same with maxNodes.
 * Throws RangeError for an invalid pricing (see validateClusterPricing).
 */
export function clusterCostRange(input: ClusterPeriodInput): ClusterCostRange {
  assertValidPricing(input.pricing);
  return rangeWithFixed(input, fixedPart(input));
}

/**
 * The charge for the period: prorated fixed part + hourly × usedNodeHours, clamped into the range,
 * so an invoice never charges more than the max that was shown (nor less than the min).
 * Throws RangeError for an invalid pricing or negative usedNodeHours.
 */
export function clusterChargeForPeriod(input: ClusterPeriodInput & { usedNodeHours: bigint }): ClusterCharge {
  assertValidPricing(input.pricing);
  if (input.usedNodeHours < 0n) throw new RangeError('used node-hours must not be negative');
  const fixedMinor = fixedPart(input);
  const range = rangeWithFixed(input, fixedMinor);
  const usageMinor = input.pricing.hourlyPricePerNodeMinor * input.usedNodeHours;
  const raw = fixedMinor + usageMinor;
  const cappedAtMax = raw > range.maxMinor;
  const raisedToMin = raw < range.minMinor;
  const amountMinor = cappedAtMax ? range.maxMinor : raisedToMin ? range.minMinor : raw;
  return { amountMinor, fixedMinor, usageMinor, cappedAtMax, raisedToMin, range };
}
