import type { AppContext } from '../../app-context.js';
import type { RequestContext } from '../access/actor.js';
import { authorize, type Permission } from '../access/authorize.js';
import { loadBillingProfile, type BillingProfile } from './billing-profile.js';

export async function getBillingProfile(
  context: AppContext,
  request: RequestContext,
  organizationId: string,
  permission: Permission = 'billing',
): Promise<BillingProfile> {
  await authorize(context.database, request.actor, organizationId, permission);
  return loadBillingProfile(context.database, organizationId);
}
