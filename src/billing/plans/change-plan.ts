import type { AppContext } from '../../app-context.js';
import { recordAuditEvent, type AuditChanges } from '../../audit/record-audit-event.js';
import type { Queryable } from '../../db/database.js';
import { missingDetailsForInvoicedPlan, type InvoicedPlanDetail } from '../../domain/plan-requirements.js';
import { trialEndDate } from '../../domain/trial.js';
import { BillingError, invalidInput } from '../../errors.js';
import type { Caller } from '../../domain/actor.js';
import { authorize } from '../access/authorize.js';
import { loadBillingStatus } from '../status/billing-standing.js';
import type { BillingRestriction } from '../../domain/billing-status.js';
import { loadBillingProfile } from '../profile/billing-profile.js';
import { findPlan, type Plan } from './plan.js';
import { currentPlanSubscriptionStart, endCurrentPlanSubscription, startPlanSubscription } from './plan-subscriptions.js';

export interface OrganizationPlanView {
  id: string;
  name: string;
  slug: string;
  plan: string;
  currency: string;
  trialEndsAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** The organization after the change, with what restricts its deployments now (null: nothing). */
export interface ChangedPlanView extends OrganizationPlanView {
  deploymentRestriction: BillingRestriction | null;
}

export const PLAN_CHANGE = 'PLAN_CHANGE';

const detailWords: Record<InvoicedPlanDetail, string> = {
  email: 'billing e-mail',
  addressLine1: 'address',
  city: 'city',
  postalCode: 'postal code',
  country: 'country',
};

/**
 * Moves an organization to another plan of the catalogue: the current plan row ends now and the new one starts
 * now (the next invoice prorates both), a first trial starts when the new plan has one, all audited in one
 * transaction. The same plan again changes nothing. An invoiced plan needs the billing details an invoice carries.
 * The answer carries the deployment restriction of the billing status as it stands after the change.
 */
export async function changePlan(
  context: AppContext,
  request: Caller,
  input: { organizationId: string; plan: string },
): Promise<ChangedPlanView> {
  const now = context.clock.now();
  const organization = await context.database.transaction(async (tx) => {
    await authorize(tx, request.actor, input.organizationId, 'billing');
    const profile = await loadBillingProfile(tx, input.organizationId, true);
    const current = await loadOrganizationPlanView(tx, input.organizationId);
    const plan = await findPlan(tx, input.plan);
    if (plan === null) {
      throw invalidInput([{ field: 'plan', reason: 'unknown_plan', message: 'is not a plan of the catalogue' }], 'unknown_plan');
    }
    if (plan.code === current.plan) return current;

    if (plan.kind === 'invoiced') {
      const missing = missingDetailsForInvoicedPlan(profile);
      if (missing.length > 0) {
        throw new BillingError(
          'billing_profile_incomplete',
          422,
          `Add the ${missing.map((detail) => detailWords[detail]).join(', ')} to the billing details before moving to the ${plan.code} plan`,
          missing.map((detail) => ({ field: detail, reason: 'required', message: 'is required for a paid plan' })),
        );
      }
    }
    if (plan.currency !== current.currency) await assertCurrencyMayChange(tx, input.organizationId, plan, current.currency);

    const currentStart = await currentPlanSubscriptionStart(tx, input.organizationId);
    if (currentStart !== null && now < currentStart) {
      throw new BillingError('plan_change_before_current_plan', 409, 'The current plan starts later than now; the plan cannot change before it');
    }
    await endCurrentPlanSubscription(tx, input.organizationId, now);
    await startPlanSubscription(tx, input.organizationId, plan.code, now);

    // One trial per organization: only when it never had one.
    const trialEndsAt = current.trialEndsAt ?? trialEndDate(now, plan.trialDays);
    await tx.query('UPDATE organizations SET plan = $2, currency = $3, trial_ends_at = $4, updated_at = $5 WHERE id = $1', [
      input.organizationId,
      plan.code,
      plan.currency,
      trialEndsAt,
      now,
    ]);
    const changes: AuditChanges = { plan: { old: current.plan, new: plan.code } };
    if (plan.currency !== current.currency) changes.currency = { old: current.currency, new: plan.currency };
    if (trialEndsAt !== current.trialEndsAt) changes.trialEndsAt = { old: current.trialEndsAt, new: trialEndsAt };
    await recordAuditEvent(tx, request, now, { organizationId: input.organizationId, type: PLAN_CHANGE, changes });
    return { ...current, plan: plan.code, currency: plan.currency, trialEndsAt, updatedAt: now };
  });
  const status = await loadBillingStatus(context.database, organization.id, now);
  return { ...organization, deploymentRestriction: status.reason };
}

async function loadOrganizationPlanView(db: Queryable, organizationId: string): Promise<OrganizationPlanView> {
  const { rows } = await db.query<{
    id: string;
    name: string;
    slug: string;
    plan: string;
    currency: string;
    trial_ends_at: Date | null;
    created_at: Date;
    updated_at: Date;
  }>('SELECT id, name, slug, plan, currency, trial_ends_at, created_at, updated_at FROM organizations WHERE id = $1', [organizationId]);
  const row = rows[0]!;
  return {
    id: row.id,
    name: row.name,
    slug: row.slug,
    plan: row.plan,
    currency: row.currency,
    trialEndsAt: row.trial_ends_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Credits, clusters and invoices are kept in the organization's currency: it may change only while there are none. */
async function assertCurrencyMayChange(tx: Queryable, organizationId: string, plan: Plan, currency: string): Promise<void> {
  const { rows } = await tx.query<{ billed: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM clusters WHERE organization_id = $1)
         OR EXISTS (SELECT 1 FROM credit_ledger_entries WHERE organization_id = $1)
         OR EXISTS (SELECT 1 FROM invoices WHERE organization_id = $1) AS billed`,
    [organizationId],
  );
  if (rows[0]?.billed) {
    throw invalidInput(
      [{ field: 'plan', reason: 'currency', message: `is priced in ${plan.currency}, but this organization is billed in ${currency}` }],
      'plan_currency_mismatch',
    );
  }
}
