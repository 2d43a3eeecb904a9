/**
 * When a webhook delivery is attempted (wall clock): at once, then after each failure the next delay of this list,
 * about three days in all; after the last attempt fails the delivery is failed for good.
 */
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

export const WEBHOOK_RETRY_DELAYS_MS: readonly number[] = [0, 5 * SECOND, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR, 20 * HOUR, 24 * HOUR];

export const WEBHOOK_MAX_ATTEMPTS = WEBHOOK_RETRY_DELAYS_MS.length;

/** An endpoint whose deliveries have all failed for this long is disabled. */
export const WEBHOOK_FAILING_DISABLE_MS = 3 * 24 * HOUR;

/** A 2xx within this time is a success; anything else (a redirect included) is a failure. */
export const WEBHOOK_TIMEOUT_MS = 10 * SECOND;

/** After a rotation, the old secret keeps signing beside the new one for this long. */
export const WEBHOOK_SECRET_OVERLAP_MS = 24 * HOUR;

/** The delay before the attempt after `attemptsMade` failed attempts; null when none is left. */
export function webhookRetryDelayMs(attemptsMade: number): number | null {
  return attemptsMade < WEBHOOK_MAX_ATTEMPTS ? WEBHOOK_RETRY_DELAYS_MS[attemptsMade]! : null;
}
