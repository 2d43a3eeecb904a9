/**
 * The `plan_subscriptions` table, the plan history of an organization: one open row for the current plan, closed
 * rows for the earlier ones. Plan fees are prorated from these rows, so every plan change goes through here.
 */
import { randomUUID } from 'node:crypto';
import sql, { type Sql } from 'sql-template-tag';
import type { Queryable } from '../../db/database.js';
import type { BillingPeriod } from '../../domain/billing-period.js';
import type { PlanSubscriptionSpan } from '../../domain/plan-segments.js';

/** Opens the row of the plan the organization is on from `at`. The caller has closed the previous one. */
export async function startPlanSubscription(tx: Queryable, organizationId: string, planCode: string, at: Date): Promise<void> {
  await tx.query(
    sql`INSERT INTO plan_subscriptions (id, organization_id, plan_code, started_at)
        VALUES (${randomUUID()}::uuid, ${organizationId}::uuid, ${planCode}, ${at}::timestamptz)`,
  );
}

/** The start of the current plan row, or null when the organization has none (created before plan history existed). */
export async function currentPlanSubscriptionStart(tx: Queryable, organizationId: string): Promise<Date | null> {
  const { rows } = await tx.query<{ started_at: Date }>(
    sql`SELECT started_at FROM plan_subscriptions WHERE organization_id = ${organizationId}::uuid AND ended_at IS NULL`,
  );
  return rows[0]?.started_at ?? null;
}

/** Closes the current plan row at `at` (exclusive end). */
export async function endCurrentPlanSubscription(tx: Queryable, organizationId: string, at: Date): Promise<void> {
  await tx.query(sql`UPDATE plan_subscriptions SET ended_at = ${at}::timestamptz WHERE organization_id = ${organizationId}::uuid AND ended_at IS NULL`);
}

/** Whether any organization is or was on the plan. */
export async function planHasSubscriptions(db: Queryable, planCode: string): Promise<boolean> {
  const { rows } = await db.query(sql`SELECT 1 FROM plan_subscriptions WHERE plan_code = ${planCode} LIMIT 1`);
  return rows.length > 0;
}

/** A plan row with its plan's name and price (the columns of `spansOverlapping`, as `toSpan` reads them). */
export interface SpanRow {
  organization_id: string;
  plan_code: string;
  plan_name: string;
  monthly_price_minor: bigint;
  started_at: Date;
  ended_at: Date | null;
}

/** The same as JSON (money as text: no amount passes through a JS number). */
export type SpanJson = Omit<SpanRow, 'monthly_price_minor' | 'started_at' | 'ended_at'> & {
  monthly_price_minor: string;
  started_at: string;
  ended_at: string | null;
};

/** The plan rows `s` (joined with their plan `p`) that overlap the period, for `WHERE … AND ${…}`. */
function overlapping(period: BillingPeriod): Sql {
  return sql`s.started_at < ${period.end}::timestamptz AND (s.ended_at IS NULL OR s.ended_at > ${period.start}::timestamptz)`;
}

const spanOrder = sql`s.started_at, s.id`;

/** The plan rows of many organizations overlapping the period: each organization's rows, oldest first. */
export async function loadSpansOverlapping(
  db: Queryable,
  organizationIds: readonly string[],
  period: BillingPeriod,
): Promise<Map<string, PlanSubscriptionSpan[]>> {
  const { rows } = await db.query<SpanRow>(
    sql`SELECT s.organization_id, s.plan_code, p.name AS plan_name, p.monthly_price_minor, s.started_at, s.ended_at
          FROM plan_subscriptions s
          JOIN plans p ON p.code = s.plan_code
         WHERE s.organization_id = ANY(${organizationIds}::uuid[]) AND ${overlapping(period)}
         ORDER BY s.organization_id, ${spanOrder}`,
  );
  const spans = new Map<string, PlanSubscriptionSpan[]>(organizationIds.map((id) => [id, []]));
  for (const row of rows) spans.get(row.organization_id)?.push(toSpan(row));
  return spans;
}

/**
 * The plan rows of the organization `o` of an enclosing statement overlapping the period, oldest first, as one
 * JSON array (a select-list expression); `spansFromJson` reads it.
 */
export function spansOverlappingJson(period: BillingPeriod): Sql {
  return sql`(SELECT COALESCE(json_agg(json_build_object(
                        'organization_id', s.organization_id, 'plan_code', s.plan_code, 'plan_name', p.name,
                        'monthly_price_minor', p.monthly_price_minor::text, 'started_at', s.started_at, 'ended_at', s.ended_at)
                      ORDER BY ${spanOrder}), '[]'::json)
                FROM plan_subscriptions s
                JOIN plans p ON p.code = s.plan_code
               WHERE s.organization_id = o.id AND ${overlapping(period)})`;
}

export function spansFromJson(json: readonly SpanJson[]): PlanSubscriptionSpan[] {
  return json.map((span) =>
    toSpan({
      ...span,
      monthly_price_minor: BigInt(span.monthly_price_minor),
      started_at: new Date(span.started_at),
      ended_at: span.ended_at === null ? null : new Date(span.ended_at),
    }),
  );
}

function toSpan(row: SpanRow): PlanSubscriptionSpan {
  return {
    planCode: row.plan_code,
    planName: row.plan_name,
    monthlyPriceMinor: row.monthly_price_minor,
    startedAt: row.started_at,
    endedAt: row.ended_at,
  };
}
