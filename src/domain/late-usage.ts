import { clusterChargeForPeriod, type ClusterPeriodInput } from './cluster-cost.js';

/**
 * What late usage (events that arrived after their period was invoiced) adds to the period's charge: the charge
 * with every event counted minus the charge without the late ones not billed yet, which is what the period's
 * invoice and earlier late lines charged together (each was such a difference, so they add up). Both charges are
 * clamped into the cluster's range, so the total charged for the period never exceeds its max, nor does a late
 * line undo a raise to the min: usage the min already paid for adds nothing.
 */
export function lateUsageCharge(input: ClusterPeriodInput & { usedNodeHours: bigint; lateNodeHours: bigint }): {
  amountMinor: bigint;
  /** With the late usage, the period's charge reached the max. */
  cappedAtMax: boolean;
} {
  if (input.lateNodeHours < 0n || input.lateNodeHours > input.usedNodeHours) throw new RangeError('late node-hours must be part of the used node-hours');
  const withLate = clusterChargeForPeriod(input);
  const billedBefore = clusterChargeForPeriod({ ...input, usedNodeHours: input.usedNodeHours - input.lateNodeHours });
  const added = withLate.amountMinor - billedBefore.amountMinor;
  return { amountMinor: added > 0n ? added : 0n, cappedAtMax: withLate.cappedAtMax };
}
