/**
 * Dunning: when a failed card charge of an invoice is tried again. Pure: every instant is passed in.
 *
 * The first attempt is made at issue; after it fails, the invoice is retried 1, 3 and 5 days after its issue.
 * When the last of those fails too, automatic attempts stop and the invoice is PAYMENT_DUE (a new default card
 * still triggers one more attempt; see the payment retry sweep).
 */
import { addDays } from './billing-period.js';

/** Days after the issue at which a failed charge is attempted again, in order. */
export const PAYMENT_RETRY_DAYS: readonly number[] = [1, 3, 5];

/**
 * The instant of the next automatic attempt after `failedAttempts` attempts have failed (≥ 1, the attempt at
 * issue included); null when the schedule is exhausted. An instant already past (a worker that was down) means
 * "as soon as possible": the sweep picks every attempt whose instant is not in the future.
 */
export function nextPaymentAttemptAt(issuedAt: Date, failedAttempts: number): Date | null {
  if (!Number.isInteger(failedAttempts) || failedAttempts < 1) throw new RangeError('failedAttempts must be an integer of at least 1');
  if (Number.isNaN(issuedAt.getTime())) throw new RangeError('issuedAt is an invalid date');
  const days = PAYMENT_RETRY_DAYS[failedAttempts - 1];
  return days === undefined ? null : addDays(issuedAt, days);
}
