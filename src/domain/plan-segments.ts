import type { PlanSegment } from './proration.js';

/** One row of an organization's plan history: which plan, from when, until when (null = still current). */
export interface PlanSubscriptionSpan {
  planCode: string;
  planName: string;
  monthlyPriceMinor: bigint;
  startedAt: Date;
  /** Exclusive; null while it is the current plan. */
  endedAt: Date | null;
}

/**
 * The plan segments to charge up to `until` (the period end for an invoice, "now" for the cost so far):
 * a current plan runs until `until`, nothing after `until` counts, and time before the end of the trial is free.
 * Segments left empty are dropped; `planFeeLines` then clips them to the period and prorates.
 */
export function chargeablePlanSegments(
  spans: readonly PlanSubscriptionSpan[],
  options: { until: Date; trialEndsAt: Date | null },
): PlanSegment[] {
  const untilMs = options.until.getTime();
  const freeUntilMs = options.trialEndsAt?.getTime() ?? Number.NEGATIVE_INFINITY;
  if (Number.isNaN(untilMs) || Number.isNaN(freeUntilMs)) throw new RangeError('invalid date');
  const segments: PlanSegment[] = [];
  for (const span of spans) {
    const fromMs = Math.max(span.startedAt.getTime(), freeUntilMs);
    const toMs = Math.min(span.endedAt?.getTime() ?? untilMs, untilMs);
    if (Number.isNaN(fromMs) || Number.isNaN(toMs)) throw new RangeError('invalid date');
    if (toMs <= fromMs) continue;
    segments.push({
      planCode: span.planCode,
      planName: span.planName,
      monthlyPriceMinor: span.monthlyPriceMinor,
      from: new Date(fromMs),
      to: new Date(toMs),
    });
  }
  return segments;
}
