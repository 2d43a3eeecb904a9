import type { AppContext } from '../../app-context.js';
import type { Caller } from '../../domain/actor.js';
import { resolveOrganizationTarget, type OrganizationTarget } from '../organizations/active-organization.js';
import type { Permission } from '../organizations/organization-access.js';
import { enterBillingProfile, type BillingProfile } from './billing-profile.js';

/** One round trip for an organization named by id or slug: the entry reads the profile with the caller's role. */
export async function getBillingProfile(
  context: AppContext,
  caller: Caller,
  organization: OrganizationTarget,
  permission: Permission = 'billing.read',
): Promise<BillingProfile> {
  const ref = await resolveOrganizationTarget(context.database, caller, organization);
  return enterBillingProfile(context.database, caller, ref, permission);
}
