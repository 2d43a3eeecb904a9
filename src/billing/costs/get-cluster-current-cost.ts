import sql from 'sql-template-tag';
import type { AppContext } from '../../app-context.js';
import type { Caller } from '../../domain/actor.js';
import { periodContaining, type BillingPeriod } from '../../domain/billing-period.js';
import { clusterCostRange } from '../../domain/cluster-cost.js';
import { notFound } from '../../errors.js';
import { enterOrganization } from '../organizations/organization-access.js';
import { clusterJson, fromClusterJson, toCluster, type ClusterJson } from './cluster.js';
import { chargesFromJson, clusterChargesJson, clusterPeriodInput, type ClusterChargesJson } from './cluster-charges.js';

export interface ClusterCurrentCost {
  clusterId: string;
  currency: string;
  period: BillingPeriod;
  /** The least and the most the cluster can cost for the whole current period. */
  minMinor: bigint;
  maxMinor: bigint;
  /** The cost so far: what the invoice would charge if the period ended now (never above maxMinor). */
  totalMinor: bigint;
}

/**
 * The cost range of a cluster for the current billing period, and its cost so far (0 when it is not active this
 * period). Another organization's cluster is a 404. One round trip: the entry into the organization reads both.
 */
export async function getClusterCurrentCost(
  context: AppContext,
  caller: Caller,
  input: { organizationId: string; clusterId: string },
): Promise<ClusterCurrentCost> {
  const now = context.clock.now();
  const period = periodContaining(now);
  const window = { until: now, clusterId: input.clusterId };
  const entry = await enterOrganization<{ cluster: ClusterJson | null; cluster_charges: ClusterChargesJson }>(
    context.database,
    caller,
    { id: input.organizationId },
    'billing.read',
    {
      select: sql`(SELECT ${clusterJson('c')} FROM clusters c WHERE c.organization_id = o.id AND c.id = ${input.clusterId}::uuid) AS cluster,
                  ${clusterChargesJson(period, window)} AS cluster_charges`,
      prepare: 'cluster_current_cost',
    },
  );
  if (entry.cluster === null) throw notFound('Cluster');
  const cluster = toCluster(fromClusterJson(entry.cluster));
  const range = clusterCostRange(clusterPeriodInput(cluster, period));
  const [soFar] = chargesFromJson(entry.cluster_charges, period, window);
  return {
    clusterId: cluster.id,
    currency: cluster.pricing.currency,
    period,
    minMinor: range.minMinor,
    maxMinor: range.maxMinor,
    totalMinor: soFar?.charge.amountMinor ?? 0n,
  };
}
