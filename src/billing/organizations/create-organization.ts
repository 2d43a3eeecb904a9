import { randomUUID } from 'node:crypto';
import type { AppContext } from '../../app-context.js';
import { recordAuditEvent } from '../../audit/record-audit-event.js';
import { BillingError, conflict, invalidInput, isUniqueViolation, type FieldError } from '../../errors.js';
import { grantPlanCredits } from '../credits/plan-credit-grant.js';
import type { Caller } from '../../domain/actor.js';
import { slugFromName, validateOrganizationName, validateSlug } from '../profile/validate-profile.js';
import { trialEndDate } from '../../domain/trial.js';
import { findPlan, planCodePattern } from '../plans/plan.js';
import { startPlanSubscription } from '../plans/plan-subscriptions.js';
import { requireOperator } from './organization-access.js';
import { insertOrganization, type Organization } from './organization.js';

export const ORGANIZATION_CREATE = 'ORGANIZATION_CREATE';

/** An explicit slug that is taken is a 409; a slug derived from the name gets a numeric suffix instead. */
export async function createOrganization(
  context: AppContext,
  caller: Caller,
  input: { name: string; slug?: string; plan?: string },
): Promise<Organization> {
  requireOperator(caller, 'Organizations');
  const errors: FieldError[] = [];
  const nameError = validateOrganizationName(input.name);
  if (nameError) errors.push(nameError);
  if (input.slug !== undefined) {
    const slugError = validateSlug(input.slug);
    if (slugError) errors.push(slugError);
  }
  if (input.plan !== undefined && !planCodePattern.test(input.plan)) {
    errors.push({ field: 'plan', reason: 'pattern', message: 'must be a plan code' });
  }
  if (errors.length > 0) throw invalidInput(errors);

  const name = input.name.trim();
  const baseSlug = input.slug ?? slugFromName(name);
  for (let attempt = 1; attempt <= 50; attempt += 1) {
    const suffix = attempt === 1 ? '' : `-${attempt}`;
    const slug = `${baseSlug.slice(0, 64 - suffix.length)}${suffix}`;
    try {
      return await createWithSlug(context, caller, { name, slug, plan: input.plan ?? context.config.defaultPlan }, input.plan === undefined);
    } catch (error) {
      if (!isUniqueViolation(error, 'organizations_slug_key')) throw error;
      if (input.slug !== undefined) throw conflict('slug_taken', 'This slug is already used by another organization');
    }
  }
  throw conflict('slug_taken', 'Could not derive a free slug from this name; pass one');
}

async function createWithSlug(
  context: AppContext,
  caller: Caller,
  values: { name: string; slug: string; plan: string },
  defaultPlan: boolean,
): Promise<Organization> {
  const now = context.clock.now();
  return context.database.transaction(async (tx) => {
    // The organization is billed in its plan's currency; its plan history (and trial, if the plan has one) starts now.
    const plan = await findPlan(tx, values.plan);
    if (plan === null && defaultPlan) {
      throw new BillingError(
        'default_plan_missing',
        409,
        `The plan new organizations start on (BURSAR_DEFAULT_PLAN=${values.plan}) is not in the catalogue: create it with PUT /admin/plans/${values.plan}, or name a plan`,
      );
    }
    if (plan === null) throw invalidInput([{ field: 'plan', reason: 'unknown_plan', message: 'is not a plan of the catalogue' }], 'unknown_plan');
    const trialEndsAt = trialEndDate(now, plan.trialDays);
    const trialStartedAt = trialEndsAt === null ? null : now;
    const organization: Organization = { id: randomUUID(), ...values, currency: plan.currency, trialStartedAt, trialEndsAt, createdAt: now, updatedAt: now };
    await insertOrganization(tx, organization);
    await startPlanSubscription(tx, organization.id, plan.code, now);
    await recordAuditEvent(tx, caller, now, {
      organizationId: organization.id,
      type: ORGANIZATION_CREATE,
      changes: { name: values.name, slug: values.slug, plan: values.plan, currency: plan.currency, trialEndsAt },
    });
    await grantPlanCredits(tx, caller, organization, plan, now);
    return organization;
  });
}
