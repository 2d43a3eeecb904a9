/**
 * When a usage event may be recorded: only inside its cluster's life [active_from, active_until) and not ahead of
 * the business clock by more than a small tolerance (senders' clocks drift). Pure: every instant is passed in.
 */

/** How far ahead of the business clock an event may be dated. */
export const USAGE_FUTURE_TOLERANCE_MS = 5 * 60 * 1000;

export type UsageRefusalReason = 'in_the_future' | 'before_cluster_start' | 'after_cluster_end';

export const usageRefusalMessages: Record<UsageRefusalReason, string> = {
  in_the_future: 'occurred_at is more than 5 minutes ahead of the current time',
  before_cluster_start: 'occurred_at is before the cluster became active (its registration)',
  after_cluster_end: 'occurred_at is at or after the cluster’s active_until',
};

/** The latest `occurred_at` accepted at `now`. */
export function latestAcceptedUsageTime(now: Date): Date {
  return new Date(now.getTime() + USAGE_FUTURE_TOLERANCE_MS);
}

/** Why an event cannot be recorded, or null when it can; the first reason that applies, in this order. */
export function usageRefusal(
  occurredAt: Date,
  cluster: { activeFrom: Date; activeUntil: Date | null },
  now: Date,
): UsageRefusalReason | null {
  if (occurredAt > latestAcceptedUsageTime(now)) return 'in_the_future';
  if (occurredAt < cluster.activeFrom) return 'before_cluster_start';
  if (cluster.activeUntil !== null && occurredAt >= cluster.activeUntil) return 'after_cluster_end';
  return null;
}
