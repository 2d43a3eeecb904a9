import sql from 'sql-template-tag';
import type { AppContext } from '../../app-context.js';
import { recordAuditEvent, type AuditChanges } from '../../audit/record-audit-event.js';
import type { Queryable } from '../../db/database.js';
import type { Caller } from '../../domain/actor.js';
import { missingDetailsForInvoicedPlan, type InvoicedPlanDetail } from '../../domain/plan-requirements.js';
import { trialEndDate } from '../../domain/trial.js';
import { BillingError, invalidInput } from '../../errors.js';
import { enterOrganization } from '../organizations/organization-access.js';
import { organizationColumns, toOrganization, updateOrganizationPlan, type Organization, type OrganizationRow } from '../organizations/organization.js';
import { loadBillingStatus } from '../status/billing-standing.js';
import type { BillingRestriction } from '../../domain/billing-status.js';
import { loadBillingProfile } from '../profile/billing-profile.js';
import { grantPlanCredits } from '../credits/plan-credit-grant.js';
import { findPlan, type Plan } from './plan.js';
import { currentPlanSubscriptionStart, endCurrentPlanSubscription, startPlanSubscription } from './plan-subscriptions.js';

/** The organization after the change, with what restricts its deployments now (null: nothing). */
export interface ChangedPlanView extends Organization {
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
export async function changePlan(context: AppContext, caller: Caller, input: { organizationId: string; plan: string }): Promise<ChangedPlanView> {
  const now = context.clock.now();
  const organization = await context.database.transaction(async (tx) => {
    // Locked: a plan change takes its turn with every other change of the organization's billing data.
    const entry = await enterOrganization<Omit<OrganizationRow, 'id'>>(tx, caller, { id: input.organizationId }, 'billing.write', {
      lock: 'update',
      select: organizationColumns,
    });
    const current = toOrganization(entry);
    const plan = await findPlan(tx, input.plan);
    if (plan === null) {
      throw invalidInput([{ field: 'plan', reason: 'unknown_plan', message: 'is not a plan of the catalogue' }], 'unknown_plan');
    }
    if (plan.code === current.plan) return current;

    if (plan.kind === 'invoiced') {
      const missing = missingDetailsForInvoicedPlan(await loadBillingProfile(tx, current.id));
      if (missing.length > 0) {
        throw new BillingError(
          'billing_profile_incomplete',
          422,
          `Add the ${missing.map((detail) => detailWords[detail]).join(', ')} to the billing details before moving to the ${plan.code} plan`,
          missing.map((detail) => ({ field: detail, reason: 'required', message: 'is required for a paid plan' })),
        );
      }
    }
    if (plan.currency !== current.currency) await assertCurrencyMayChange(tx, current.id, plan, current.currency);

    const currentStart = await currentPlanSubscriptionStart(tx, current.id);
    if (currentStart !== null && now < currentStart) {
      throw new BillingError('plan_change_before_current_plan', 409, 'The current plan starts later than now; the plan cannot change before it');
    }
    await endCurrentPlanSubscription(tx, current.id, now);
    await startPlanSubscription(tx, current.id, plan.code, now);

    // One trial per organization, ever: only when it never had one; it starts now and only its window is free.
    const startsTrial = current.trialEndsAt === null && plan.trialDays > 0;
    const trialStartedAt = startsTrial ? now : current.trialStartedAt;
    const trialEndsAt = startsTrial ? trialEndDate(now, plan.trialDays) : current.trialEndsAt;
    const next: Organization = { ...current, plan: plan.code, currency: plan.currency, trialStartedAt, trialEndsAt, updatedAt: now };
    await updateOrganizationPlan(tx, next);
    const changes: AuditChanges = { plan: { old: current.plan, new: plan.code } };
    if (plan.currency !== current.currency) changes.currency = { old: current.currency, new: plan.currency };
    if (startsTrial) {
      changes.trialStartedAt = { old: current.trialStartedAt, new: trialStartedAt };
      changes.trialEndsAt = { old: current.trialEndsAt, new: trialEndsAt };
    }
    await recordAuditEvent(tx, caller, now, { organizationId: current.id, type: PLAN_CHANGE, changes });
    await grantPlanCredits(tx, caller, next, plan, now);
    return next;
  });
  const status = await loadBillingStatus(context.database, organization.id, now);
  return { ...organization, deploymentRestriction: status.reason };
}

/** Credits, clusters and invoices are kept in the organization's currency: it may change only while there are none. */
async function assertCurrencyMayChange(tx: Queryable, organizationId: string, plan: Plan, currency: string): Promise<void> {
  const { rows } = await tx.query<{ billed: boolean }>(
    sql`SELECT EXISTS (SELECT 1 FROM clusters WHERE organization_id = ${organizationId}::uuid)
            OR EXISTS (SELECT 1 FROM credit_ledger_entries WHERE organization_id = ${organizationId}::uuid)
            OR EXISTS (SELECT 1 FROM invoices WHERE organization_id = ${organizationId}::uuid) AS billed`,
  );
  if (rows[0]?.billed) {
    throw invalidInput(
      [{ field: 'plan', reason: 'currency', message: `is priced in ${plan.currency}, but this organization is billed in ${currency}` }],
      'plan_currency_mismatch',
    );
  }
}
