import type { PlanSegment } from './proration.js';
import type { TrialWindow } from './trial.js';

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
 * a current plan runs until `until`, nothing after `until` counts, and only the trial's own window is free (time
 * on a plan before the trial started or after it ended is charged). Segments left empty are dropped;
 * `planFeeLines` then clips them to the period and prorates.
 */
export function chargeablePlanSegments(
  spans: readonly PlanSubscriptionSpan[],
  options: { until: Date; trial: TrialWindow | null },
): PlanSegment[] {
  const untilMs = options.until.getTime();
  const freeFromMs = options.trial?.startsAt.getTime() ?? Number.POSITIVE_INFINITY;
  const freeToMs = options.trial?.endsAt.getTime() ?? Number.POSITIVE_INFINITY;
  if (Number.isNaN(untilMs) || Number.isNaN(freeFromMs) || Number.isNaN(freeToMs)) throw new RangeError('invalid date');
  const segments: PlanSegment[] = [];
  for (const span of spans) {
    const fromMs = span.startedAt.getTime();
    const toMs = Math.min(span.endedAt?.getTime() ?? untilMs, untilMs);
    if (Number.isNaN(fromMs) || Number.isNaN(toMs)) throw new RangeError('invalid date');
    // The span minus the trial window: what lies before it, then what lies after it.
    const pieces: Array<[number, number]> = [
      [fromMs, Math.min(toMs, freeFromMs)],
      [Math.max(fromMs, freeToMs), toMs],
    ];
    for (const [pieceFromMs, pieceToMs] of pieces) {
      if (pieceToMs <= pieceFromMs) continue;
      segments.push({
        planCode: span.planCode,
        planName: span.planName,
        monthlyPriceMinor: span.monthlyPriceMinor,
        from: new Date(pieceFromMs),
        to: new Date(pieceToMs),
      });
    }
  }
  return segments;
}
