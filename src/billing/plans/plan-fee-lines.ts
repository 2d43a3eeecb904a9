/**
 * The plan fee lines of an organization for a billing period, from its plan history: shared by the invoice
 * (up to the period end) and the cost so far (up to now), so that both prorate and honour trials the same way.
 */
import type { Queryable } from '../../db/database.js';
import type { BillingPeriod } from '../../domain/billing-period.js';
import { chargeablePlanSegments, type PlanSubscriptionSpan } from '../../domain/plan-segments.js';
import { planFeeLines, type PlanFeeLine } from '../../domain/proration.js';

interface SpanRow {
  plan_code: string;
  plan_name: string;
  monthly_price_minor: bigint;
  started_at: Date;
  ended_at: Date | null;
}

/** The plan rows overlapping the period, oldest first. */
export async function loadPlanSubscriptionSpans(db: Queryable, organizationId: string, period: BillingPeriod): Promise<PlanSubscriptionSpan[]> {
  const { rows } = await db.query<SpanRow>(
    `SELECT s.plan_code, p.name AS plan_name, p.monthly_price_minor, s.started_at, s.ended_at
       FROM plan_subscriptions s
       JOIN plans p ON p.code = s.plan_code
      WHERE s.organization_id = $1 AND s.started_at < $3 AND (s.ended_at IS NULL OR s.ended_at > $2)
      ORDER BY s.started_at, s.id`,
    [organizationId, period.start, period.end],
  );
  return rows.map((row) => ({
    planCode: row.plan_code,
    planName: row.plan_name,
    monthlyPriceMinor: row.monthly_price_minor,
    startedAt: row.started_at,
    endedAt: row.ended_at,
  }));
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
  const { rows } = await db.query<{ trial_ends_at: Date | null }>('SELECT trial_ends_at FROM organizations WHERE id = $1', [organizationId]);
  const trialEndsAt = rows[0]?.trial_ends_at ?? null;
  const until = options.until !== undefined && options.until < period.end ? options.until : period.end;
  const spans = await loadPlanSubscriptionSpans(db, organizationId, period);
  const segments = chargeablePlanSegments(spans, { until, trialEndsAt });
  return planFeeLines({ periodStart: period.start, periodEnd: period.end, segments });
}
