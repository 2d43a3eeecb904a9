/**
 * The plan fee lines of an organization for a billing period, from its plan history: shared by the invoice
 * (up to the period end) and the cost so far (up to now), so that both prorate and honour trials the same way.
 */
import sql from 'sql-template-tag';
import type { Queryable } from '../../db/database.js';
import type { BillingPeriod } from '../../domain/billing-period.js';
import { chargeablePlanSegments, type PlanSubscriptionSpan } from '../../domain/plan-segments.js';
import { planFeeLines, type PlanFeeLine } from '../../domain/proration.js';

interface SpanRow {
  organization_id: string;
  plan_code: string;
  plan_name: string;
  monthly_price_minor: bigint;
  started_at: Date;
  ended_at: Date | null;
}

/** The plan rows overlapping the period, oldest first. */
export async function loadPlanSubscriptionSpans(db: Queryable, organizationId: string, period: BillingPeriod): Promise<PlanSubscriptionSpan[]> {
  return (await loadPlanSubscriptionSpansForOrganizations(db, [organizationId], period)).get(organizationId) ?? [];
}

/** `loadPlanSubscriptionSpans` of many organizations in one query: each organization's rows, oldest first. */
export async function loadPlanSubscriptionSpansForOrganizations(
  db: Queryable,
  organizationIds: readonly string[],
  period: BillingPeriod,
): Promise<Map<string, PlanSubscriptionSpan[]>> {
  const { rows } = await db.query<SpanRow>(
    `SELECT s.organization_id, s.plan_code, p.name AS plan_name, p.monthly_price_minor, s.started_at, s.ended_at
       FROM plan_subscriptions s
       JOIN plans p ON p.code = s.plan_code
      WHERE s.organization_id = ANY($1::uuid[]) AND s.started_at < $3 AND (s.ended_at IS NULL OR s.ended_at > $2)
      ORDER BY s.organization_id, s.started_at, s.id`,
    [organizationIds, period.start, period.end],
  );
  const spans = new Map<string, PlanSubscriptionSpan[]>(organizationIds.map((id) => [id, []]));
  for (const row of rows) {
    spans.get(row.organization_id)?.push({
      planCode: row.plan_code,
      planName: row.plan_name,
      monthlyPriceMinor: row.monthly_price_minor,
      startedAt: row.started_at,
      endedAt: row.ended_at,
    });
  }
  return spans;
}

/**
 * One fee line per plan the organization was on during the period, prorated by the time on it; time before the
 * end of its trial is free. `until` (default: the period end) stops the count early, for the cost so far.
 * Amounts are in the plans' currency, which is the organization's currency.
 */
export async function loadPlanFeeLines(
  db: Queryable,
  organizationId: string,
  period: BillingPeriod,
  options: { until?: Date } = {},
): Promise<PlanFeeLine[]> {
  const { rows } = await db.query<{ trial_ends_at: Date | null }>(sql`SELECT trial_ends_at FROM organizations WHERE id = ${organizationId}::uuid`);
  const organization = { id: organizationId, trialEndsAt: rows[0]?.trial_ends_at ?? null };
  return (await loadPlanFeeLinesForOrganizations(db, [organization], period, options)).get(organizationId) ?? [];
}

/**
 * `loadPlanFeeLines` of many organizations (a billing run's batch, which has read their trial ends with the rest of
 * their row) in one query, with the same rules: each organization's lines, keyed by its id.
 */
export async function loadPlanFeeLinesForOrganizations(
  db: Queryable,
  organizations: ReadonlyArray<{ id: string; trialEndsAt: Date | null }>,
  period: BillingPeriod,
  options: { until?: Date } = {},
): Promise<Map<string, PlanFeeLine[]>> {
  const until = options.until !== undefined && options.until < period.end ? options.until : period.end;
  const spansByOrganization = await loadPlanSubscriptionSpansForOrganizations(db, organizations.map((organization) => organization.id), period);
  const lines = new Map<string, PlanFeeLine[]>();
  for (const { id, trialEndsAt } of organizations) {
    const segments = chargeablePlanSegments(spansByOrganization.get(id) ?? [], { until, trialEndsAt });
    lines.set(id, planFeeLines({ periodStart: period.start, periodEnd: period.end, segments }));
  }
  return lines;
}
