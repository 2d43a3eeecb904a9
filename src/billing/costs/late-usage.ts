/**
 * Late usage: events recorded after the invoice of their period was issued. The organization's next invoice bills
 * them, one line per cluster and period, for what they add to that period's charge (domain/late-usage.ts): the
 * total charged for a cluster and a period never exceeds the max that was shown for it, late usage included.
 */
import sql from 'sql-template-tag';
import type { Queryable } from '../../db/database.js';
import { periodContaining, type BillingPeriod } from '../../domain/billing-period.js';
import { lateUsageCharge } from '../../domain/late-usage.js';
import { insideClusterLife, clusterPeriodInput } from './cluster-charges.js';
import { clusterJson, fromClusterJson, toCluster, type Cluster, type ClusterJson } from './cluster.js';

export interface LateUsageCharge {
  cluster: Cluster;
  /** The period the usage belongs to (already invoiced). */
  period: BillingPeriod;
  /** Node-hours of the late events billed now. */
  lateNodeHours: bigint;
  /** What they add to the period's charge (0 when the period was already charged its max, or its min covered them). */
  amountMinor: bigint;
  /** The period's charge with them reached the cluster's max for the period. */
  cappedAtMax: boolean;
}

/** The late events `u` not billed yet of the organizations, for periods before `period`. */
const unbilledLate = (organizationIds: readonly string[], period: BillingPeriod) =>
  sql`u.organization_id = ANY(${organizationIds}::uuid[]) AND u.late AND u.late_invoice_id IS NULL
      AND u.occurred_at < ${period.start}::timestamptz`;

interface LateGroupRow {
  organization_id: string;
  cluster: ClusterJson;
  period_start: Date;
  used_node_hours: bigint;
  late_node_hours: bigint;
}

/**
 * The late usage each organization's invoice for `period` bills, keyed by organization id (an organization without
 * any gets an empty list). Reads nothing but the partial index of unbilled late events when there are none.
 * The caller holds the organizations' invoicing locks, so no late event arrives between this read and
 * `markLateUsageBilled`.
 */
export async function loadLateUsageChargesForOrganizations(
  db: Queryable,
  organizationIds: readonly string[],
  period: BillingPeriod,
): Promise<Map<string, LateUsageCharge[]>> {
  const { rows } = await db.query<LateGroupRow>(
    sql`WITH late AS (
          -- The month in UTC, as a timestamp without time zone: its arithmetic never depends on the session's zone.
          SELECT DISTINCT u.organization_id, u.cluster_id, date_trunc('month', u.occurred_at AT TIME ZONE 'UTC') AS month
            FROM usage_events u WHERE ${unbilledLate(organizationIds, period)}
        )
        SELECT late.organization_id, ${clusterJson('c')} AS cluster, late.month AT TIME ZONE 'UTC' AS period_start,
               SUM(u.quantity)::int8 AS used_node_hours,
               (SUM(u.quantity) FILTER (WHERE u.late AND u.late_invoice_id IS NULL))::int8 AS late_node_hours
          FROM late
          JOIN clusters c ON c.id = late.cluster_id
          JOIN usage_events u ON u.cluster_id = late.cluster_id AND u.organization_id = late.organization_id
                             AND u.occurred_at >= late.month AT TIME ZONE 'UTC'
                             AND u.occurred_at < (late.month + interval '1 month') AT TIME ZONE 'UTC'
         WHERE u.metric = 'node_hours' AND ${insideClusterLife}
         GROUP BY late.organization_id, c.id, late.month
         ORDER BY late.organization_id, late.month, c.active_from, c.id`,
  );
  const charges = new Map<string, LateUsageCharge[]>(organizationIds.map((id) => [id, []]));
  for (const row of rows) {
    const lateNodeHours = row.late_node_hours ?? 0n;
    const cluster = toCluster(fromClusterJson(row.cluster));
    const latePeriod = periodContaining(row.period_start);
    const charge = lateUsageCharge({ ...clusterPeriodInput(cluster, latePeriod), usedNodeHours: row.used_node_hours, lateNodeHours });
    charges.get(row.organization_id)?.push({ cluster, period: latePeriod, lateNodeHours, ...charge });
  }
  return charges;
}

/**
 * Marks every unbilled late event of each organization (before the invoice's period) as billed by its invoice, in
 * the invoice's transaction: those the charge left at 0 (max already reached, or within the min) are settled too.
 * Only organizations whose late usage was read need it: their invoicing lock kept new late events out since.
 */
export async function markLateUsageBilled(
  tx: Queryable,
  invoices: ReadonlyArray<{ organizationId: string; invoiceId: string }>,
  period: BillingPeriod,
): Promise<void> {
  if (invoices.length === 0) return;
  await tx.query(
    sql`UPDATE usage_events u SET late_invoice_id = billed.invoice_id
          FROM unnest(${invoices.map((invoice) => invoice.organizationId)}::uuid[], ${invoices.map((invoice) => invoice.invoiceId)}::uuid[])
               AS billed(organization_id, invoice_id)
         WHERE u.organization_id = billed.organization_id AND ${unbilledLate(invoices.map((invoice) => invoice.organizationId), period)}`,
  );
}
