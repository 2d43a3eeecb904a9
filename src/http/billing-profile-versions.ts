/**
 * The billing profile as the API surfaces read and write it: every answer carries the profile's version as its ETag,
 * and a write sent with If-Match applies only to that version (412 otherwise).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { OrganizationTarget } from '../billing/organizations/active-organization.js';
import type { Permission } from '../billing/organizations/organization-access.js';
import type { BillingProfile } from '../billing/profile/billing-profile.js';
import { getBillingProfile } from '../billing/profile/get-billing-profile.js';
import { updateBillingProfile, type UpdateBillingProfileInput } from '../billing/profile/update-billing-profile.js';
import { etagOf, versionFromIfMatch } from './problem.js';
import { callerOf } from './surface.js';

export async function readProfileWithEtag(
  request: FastifyRequest,
  reply: FastifyReply,
  organization: OrganizationTarget,
  permission?: Permission,
): Promise<BillingProfile> {
  const profile = await getBillingProfile(request.bursar, callerOf(request), organization, permission);
  reply.header('etag', etagOf(profile.version));
  return profile;
}

export async function updateProfileIfMatch(
  request: FastifyRequest,
  reply: FastifyReply,
  input: Omit<UpdateBillingProfileInput, 'expectedVersion'>,
): Promise<BillingProfile> {
  const profile = await updateBillingProfile(request.bursar, callerOf(request), {
    ...input,
    expectedVersion: versionFromIfMatch(request.headers['if-match']),
  });
  reply.header('etag', etagOf(profile.version));
  return profile;
}
