import sql from 'sql-template-tag';
import type { AppContext } from '../../app-context.js';
import type { Caller } from '../../domain/actor.js';
import { periodContaining } from '../../domain/billing-period.js';
import { clusterCostRange } from '../../domain/cluster-cost.js';
import { enterOrganization } from '../organizations/organization-access.js';
import { chargesFromJson, clusterChargesJson, clusterPeriodInput, type ClusterChargesJson } from './cluster-charges.js';
import type { ClusterCurrentCost } from './get-cluster-current-cost.js';

/**
 * Every cluster charged in the current billing period so far, with its cost range (the max is what its invoice line
 * never exceeds) and its cost so far: `getClusterCurrentCost` for all of them, in one round trip.
 */
export async function listClusterCurrentCosts(
  context: AppContext,
  caller: Caller,
  organizationId: string,
): Promise<Array<ClusterCurrentCost & { name: string }>> {
  const now = context.clock.now();
  const period = periodContaining(now);
  const window = { until: now };
  const entry = await enterOrganization<{ cluster_charges: ClusterChargesJson }>(context.database, caller, { id: organizationId }, 'billing.read', {
    select: sql`${clusterChargesJson(period, window)} AS cluster_charges`,
  });
  return chargesFromJson(entry.cluster_charges, period, window).map(({ cluster, charge }) => {
    const range = clusterCostRange(clusterPeriodInput(cluster, period));
    return {
      clusterId: cluster.id,
      name: cluster.name,
      currency: cluster.pricing.currency,
      period,
      minMinor: range.minMinor,
      maxMinor: range.maxMinor,
      totalMinor: charge.amountMinor,
    };
  });
}
