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
  return (await loadUsedNodeHoursForOrganizations(db, [organizationId], period, window)).get(organizationId) ?? new Map();
}

/** `loadUsedNodeHours` of many organizations in one query: organization id → cluster id → node-hours. */
export async function loadUsedNodeHoursForOrganizations(
  db: Queryable,
  organizationIds: readonly string[],
  period: BillingPeriod,
  window: ChargeWindow = {},
): Promise<Map<string, Map<string, bigint>>> {
  const { rows } = await db.query<{ organization_id: string; cluster_id: string; node_hours: bigint }>(
    `SELECT organization_id, cluster_id, SUM(quantity)::int8 AS node_hours
       FROM usage_events
      WHERE organization_id = ANY($1::uuid[]) AND metric = 'node_hours' AND occurred_at >= $2 AND occurred_at < $3
        AND ($4::uuid IS NULL OR cluster_id = $4)
      GROUP BY organization_id, cluster_id`,
    [organizationIds, period.start, windowEnd(period, window.until), window.clusterId ?? null],
  );
  const used = new Map<string, Map<string, bigint>>();
  for (const row of rows) {
    let clusters = used.get(row.organization_id);
    if (clusters === undefined) used.set(row.organization_id, (clusters = new Map()));
    clusters.set(row.cluster_id, row.node_hours);
  }
  return used;
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
  return (await loadClusterChargesForOrganizations(db, [organizationId], period, window)).get(organizationId) ?? [];
}

/**
 * `loadClusterCharges` of many organizations (a billing run's batch) in two queries, with the same rules: each
 * organization's clusters in the same order, keyed by its id (an organization without clusters gets an empty list).
 */
export async function loadClusterChargesForOrganizations(
  db: Queryable,
  organizationIds: readonly string[],
  period: BillingPeriod,
  window: ChargeWindow = {},
): Promise<Map<string, ClusterPeriodCharge[]>> {
  const { rows } = await db.query<ClusterRow>(
    `SELECT ${clusterColumns} FROM clusters
      WHERE organization_id = ANY($1::uuid[]) AND active_from < $3 AND (active_until IS NULL OR active_until > $2)
        AND ($4::uuid IS NULL OR id = $4)
      ORDER BY organization_id, active_from, id`,
    [organizationIds, period.start, windowEnd(period, window.until), window.clusterId ?? null],
  );
  // Sequential: `db` may be a transaction, whose one connection takes one query at a time.
  const used = await loadUsedNodeHoursForOrganizations(db, organizationIds, period, window);
  const charges = new Map<string, ClusterPeriodCharge[]>(organizationIds.map((id) => [id, []]));
  for (const row of rows) {
    const cluster = toCluster(row);
    const usedNodeHours = used.get(cluster.organizationId)?.get(cluster.id) ?? 0n;
    const charge = clusterChargeForPeriod({ ...clusterPeriodInput(cluster, period, window.until), usedNodeHours });
    charges.get(cluster.organizationId)?.push({ cluster, usedNodeHours, charge });
  }
  return charges;
}
