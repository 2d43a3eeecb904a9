import type { AppContext } from '../../app-context.js';
import type { Caller } from '../../domain/actor.js';
import { checkAccess, type Permission } from '../access/authorize.js';
import { loadBillingProfileAs, type BillingProfile } from './billing-profile.js';

/** One round trip: the profile and the caller's membership are read together, then the access rule applies. */
export async function getBillingProfile(
  context: AppContext,
  request: Caller,
  organizationId: string,
  permission: Permission = 'billing',
): Promise<BillingProfile> {
  const { profile, memberRole } = await loadBillingProfileAs(context.database, organizationId, request.actor);
  checkAccess(request.actor, organizationId, memberRole, permission);
  return profile;
}
