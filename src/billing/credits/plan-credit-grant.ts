/**
 * Credits a plan grants (a platform's sign-up credit): a credits plan with `creditGrantMinor` gives it to an
 * organization when it joins the plan (at creation or by a plan change) and, in mode `every_period`, again at the
 * start of every period it is on the plan (a recurring job on the business calendar). Each grant is one ledger entry
 * (reason `adjustment`, reference `plan-grant:<plan>` once, `plan-grant:<plan>:<YYYY-MM>` per period: a unique
 * index makes every grant happen at most once) and one `CREDIT_GRANT` audit event, in one transaction.
 */
import sql from 'sql-template-tag';
import type { AppContext } from '../../app-context.js';
import { recordAuditEvent } from '../../audit/record-audit-event.js';
import type { Queryable } from '../../db/database.js';
import { systemCaller, type Caller } from '../../domain/actor.js';
import { toSafeInteger } from '../../domain/money.js';
import { recordBillingEvent } from '../../events/billing-event.js';
import { nextPeriod, periodContaining, periodFromKey, periodKey, type BillingPeriod } from '../../domain/billing-period.js';
import type { Occurrence, RecurringJob } from '../../jobs/job-queue.js';
import { stringField } from '../../jobs/job-payload.js';
import { planCreditGrantQueue } from '../../jobs/queues.js';
import { findPlan, type Plan } from '../plans/plan.js';
import { getCreditBalance, lockCreditBalance } from './credit-balance.js';
import { insertLedgerEntry, newLedgerEntry } from './credit-ledger.js';

export const CREDIT_GRANT = 'CREDIT_GRANT';

/** The grant's reference: once per organization and plan, or once per period too. */
function grantReference(plan: Plan, period: BillingPeriod): string {
  return plan.creditGrantMode === 'once' ? `plan-grant:${plan.code}` : `plan-grant:${plan.code}:${periodKey(period)}`;
}

/**
 * Grants the plan's credits to an organization that is on it, for the period containing `at`; nothing when the plan
 * grants none or the grant was already given. Runs inside the caller's transaction. Returns whether it granted.
 */
export async function grantPlanCredits(
  tx: Queryable,
  caller: Caller,
  organization: { id: string; currency: string },
  plan: Plan,
  at: Date,
): Promise<boolean> {
  if (plan.kind !== 'credits' || plan.creditGrantMinor <= 0n || plan.currency !== organization.currency) return false;
  const reference = grantReference(plan, periodContaining(at));
  await lockCreditBalance(tx, organization.id);
  const entry = newLedgerEntry({
    organizationId: organization.id,
    amountMinor: plan.creditGrantMinor,
    currency: plan.currency,
    reason: 'adjustment',
    reference,
    description: plan.creditGrantMode === 'once' ? `Credit of the ${plan.name} plan` : `Credit of the ${plan.name} plan for ${periodKey(periodContaining(at))}`,
    createdAt: at,
  });
  const { rowCount } = await tx.query(sql`${insertLedgerEntry(entry)} ON CONFLICT DO NOTHING`);
  if (rowCount === 0) return false;
  await recordAuditEvent(tx, caller, at, {
    organizationId: organization.id,
    type: CREDIT_GRANT,
    changes: { plan: plan.code, amountMinor: plan.creditGrantMinor, currency: plan.currency, reference, ledgerEntryId: entry.id },
  });
  await recordBillingEvent(tx, at, {
    type: 'credits.granted',
    organizationId: organization.id,
    data: {
      amount_in_cents: toSafeInteger(plan.creditGrantMinor),
      currency: plan.currency,
      source: 'plan_grant',
      plan: plan.code,
      ledger_entry_id: entry.id,
      balance_in_cents: toSafeInteger(await getCreditBalance(tx, organization.id, plan.currency)),
    },
  });
  return true;
}

interface PlanCreditGrantPayload {
  /** 'YYYY-MM' of the period whose start the grants are for. */
  periodKey: string;
}

function grantOccurrence(period: BillingPeriod): Occurrence {
  const payload: PlanCreditGrantPayload = { periodKey: periodKey(period) };
  return { key: `plan-credit-grants:${payload.periodKey}`, dueAt: period.start, payload };
}

/** At the start of every period: the grants of plans in mode `every_period` (each period once, in order). */
export const periodicPlanCreditGrants: RecurringJob = {
  queue: planCreditGrantQueue,
  maxAttempts: 12,
  first: (now) => grantOccurrence(nextPeriod(periodContaining(now))),
  next: (previousDueAt) => grantOccurrence(nextPeriod(periodContaining(previousDueAt))),
};

/** The job: every organization on an `every_period` plan gets its grant for the period (one transaction each). */
export async function grantPeriodicPlanCredits(context: AppContext, payload: unknown): Promise<number> {
  const period = periodFromKey(stringField(payload, 'periodKey') ?? '');
  if (period === null) throw new Error(`${planCreditGrantQueue}: payload without a valid periodKey`);
  const { rows } = await context.database.query<{ id: string; currency: string; plan: string }>(
    sql`SELECT o.id, o.currency, o.plan FROM organizations o JOIN plans p ON p.code = o.plan
         WHERE p.kind = 'credits' AND p.credit_grant_minor > 0 AND p.credit_grant_mode = 'every_period'
           AND o.created_at < ${period.end}::timestamptz
         ORDER BY o.id`,
  );
  const plans = new Map<string, Plan | null>();
  let granted = 0;
  for (const row of rows) {
    if (!plans.has(row.plan)) plans.set(row.plan, await findPlan(context.database, row.plan));
    const plan = plans.get(row.plan);
    if (!plan) continue;
    const done = await context.database.transaction((tx) =>
      grantPlanCredits(tx, systemCaller('scheduler'), row, plan, period.start),
    );
    if (done) granted += 1;
  }
  return granted;
}
