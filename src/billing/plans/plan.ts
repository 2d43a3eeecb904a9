/** The `plans` table, the catalogue: what each plan costs a month, in which currency, how it is paid and its trial. */
import sql, { raw, type Sql } from 'sql-template-tag';
import type { Queryable } from '../../db/database.js';

export const planKinds = ['credits', 'invoiced'] as const;
/** `credits`: usage is paid from the credit balance (a community plan); `invoiced`: invoiced monthly, charged to the card. */
export type PlanKind = (typeof planKinds)[number];

export const creditGrantModes = ['once', 'every_period'] as const;
/** When a plan's credit grant is given: `once` when an organization joins the plan, `every_period` also at each period's start. */
export type CreditGrantMode = (typeof creditGrantModes)[number];

export interface Plan {
  code: string;
  name: string;
  monthlyPriceMinor: bigint;
  currency: string;
  kind: PlanKind;
  trialDays: number;
  /** Credits granted to organizations on the plan (credits plans; 0: none), in minor units of its currency. */
  creditGrantMinor: bigint;
  creditGrantMode: CreditGrantMode;
  createdAt: Date;
  updatedAt: Date;
}

/** The same rule as the `plans.code` check: the seed's plan names (FREE, TEAM_2025, …) and operators' own codes. */
export const planCodePattern = /^[A-Za-z0-9_-]{1,64}$/;

interface PlanRow {
  code: string;
  name: string;
  monthly_price_minor: bigint;
  currency: string;
  kind: PlanKind;
  trial_days: number;
  credit_grant_minor: bigint;
  credit_grant_mode: CreditGrantMode;
  created_at: Date;
  updated_at: Date;
}

const planColumns: Sql = raw('code, name, monthly_price_minor, currency, kind, trial_days, credit_grant_minor, credit_grant_mode, created_at, updated_at');

function toPlan(row: PlanRow): Plan {
  return {
    code: row.code,
    name: row.name,
    monthlyPriceMinor: row.monthly_price_minor,
    currency: row.currency,
    kind: row.kind,
    trialDays: row.trial_days,
    creditGrantMinor: row.credit_grant_minor,
    creditGrantMode: row.credit_grant_mode,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** The plan of that code, or null when the catalogue has none. */
export async function findPlan(db: Queryable, code: string): Promise<Plan | null> {
  if (!planCodePattern.test(code)) return null;
  const { rows } = await db.query<PlanRow>(sql`SELECT ${planColumns} FROM plans WHERE code = ${code}`);
  return rows[0] ? toPlan(rows[0]) : null;
}

export async function listPlanRows(db: Queryable): Promise<Plan[]> {
  const { rows } = await db.query<PlanRow>(sql`SELECT ${planColumns} FROM plans ORDER BY code`);
  return rows.map(toPlan);
}

export async function insertPlan(tx: Queryable, plan: Plan): Promise<void> {
  await tx.query(
    sql`INSERT INTO plans (${planColumns})
        VALUES (${plan.code}, ${plan.name}, ${plan.monthlyPriceMinor}::int8, ${plan.currency}, ${plan.kind}, ${plan.trialDays}::int4,
                ${plan.creditGrantMinor}::int8, ${plan.creditGrantMode}, ${plan.createdAt}::timestamptz, ${plan.updatedAt}::timestamptz)`,
  );
}

/** Writes every column but the code and the creation time. */
export async function updatePlan(tx: Queryable, plan: Plan): Promise<void> {
  await tx.query(
    sql`UPDATE plans SET name = ${plan.name}, monthly_price_minor = ${plan.monthlyPriceMinor}::int8, currency = ${plan.currency},
                         kind = ${plan.kind}, trial_days = ${plan.trialDays}::int4,
                         credit_grant_minor = ${plan.creditGrantMinor}::int8, credit_grant_mode = ${plan.creditGrantMode}, updated_at = ${plan.updatedAt}::timestamptz
         WHERE code = ${plan.code}`,
  );
}

/** Serialises concurrent writes of one plan code for the rest of the transaction (the row may not exist yet). */
export async function lockPlanCode(tx: Queryable, code: string): Promise<void> {
  await tx.query(sql`SELECT pg_advisory_xact_lock(hashtextextended('plan:' || ${code}::text, 0))`);
}
