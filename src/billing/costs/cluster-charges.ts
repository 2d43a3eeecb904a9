/**
 * What each cluster of an organization costs for a billing period, from its registered pricing, its activity and
 * its usage events. The invoice (up to the period end) and the live cost (up to now) both come from here, with
 * `clusterChargeForPeriod` on the same inputs as the range shown by `clusterCostRange`: that is what keeps the
 * promise that an invoice never charges more than the max that was shown.
 */
import sql, { type Sql } from 'sql-template-tag';
import type { Queryable } from '../../db/database.js';
import type { BillingPeriod } from '../../domain/billing-period.js';
import { clusterChargeForPeriod, type ClusterCharge, type ClusterPeriodInput } from '../../domain/cluster-cost.js';
import { clusterColumns, clusterJson, fromClusterJson, toCluster, type Cluster, type ClusterJson, type ClusterRow } from './cluster.js';

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

/** Which clusters `c` a window charges: active at some time in [period start, window end), optionally only one. */
function chargedClusters(period: BillingPeriod, window: ChargeWindow): Sql {
  return sql`c.active_from < ${windowEnd(period, window.until)}::timestamptz
         AND (c.active_until IS NULL OR c.active_until > ${period.start}::timestamptz)
         AND (${window.clusterId ?? null}::uuid IS NULL OR c.id = ${window.clusterId ?? null}::uuid)`;
}

/**
 * The node-hours a window counts for the cluster `c` of the enclosing query (int8): its usage events in [period
 * start, window end), inside the cluster's life (an end moved earlier after events were recorded leaves the later
 * ones uncharged), summed by the cluster's own usage index. The live costs and the billing run both read it.
 */
function usedNodeHours(period: BillingPeriod, window: ChargeWindow): Sql {
  return sql`(SELECT COALESCE(SUM(u.quantity), 0)::int8 FROM usage_events u
               WHERE u.cluster_id = c.id AND u.organization_id = c.organization_id AND u.metric = 'node_hours'
                 AND u.occurred_at >= ${period.start}::timestamptz AND u.occurred_at < ${windowEnd(period, window.until)}::timestamptz
                 AND ${insideClusterLife})`;
}

/** The usage event `u` happened inside the life of its cluster `c`: [active_from, active_until). */
export const insideClusterLife: Sql = sql`u.occurred_at >= c.active_from AND (c.active_until IS NULL OR u.occurred_at < c.active_until)`;

/** A cluster and its used node-hours, priced by the cost rules for the window. */
function chargeOf(row: ClusterRow, usedNodeHours: bigint, period: BillingPeriod, window: ChargeWindow): ClusterPeriodCharge {
  const cluster = toCluster(row);
  const charge = clusterChargeForPeriod({ ...clusterPeriodInput(cluster, period, window.until), usedNodeHours });
  return { cluster, usedNodeHours, charge };
}

/**
 * The charged clusters of the organization `o` of an enclosing statement, with their used node-hours, as one JSON
 * array (a select-list expression): the live costs read them in the statement that enters the organization.
 * `chargesFromJson` prices them.
 */
export function clusterChargesJson(period: BillingPeriod, window: ChargeWindow = {}): Sql {
  return sql`(SELECT COALESCE(json_agg(json_build_object(
                        'cluster', ${clusterJson('c')},
                        'used_node_hours', ${usedNodeHours(period, window)}::text)
                      ORDER BY c.active_from, c.id), '[]'::json)
                FROM clusters c
               WHERE c.organization_id = o.id AND ${chargedClusters(period, window)})`;
}

export type ClusterChargesJson = Array<{ cluster: ClusterJson; used_node_hours: string }>;

export function chargesFromJson(json: ClusterChargesJson, period: BillingPeriod, window: ChargeWindow = {}): ClusterPeriodCharge[] {
  return json.map((entry) => chargeOf(fromClusterJson(entry.cluster), BigInt(entry.used_node_hours), period, window));
}

/**
 * Every cluster of the organizations (a billing run's batch) active during the period (before `until`), with its
 * charge: the prorated fixed part plus the metered node-hours, clamped into the cluster's [min, max] for the period.
 * One query: the batch's clusters, each with its `usedNodeHours` (as `clusterChargesJson` reads them for one
 * organization), each organization's in the same order as there, keyed by its id (an organization without clusters
 * gets an empty list). Amounts are in each cluster's currency, the organization's.
 */
export async function loadClusterChargesForOrganizations(
  db: Queryable,
  organizationIds: readonly string[],
  period: BillingPeriod,
  window: ChargeWindow = {},
): Promise<Map<string, ClusterPeriodCharge[]>> {
  const { rows } = await db.query<ClusterRow & { used_node_hours: bigint }>(
    sql`SELECT ${clusterColumns}, ${usedNodeHours(period, window)} AS used_node_hours
          FROM clusters c
         WHERE c.organization_id = ANY(${organizationIds}::uuid[]) AND ${chargedClusters(period, window)}
         ORDER BY c.organization_id, c.active_from, c.id`,
  );
  const charges = new Map<string, ClusterPeriodCharge[]>(organizationIds.map((id) => [id, []]));
  for (const row of rows) charges.get(row.organization_id)?.push(chargeOf(row, row.used_node_hours, period, window));
  return charges;
}
