/**
 * The plan history of an organization (`plan_subscriptions`): one open row for the current plan, closed rows for
 * the earlier ones. Plan fees are prorated from these rows, so every plan change goes through here.
 */
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../../db/database.js';

/** Opens the row of the plan the organization is on from `at`. The caller has closed the previous one. */
export async function startPlanSubscription(tx: Queryable, organizationId: string, planCode: string, at: Date): Promise<void> {
  await tx.query(
    'INSERT INTO plan_subscriptions (id, organization_id, plan_code, started_at) VALUES ($1, $2, $3, $4)',
    [randomUUID(), organizationId, planCode, at],
  );
}

/** The start of the current plan row, or null when the organization has none (created before plan history existed). */
export async function currentPlanSubscriptionStart(tx: Queryable, organizationId: string): Promise<Date | null> {
  const { rows } = await tx.query<{ started_at: Date }>(
    'SELECT started_at FROM plan_subscriptions WHERE organization_id = $1 AND ended_at IS NULL',
    [organizationId],
  );
  return rows[0]?.started_at ?? null;
}

/** Closes the current plan row at `at` (exclusive end). */
export async function endCurrentPlanSubscription(tx: Queryable, organizationId: string, at: Date): Promise<void> {
  await tx.query('UPDATE plan_subscriptions SET ended_at = $2 WHERE organization_id = $1 AND ended_at IS NULL', [organizationId, at]);
}
