/**
 * Dunning: when a failed card charge of an invoice is tried again. Pure: every instant is passed in.
 *
 * The first attempt is made at issue; after it fails, the invoice is retried 1, 3 and 5 days after its issue.
 * When the last of those fails too, automatic attempts stop and the invoice is PAYMENT_DUE (a new default card
 * still triggers one more attempt; see the payment retry sweep).
 *
 * A notice never announces a date already past: when an attempt ran so late (a worker or the whole service was
 * down) that the next day of the schedule has gone by too, that late attempt is the one catch-up, and the next one
 * keeps the schedule's spacing from it instead of following at once.
 */
import { addDays } from './billing-period.js';

/** Days after the issue at which a failed charge is attempted again, in order. */
export const PAYMENT_RETRY_DAYS: readonly number[] = [1, 3, 5];

/**
 * The instant of the next automatic attempt after `failedAttempts` attempts have failed (≥ 1, the attempt at
 * issue included), the last of them made at `attemptedAt`; null when the schedule is exhausted. The schedule counts
 * from the issue (an attempt a few hours late does not push the next one back); only when its day is not after
 * `attemptedAt` does the next attempt come the schedule's gap after `attemptedAt`, so it is always in the future.
 */
export function nextPaymentAttemptAt(issuedAt: Date, failedAttempts: number, attemptedAt: Date): Date | null {
  if (!Number.isInteger(failedAttempts) || failedAttempts < 1) throw new RangeError('failedAttempts must be an integer of at least 1');
  if (Number.isNaN(issuedAt.getTime())) throw new RangeError('issuedAt is an invalid date');
  if (Number.isNaN(attemptedAt.getTime())) throw new RangeError('attemptedAt is an invalid date');
  const days = PAYMENT_RETRY_DAYS[failedAttempts - 1];
  if (days === undefined) return null;
  const scheduled = addDays(issuedAt, days);
  if (scheduled.getTime() > attemptedAt.getTime()) return scheduled;
  const gapDays = days - (PAYMENT_RETRY_DAYS[failedAttempts - 2] ?? 0);
  return addDays(attemptedAt, gapDays);
}
