/**
 * What each cluster of an organization costs for a billing period, from its registered pricing, its activity and
 * its usage events. The invoice (up to the period end) and the live cost (up to now) both come from here, with
 * `clusterChargeForPeriod` on the same inputs as the range shown by `clusterCostRange`: that is what keeps the
 * promise that an invoice never charges more than the max that was shown.
 */
import type { Queryable } from '../../db/database.js';
import type { BillingPeriod } from '../../domain/billing-period.js';
import { clusterChargeForPeriod, type ClusterCharge, type ClusterPeriodInput } from '../../domain/cluster-cost.js';
import { clusterColumns, toCluster, type Cluster, type ClusterRow } from './cluster.js';

export interface ClusterPeriodCharge {
  cluster: Cluster;
  /** Node-hours of the usage events in the period (before `until`). */
  usedNodeHours: bigint;
  charge: ClusterCharge;
}

export interface ChargeWindow {
  /** Count activity and usage only before this instant (the cost so far); default: the whole period. */
  until?: Date;
  /** Only this cluster. */
  clusterId?: string;
}

/**
 * The input of the cost rules for a cluster and a period. With `until`, the cluster counts as active only until
 * then (the period itself stays whole, so the fixed part is prorated over the whole month, as on the invoice).
 */
export function clusterPeriodInput(cluster: Cluster, period: BillingPeriod, until?: Date): ClusterPeriodInput {
  let activeUntil = cluster.activeUntil;
  if (until !== undefined && (activeUntil === null || until < activeUntil)) activeUntil = until;
  return { pricing: cluster.pricing, periodStart: period.start, periodEnd: period.end, activeFrom: cluster.activeFrom, activeUntil };
}

function windowEnd(period: BillingPeriod, until: Date | undefined): Date {
  return until !== undefined && until < period.end ? until : period.end;
}

/** Node-hours per cluster id from the usage events of the organization in [period start, until). */
export async function loadUsedNodeHours(db: Queryable, organizationId: string, period: BillingPeriod, window: ChargeWindow = {}): Promise<Map<string, bigint>> {
  const { rows } = await db.query<{ cluster_id: string; node_hours: bigint }>(
    `SELECT cluster_id, SUM(quantity)::int8 AS node_hours
       FROM usage_events
      WHERE organization_id = $1 AND metric = 'node_hours' AND occurred_at >= $2 AND occurred_at < $3
        AND ($4::uuid IS NULL OR cluster_id = $4)
      GROUP BY cluster_id`,
    [organizationId, period.start, windowEnd(period, window.until), window.clusterId ?? null],
  );
  return new Map(rows.map((row) => [row.cluster_id, row.node_hours]));
}

/**
 * Every cluster of the organization active during the period (before `until`), with its charge: the prorated
 * fixed part plus the metered node-hours, clamped into the cluster's [min, max] for the period.
 * Amounts are in each cluster's currency, which is the organization's currency.
 */
export async function loadClusterCharges(
  db: Queryable,
  organizationId: string,
  period: BillingPeriod,
  window: ChargeWindow = {},
): Promise<ClusterPeriodCharge[]> {
  const { rows } = await db.query<ClusterRow>(
    `SELECT ${clusterColumns} FROM clusters
      WHERE organization_id = $1 AND active_from < $3 AND (active_until IS NULL OR active_until > $2)
        AND ($4::uuid IS NULL OR id = $4)
      ORDER BY active_from, id`,
    [organizationId, period.start, windowEnd(period, window.until), window.clusterId ?? null],
  );
  // Sequential: `db` may be a transaction, whose one connection takes one query at a time.
  const used = await loadUsedNodeHours(db, organizationId, period, window);
  return rows.map((row) => {
    const cluster = toCluster(row);
    const usedNodeHours = used.get(cluster.id) ?? 0n;
    const charge = clusterChargeForPeriod({ ...clusterPeriodInput(cluster, period, window.until), usedNodeHours });
    return { cluster, usedNodeHours, charge };
  });
}
