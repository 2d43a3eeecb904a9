/**
 * The plan fee lines of an organization for a billing period, from its plan history: shared by the invoice
 * (up to the period end), the cost so far (up to now) and the usage report, so that all prorate and honour trials
 * the same way.
 */
import sql from 'sql-template-tag';
import type { Queryable } from '../../db/database.js';
import type { BillingPeriod } from '../../domain/billing-period.js';
import { chargeablePlanSegments, type PlanSubscriptionSpan } from '../../domain/plan-segments.js';
import { planFeeLines, type PlanFeeLine } from '../../domain/proration.js';
import { trialWindowOf, type TrialWindow } from '../../domain/trial.js';
import { loadSpansOverlapping } from './plan-subscriptions.js';

/**
 * One fee line per plan the organization was on during the period (its plan rows overlapping the period, oldest
 * first), prorated by the time on it; only the trial's own window is free. `until` (default: the period end)
 * stops the count early, for the cost so far. Amounts are in the plans' currency, which is the organization's.
 */
export function planFeeLinesOf(
  spans: readonly PlanSubscriptionSpan[],
  trial: TrialWindow | null,
  period: BillingPeriod,
  options: { until?: Date } = {},
): PlanFeeLine[] {
  const until = options.until !== undefined && options.until < period.end ? options.until : period.end;
  const segments = chargeablePlanSegments(spans, { until, trial });
  return planFeeLines({ periodStart: period.start, periodEnd: period.end, segments });
}

/** `planFeeLinesOf` of one organization, read from the database (its trial window, then its plan history). */
export async function loadPlanFeeLines(
  db: Queryable,
  organizationId: string,
  period: BillingPeriod,
  options: { until?: Date } = {},
): Promise<PlanFeeLine[]> {
  const { rows } = await db.query<{ trial_started_at: Date | null; trial_ends_at: Date | null }>(
    sql`SELECT trial_started_at, trial_ends_at FROM organizations WHERE id = ${organizationId}::uuid`,
  );
  const organization = { id: organizationId, trial: trialWindowOf(rows[0]?.trial_started_at ?? null, rows[0]?.trial_ends_at ?? null) };
  return (await loadPlanFeeLinesForOrganizations(db, [organization], period, options)).get(organizationId) ?? [];
}

/**
 * `planFeeLinesOf` for many organizations (a billing run's batch, which has read their trial windows with the rest of
 * their row) in one query: each organization's lines, keyed by its id.
 */
export async function loadPlanFeeLinesForOrganizations(
  db: Queryable,
  organizations: ReadonlyArray<{ id: string; trial: TrialWindow | null }>,
  period: BillingPeriod,
  options: { until?: Date } = {},
): Promise<Map<string, PlanFeeLine[]>> {
  const spansByOrganization = await loadSpansOverlapping(db, organizations.map((organization) => organization.id), period);
  const lines = new Map<string, PlanFeeLine[]>();
  for (const { id, trial } of organizations) {
    lines.set(id, planFeeLinesOf(spansByOrganization.get(id) ?? [], trial, period, options));
  }
  return lines;
}
