import type { AppContext } from '../../app-context.js';
import type { BillingStatus } from '../../domain/billing-status.js';
import type { Caller } from '../../domain/actor.js';
import { enterOrganization } from '../organizations/organization-access.js';
import { billingStatusOf, standingJoin, standingSelect, type StandingSubject } from './billing-standing.js';

/**
 * Whether the organization may keep deploying (seed 004): an invoiced plan is invalid while an invoice is unpaid
 * for more than a week; a credits plan is invalid when no credit is left. `reason` names the restriction, if any.
 */
export async function getBillingStatus(context: AppContext, caller: Caller, organizationId: string): Promise<BillingStatus> {
  const now = context.clock.now();
  const organization = await enterOrganization<Omit<StandingSubject, 'id'>>(context.database, caller, { id: organizationId }, 'billing.read', {
    select: standingSelect,
    join: standingJoin,
  });
  return billingStatusOf(context.database, organization, now);
}
