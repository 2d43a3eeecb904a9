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

/** ETag of everything billing-related of an organization (profile, addresses, name and slug). */
export function etagOf(version: bigint): string {
  return `"${version.toString()}"`;
}

/** The version an If-Match header names; `undefined` when absent or `*`; a version no resource can have when garbled. */
export function versionFromIfMatch(header: string | string[] | undefined): bigint | undefined {
  if (header === undefined) return undefined;
  const value = (Array.isArray(header) ? header[0] : header)?.trim() ?? '';
  if (value === '*' || value === '') return undefined;
  const match = /^(?:W\/)?"(\d{1,18})"$/.exec(value);
  return match ? BigInt(match[1]!) : -1n;
}
