import { addDays } from './billing-period.js';

/**
 * Trials: an organization gets at most one, when it first moves to (or is created on) a plan with trial days.
 * Only the trial's own window is free. Pure: every instant is passed in.
 */

/** The free window of a trial: [startsAt, endsAt). */
export interface TrialWindow {
  startsAt: Date;
  endsAt: Date;
}

/** The trial window of an organization's two trial columns; null when it never had a trial. */
export function trialWindowOf(startsAt: Date | null, endsAt: Date | null): TrialWindow | null {
  return startsAt === null || endsAt === null ? null : { startsAt, endsAt };
}

const MS_PER_DAY = 86_400_000;

/** The end of a trial of `trialDays` days started at `start`; null when the plan has no trial. */
export function trialEndDate(start: Date, trialDays: number): Date | null {
  if (!Number.isInteger(trialDays) || trialDays < 0) throw new RangeError('trial days must be a non-negative integer');
  return trialDays === 0 ? null : addDays(start, trialDays);
}

/**
 * Days left before the trial ends, a started day counting as a whole one (14 at the start of a 14-day trial,
 * 13 after exactly one day, 1 during its last day); 0 when there is no trial or it has ended.
 */
export function remainingTrialDays(trialEndsAt: Date | null, now: Date): number {
  if (trialEndsAt === null) return 0;
  const leftMs = trialEndsAt.getTime() - now.getTime();
  if (Number.isNaN(leftMs)) throw new RangeError('invalid date');
  return leftMs <= 0 ? 0 : Math.ceil(leftMs / MS_PER_DAY);
}
