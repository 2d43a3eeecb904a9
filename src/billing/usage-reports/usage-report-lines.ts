/**
 * The lines of a billing usage report, computed by the very code that prices invoices and the cost so far:
 * `loadClusterChargesForOrganizations` / `clusterChargeForPeriod` for clusters and `loadPlanFeeLines` for plan fees
 * (the billing run's own loaders, for one organization).
 *
 * Each day's amount is the difference between the cost so far at the end of that day and at its start (what
 * `currentCost` would have shown at those two instants). The differences add up, to the minor unit, to the cost
 * of the whole span: for a whole past month, the usage and plan lines of its invoice; for the current month up to
 * now, the `currentCost` total. A cluster's day is split into its metered node-hours (quantity × hourly price),
 * its share of the fixed monthly part, and the adjustment that keeps the charge inside its [min, max] range.
 */
import sql from 'sql-template-tag';
import type { Queryable } from '../../db/database.js';
import { nextPeriod, periodContaining, type BillingPeriod } from '../../domain/billing-period.js';
import { clusterChargeForPeriod, type ClusterCharge } from '../../domain/cluster-cost.js';
import { clusterPeriodInput, insideClusterLife, loadClusterChargesForOrganizations } from '../costs/cluster-charges.js';
import type { Cluster } from '../costs/cluster.js';
import { loadPlanFeeLines } from '../plans/plan-fee-lines.js';

export type UsageReportMetric = 'node_hours' | 'fixed_monthly_fee' | 'range_adjustment' | 'plan_fee';

export interface UsageReportLine {
  cluster: Pick<Cluster, 'id' | 'name'> | null;
  /** The UTC day (YYYY-MM-DD) of the line; for a plan fee, the day its segment starts within the span. */
  day: string;
  metric: UsageReportMetric;
  description: string;
  /** Node-hours for `node_hours`, null otherwise. */
  quantity: bigint | null;
  /** Hourly price per node for `node_hours`, the monthly price for `plan_fee`, null otherwise. */
  unitPriceMinor: bigint | null;
  amountMinor: bigint;
}

const MS_PER_DAY = 86_400_000;

function dayOf(at: Date): string {
  return at.toISOString().slice(0, 10);
}

function startOfNextDay(at: Date): Date {
  return new Date((Math.floor(at.getTime() / MS_PER_DAY) + 1) * MS_PER_DAY);
}

/** The billing periods (months) overlapping [from, to), each with the part of it inside the span. */
function periodsOf(from: Date, to: Date): Array<{ period: BillingPeriod; start: Date; end: Date }> {
  const parts: Array<{ period: BillingPeriod; start: Date; end: Date }> = [];
  for (let period = periodContaining(from); period.start < to; period = nextPeriod(period)) {
    const start = from > period.start ? from : period.start;
    const end = to < period.end ? to : period.end;
    if (end > start) parts.push({ period, start, end });
  }
  return parts;
}

/**
 * Node-hours per cluster of the period before `start` (key '') and per UTC day of [start, end), read from the same
 * usage events (metric, window, inside the cluster's life) as `loadClusterChargesForOrganizations`.
 */
async function loadNodeHoursByDay(
  db: Queryable,
  organizationId: string,
  period: BillingPeriod,
  start: Date,
  end: Date,
): Promise<Map<string, Map<string, bigint>>> {
  const { rows } = await db.query<{ cluster_id: string; day: string; node_hours: bigint }>(
    sql`SELECT u.cluster_id,
               CASE WHEN u.occurred_at < ${start}::timestamptz THEN ''
                    ELSE to_char(u.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') END AS day,
               SUM(u.quantity)::int8 AS node_hours
          FROM usage_events u
          JOIN clusters c ON c.id = u.cluster_id
         WHERE u.organization_id = ${organizationId}::uuid AND u.metric = 'node_hours'
           AND u.occurred_at >= ${period.start}::timestamptz AND u.occurred_at < ${end}::timestamptz AND ${insideClusterLife}
         GROUP BY 1, 2`,
  );
  const byCluster = new Map<string, Map<string, bigint>>();
  for (const row of rows) {
    let days = byCluster.get(row.cluster_id);
    if (days === undefined) byCluster.set(row.cluster_id, (days = new Map()));
    days.set(row.day, row.node_hours);
  }
  return byCluster;
}

function isActiveDuring(cluster: Cluster, from: Date, to: Date): boolean {
  return cluster.activeFrom < to && (cluster.activeUntil === null || cluster.activeUntil > from);
}

/** What keeps the charge inside its range: negative when capped at the max, positive when raised to the min. */
function rangeAdjustment(charge: ClusterCharge): bigint {
  return charge.amountMinor - charge.fixedMinor - charge.usageMinor;
}

