import { randomUUID } from 'node:crypto';
import type { AppContext } from '../../app-context.js';
import { recordAuditEvent } from '../../audit/record-audit-event.js';
import { conflict, invalidInput, isUniqueViolation, type FieldError } from '../../errors.js';
import type { Caller } from '../../domain/actor.js';
import { slugFromName, validateOrganizationName, validateSlug } from '../profile/validate-profile.js';
import { trialEndDate } from '../../domain/trial.js';
import { findPlan } from '../plans/plan.js';
import { startPlanSubscription } from '../plans/plan-subscriptions.js';

export interface Organization {
  id: string;
  slug: string;
  name: string;
  plan: string;
  createdAt: Date;
}

export const ORGANIZATION_CREATE = 'ORGANIZATION_CREATE';
const planPattern = /^[A-Za-z0-9_-]{1,64}$/;

/** An explicit slug that is taken is a 409; a slug derived from the name gets a numeric suffix instead. */
export async function createOrganization(
  context: AppContext,
  request: Caller,
  input: { name: string; slug?: string; plan?: string },
): Promise<Organization> {
  const errors: FieldError[] = [];
  const nameError = validateOrganizationName(input.name);
  if (nameError) errors.push(nameError);
  if (input.slug !== undefined) {
    const slugError = validateSlug(input.slug);
    if (slugError) errors.push(slugError);
  }
  if (input.plan !== undefined && !planPattern.test(input.plan)) {
    errors.push({ field: 'plan', reason: 'pattern', message: 'must be a plan code' });
  }
  if (errors.length > 0) throw invalidInput(errors);

  const name = input.name.trim();
  const baseSlug = input.slug ?? slugFromName(name);
  for (let attempt = 1; attempt <= 50; attempt += 1) {
    const suffix = attempt === 1 ? '' : `-${attempt}`;
    const slug = `${baseSlug.slice(0, 64 - suffix.length)}${suffix}`;
    try {
      return await insertOrganization(context, request, { name, slug, plan: input.plan ?? 'FREE' });
    } catch (error) {
      if (!isUniqueViolation(error, 'organizations_slug_key')) throw error;
      if (input.slug !== undefined) throw conflict('slug_taken', 'This slug is already used by another organization');
    }
  }
  throw conflict('slug_taken', 'Could not derive a free slug from this name; pass one');
}

async function insertOrganization(
  context: AppContext,
  request: Caller,
  values: { name: string; slug: string; plan: string },
): Promise<Organization> {
  const now = context.clock.now();
  const organization: Organization = { id: randomUUID(), ...values, createdAt: now };
  await context.database.transaction(async (tx) => {
    // The organization is billed in its plan's currency; its plan history (and trial, if the plan has one) starts now.
    const plan = await findPlan(tx, values.plan);
    if (plan === null) throw invalidInput([{ field: 'plan', reason: 'unknown_plan', message: 'is not a plan of the catalogue' }], 'unknown_plan');
    const trialEndsAt = trialEndDate(now, plan.trialDays);
    await tx.query(
      `INSERT INTO organizations (id, slug, name, plan, currency, trial_ends_at, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`,
      [organization.id, organization.slug, organization.name, organization.plan, plan.currency, trialEndsAt, now],
    );
    await startPlanSubscription(tx, organization.id, plan.code, now);
    await recordAuditEvent(tx, request, now, {
      organizationId: organization.id,
      type: ORGANIZATION_CREATE,
      changes: { name: values.name, slug: values.slug, plan: values.plan, currency: plan.currency, trialEndsAt },
    });
  });
  return organization;
}
