/**
 * The plan fee lines of an organization for a billing period, from its plan history: shared by the invoice
 * (up to the period end) and the cost so far (up to now), so that both prorate and honour trials the same way.
 */
import sql from 'sql-template-tag';
import type { Queryable } from '../../db/database.js';
import type { BillingPeriod } from '../../domain/billing-period.js';
import { chargeablePlanSegments, type PlanSubscriptionSpan } from '../../domain/plan-segments.js';
import { planFeeLines, type PlanFeeLine } from '../../domain/proration.js';
import { loadSpansOverlapping } from './plan-subscriptions.js';

/**
 * One fee line per plan the organization was on during the period (its plan rows overlapping the period, oldest
 * first), prorated by the time on it; time before the end of its trial is free. `until` (default: the period end)
 * stops the count early, for the cost so far. Amounts are in the plans' currency, which is the organization's.
 */
export function planFeeLinesOf(
  spans: readonly PlanSubscriptionSpan[],
  trialEndsAt: Date | null,
  period: BillingPeriod,
  options: { until?: Date } = {},
): PlanFeeLine[] {
  const until = options.until !== undefined && options.until < period.end ? options.until : period.end;
  const segments = chargeablePlanSegments(spans, { until, trialEndsAt });
  return planFeeLines({ periodStart: period.start, periodEnd: period.end, segments });
}

/**
 * `planFeeLinesOf` for many organizations (a billing run's batch), keyed by organization id (an unknown id gets no
 * line). Their trial ends come from `trialEndsAt` when the caller has read them already, else from one query.
 */
export async function loadPlanFeeLinesForOrganizations(
  db: Queryable,
  organizationIds: readonly string[],
  period: BillingPeriod,
  options: { until?: Date; trialEndsAt?: ReadonlyMap<string, Date | null> } = {},
): Promise<Map<string, PlanFeeLine[]>> {
  const trialEnds = options.trialEndsAt ?? (await loadTrialEnds(db, organizationIds));
  // Sequential: `db` may be a transaction, whose one connection takes one query at a time.
  const spansByOrganization = await loadSpansOverlapping(db, organizationIds, period);
  const lines = new Map<string, PlanFeeLine[]>();
  for (const organizationId of organizationIds) {
    const spans = spansByOrganization.get(organizationId) ?? [];
    lines.set(organizationId, planFeeLinesOf(spans, trialEnds.get(organizationId) ?? null, period, options));
  }
  return lines;
}

async function loadTrialEnds(db: Queryable, organizationIds: readonly string[]): Promise<Map<string, Date | null>> {
  const { rows } = await db.query<{ id: string; trial_ends_at: Date | null }>(
    sql`SELECT id, trial_ends_at FROM organizations WHERE id = ANY(${organizationIds}::uuid[])`,
  );
  return new Map(rows.map((row) => [row.id, row.trial_ends_at]));
}