async function clusterLines(db: Queryable, organizationId: string, part: { period: BillingPeriod; start: Date; end: Date }): Promise<UsageReportLine[]> {
  const { period, start, end } = part;
  const charges = (await loadClusterChargesForOrganizations(db, [organizationId], period, { until: end })).get(organizationId) ?? [];
  if (charges.length === 0) return [];
  const nodeHours = await loadNodeHoursByDay(db, organizationId, period, start, end);
  const lines: UsageReportLine[] = [];
  for (const { cluster } of charges) {
    const days = nodeHours.get(cluster.id) ?? new Map<string, bigint>();
    let used = days.get('') ?? 0n;
    let before = clusterChargeForPeriod({ ...clusterPeriodInput(cluster, period, start), usedNodeHours: used });
    for (let dayStart = start; dayStart < end; ) {
      const nextDay = startOfNextDay(dayStart);
      const dayEnd = nextDay < end ? nextDay : end;
      const day = dayOf(dayStart);
      const dayNodeHours = days.get(day) ?? 0n;
      used += dayNodeHours;
      const after = clusterChargeForPeriod({ ...clusterPeriodInput(cluster, period, dayEnd), usedNodeHours: used });
      if (isActiveDuring(cluster, dayStart, dayEnd) || dayNodeHours !== 0n) {
        const base = { cluster: { id: cluster.id, name: cluster.name }, day };
        lines.push({
          ...base,
          metric: 'node_hours',
          description: 'Metered node-hours',
          quantity: dayNodeHours,
          unitPriceMinor: cluster.pricing.hourlyPricePerNodeMinor,
          amountMinor: after.usageMinor - before.usageMinor,
        });
        const fixed = after.fixedMinor - before.fixedMinor;
        if (fixed !== 0n) {
          lines.push({ ...base, metric: 'fixed_monthly_fee', description: 'Fixed monthly part, prorated', quantity: null, unitPriceMinor: null, amountMinor: fixed });
        }
        const adjustment = rangeAdjustment(after) - rangeAdjustment(before);
        if (adjustment !== 0n) {
          lines.push({
            ...base,
            metric: 'range_adjustment',
            description: adjustment > 0n ? 'Raised to the minimum nodes of the cluster' : 'Capped at the maximum nodes of the cluster',
            quantity: null,
            unitPriceMinor: null,
            amountMinor: adjustment,
          });
        }
      }
      before = after;
      dayStart = dayEnd;
    }
  }
  return lines;
}

/** Plan fees of the span: the fee lines up to its end less those up to its start, segment by segment. */
async function planLines(db: Queryable, organizationId: string, part: { period: BillingPeriod; start: Date; end: Date }): Promise<UsageReportLine[]> {
  const upToEnd = await loadPlanFeeLines(db, organizationId, part.period, { until: part.end });
  const upToStart = await loadPlanFeeLines(db, organizationId, part.period, { until: part.start });
  const key = (line: { planCode: string; from: Date }) => `${line.planCode}@${line.from.getTime()}`;
  const already = new Map(upToStart.map((line) => [key(line), line.amountMinor]));
  const monthlyPrices = await loadMonthlyPrices(db, upToEnd.map((line) => line.planCode));
  return upToEnd.map((line) => {
    const before = already.get(key(line));
    return {
      cluster: null,
      day: dayOf(line.from > part.start ? line.from : part.start),
      metric: 'plan_fee',
      description: before === undefined ? line.description : `${line.description}, from ${dayOf(part.start)}`,
      quantity: null,
      unitPriceMinor: monthlyPrices.get(line.planCode) ?? null,
      amountMinor: line.amountMinor - (before ?? 0n),
    };
  });
}

async function loadMonthlyPrices(db: Queryable, planCodes: string[]): Promise<Map<string, bigint>> {
  if (planCodes.length === 0) return new Map();
  const { rows } = await db.query<{ code: string; monthly_price_minor: bigint }>(
    sql`SELECT code, monthly_price_minor FROM plans WHERE code = ANY(${planCodes}::text[])`,
  );
  return new Map(rows.map((row) => [row.code, row.monthly_price_minor]));
}

/**
 * Every line of [from, to) (the caller caps `to` at now: nothing after now has a cost yet), month by month: the
 * plan fees of the month first, then each cluster day by day.
 */
export async function loadUsageReportLines(db: Queryable, organizationId: string, from: Date, to: Date): Promise<UsageReportLine[]> {
  const lines: UsageReportLine[] = [];
  for (const part of periodsOf(from, to)) {
    lines.push(...(await planLines(db, organizationId, part)));
    lines.push(...(await clusterLines(db, organizationId, part)));
  }
  return lines;
}
