import type { AppContext } from '../../app-context.js';
import { periodContaining, type BillingPeriod } from '../../domain/billing-period.js';
import { clusterCostRange } from '../../domain/cluster-cost.js';
import type { Caller } from '../../domain/actor.js';
import { authorize } from '../access/authorize.js';
import { loadCluster } from './cluster.js';
import { clusterPeriodInput, loadClusterCharges } from './cluster-charges.js';

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

/** The cost range of a cluster for the current billing period, and its cost so far. Another organization's cluster is a 404. */
export async function getClusterCurrentCost(
  context: AppContext,
  request: Caller,
  input: { organizationId: string; clusterId: string },
): Promise<ClusterCurrentCost> {
  const now = context.clock.now();
  const db = context.database;
  await authorize(db, request.actor, input.organizationId, 'billing');
  const cluster = await loadCluster(db, input.organizationId, input.clusterId);
  const period = periodContaining(now);
  const range = clusterCostRange(clusterPeriodInput(cluster, period));
  const [soFar] = await loadClusterCharges(db, input.organizationId, period, { until: now, clusterId: cluster.id });
  return {
    clusterId: cluster.id,
    currency: cluster.pricing.currency,
    period,
    minMinor: range.minMinor,
    maxMinor: range.maxMinor,
    totalMinor: soFar?.charge.amountMinor ?? 0n,
  };
}
