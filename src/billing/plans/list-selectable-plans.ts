import sql from 'sql-template-tag';
import type { AppContext } from '../../app-context.js';
import type { Caller } from '../../domain/actor.js';
import { enterOrganization } from '../organizations/organization-access.js';
import { listPlanRows, type Plan } from './plan.js';

/**
 * The plans an organization may switch to by itself (those the operator marked selectable, in its currency), and
 * its current plan.
 */
export async function listSelectablePlans(context: AppContext, caller: Caller, organizationId: string): Promise<{ current: string; plans: Plan[] }> {
  const organization = await enterOrganization<{ plan: string; currency: string }>(context.database, caller, { id: organizationId }, 'billing.read', {
    select: sql`o.plan, o.currency`,
  });
  const plans = await listPlanRows(context.database);
  return {
    current: organization.plan,
    plans: plans.filter((plan) => plan.code === organization.plan || (plan.selectable && plan.currency === organization.currency)),
  };
}
