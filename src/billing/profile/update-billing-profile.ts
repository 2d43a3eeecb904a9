import sql, { empty, raw } from 'sql-template-tag';
import type { AppContext } from '../../app-context.js';
import { insertAuditEvent, type AuditChanges } from '../../audit/record-audit-event.js';
import type { Queryable } from '../../db/database.js';
import type { Caller } from '../../domain/actor.js';
import { conflict, invalidInput, isUniqueViolation, preconditionFailed, type FieldError } from '../../errors.js';
import { insertJob } from '../../jobs/job-queue.js';
import { syncCustomerQueue } from '../../jobs/queues.js';
import { newBillingAddressId, upsertDefaultAddress } from '../addresses/billing-address.js';
import { resolveOrganizationTarget, type OrganizationTarget } from '../organizations/active-organization.js';
import { enterOrganization, type OrganizationRef, type Permission } from '../organizations/organization-access.js';
import { addressFields, enterBillingProfile, profileFields, upsertProfileRow, type BillingProfile, type ProfilePatch } from './billing-profile.js';
import { insertProfileUpdatedEvent } from './profile-events.js';
import { normalizeProfilePatch, validateOrganizationName, validateSlug } from './validate-profile.js';

/** The organization's own name and slug: undefined leaves one as it is; neither can be cleared (null is refused). */
export interface OrganizationPatch {
  name?: string | null;
  slug?: string | null;
}

export interface UpdateBillingProfileInput {
  organization: OrganizationTarget;
  patch: ProfilePatch;
  organizationPatch?: OrganizationPatch;
  /** The version the caller read (from If-Match); a different current version fails with 412. */
  expectedVersion?: bigint | null;
  permission?: Permission;
}

export const BILLING_DETAILS_UPDATE = 'BILLING_DETAILS_UPDATE';

/** Concurrent writers to one organization: the loser re-reads and re-applies its patch, then queues on a row lock. */
const OPTIMISTIC_ATTEMPTS = 3;

/**
 * Applies a partial update to the billing profile (and the organization's name and slug), with its audit event and
 * the provider sync job. Optimistic concurrency on the organization's billing version: read once, then write
 * everything in ONE statement that applies only if the version is still the one read (two round trips in all, the
 * hot path of a profile PUT). Writing the same values again changes nothing and records nothing.
 */
export async function updateBillingProfile(context: AppContext, caller: Caller, input: UpdateBillingProfileInput): Promise<BillingProfile> {
  const cleared = (['name', 'slug'] as const).filter((field) => input.organizationPatch?.[field] === null);
  if (cleared.length > 0) {
    throw invalidInput(cleared.map((field) => ({ field, reason: 'not_nullable', message: 'cannot be cleared' })));
  }
  let ref: OrganizationRef = await resolveOrganizationTarget(context.database, caller, input.organization);
  const { patch, organizationPatch, errors } = normalizeInput(input);
  if (errors.length > 0) throw invalidInput(errors);

  const permission = input.permission ?? 'billing.write';
  const apply = async (db: Queryable): Promise<BillingProfile | null> => {
    const current = await enterBillingProfile(db, caller, ref, permission);
    // Another attempt finds the organization by id: a concurrent writer may have changed its slug.
    ref = { id: current.organizationId };
    if (input.expectedVersion != null && input.expectedVersion !== current.version) throw preconditionFailed();

    const changes = diffProfile(current, patch, organizationPatch);
    if (Object.keys(changes).length === 0) return current;
    const next: BillingProfile = { ...current, ...patch };
    // A tax id type alone means nothing: refuse one sent without a tax id (instead of dropping it silently while
    // auditing it as changed), and clear the type with the tax id.
    if (next.taxId === null && typeof patch.taxIdType === 'string') {
      throw invalidInput([{ field: 'taxIdType', reason: 'requires_tax_id', message: 'needs a tax id' }]);
    }
    if (next.taxId === null) next.taxIdType = null;
    if (current.taxIdType !== next.taxIdType && !changes.taxIdType) changes.taxIdType = { old: current.taxIdType, new: next.taxIdType };
    if (organizationPatch.name !== undefined) next.organizationName = organizationPatch.name;
    if (organizationPatch.slug !== undefined) next.organizationSlug = organizationPatch.slug;
    const addressChanged = profileFields.some((field) => addressFields.has(field) && changes[field]);
    if (addressChanged && !next.defaultAddressId) next.defaultAddressId = newBillingAddressId();

    const version = await writeProfile(db, caller, context.clock.now(), current.version, next, changes, addressChanged);
    if (version === null) return null; // someone else wrote in between
    return { ...next, version };
  };

  for (let attempt = 1; attempt <= OPTIMISTIC_ATTEMPTS; attempt += 1) {
    const updated = await apply(context.database);
    if (updated) {
      context.jobs.nudge();
      return updated;
    }
  }
  // Heavy contention on one organization: take its row lock, so that this writer's turn surely comes. The profile is
  // read after the lock is granted, by a statement of its own, so that it includes the write it waited for.
  const updated = await context.database.transaction(async (tx) => {
    await enterOrganization(tx, caller, ref, permission, { lock: 'update' });
    return apply(tx);
  });
  if (!updated) throw conflict('concurrent_update', 'The billing profile is being changed by others; try again');
  context.jobs.nudge();
  return updated;
}

/** The shared field rules, then the organization's name (trimmed) and slug. */
function normalizeInput(input: UpdateBillingProfileInput): {
  patch: ProfilePatch;
  organizationPatch: { name?: string; slug?: string };
  errors: FieldError[];
} {
  const { patch, errors } = normalizeProfilePatch(input.patch);
  const organizationPatch: { name?: string; slug?: string } = {};
  const { name, slug } = input.organizationPatch ?? {};
  if (typeof name === 'string') {
    const error = validateOrganizationName(name);
    if (error) errors.push(error);
    else organizationPatch.name = name.trim();
  }
  if (typeof slug === 'string') {
    const error = validateSlug(slug);
    if (error) errors.push(error);
    else organizationPatch.slug = slug;
  }
  return { patch, organizationPatch, errors };
}

function diffProfile(current: BillingProfile, patch: ProfilePatch, organization: { name?: string; slug?: string }): AuditChanges {
  const changes: AuditChanges = {};
  for (const field of profileFields) {
    const value = patch[field];
    if (value !== undefined && value !== current[field]) changes[field] = { old: current[field], new: value };
  }
  if (organization.name !== undefined && organization.name !== current.organizationName) {
    changes.name = { old: current.organizationName, new: organization.name };
  }
  if (organization.slug !== undefined && organization.slug !== current.organizationSlug) {
    changes.slug = { old: current.organizationSlug, new: organization.slug };
  }
  return changes;
}

/**
 * One statement: bump the version if it is still `readVersion`, and only then upsert the profile row and (when it
 * changed) the default address, record the audit event and queue the provider sync. Returns the new version, or
 * null when the version moved (nothing was written).
 */
async function writeProfile(
  db: Queryable,
  caller: Caller,
  now: Date,
  readVersion: bigint,
  next: BillingProfile,
  changes: AuditChanges,
  addressChanged: boolean,
): Promise<bigint | null> {
  const bumped = raw('bumped');
  const address = addressChanged
    ? sql`, address AS (
         ${upsertDefaultAddress(next.organizationId, next.defaultAddressId!, { ...next, company: next.companyName }, now, bumped)}
       )`
    : empty;
  try {
    const { rows } = await db.query<{ billing_version: bigint }>(
      sql`WITH bumped AS (
         UPDATE organizations SET name = ${next.organizationName}, slug = ${next.organizationSlug},
                billing_version = billing_version + 1, updated_at = ${now}
          WHERE id = ${next.organizationId}::uuid AND billing_version = ${readVersion}
         RETURNING billing_version
       ), profile AS (
         ${upsertProfileRow(next, now, bumped)}
       )${address}, audit AS (
         ${insertAuditEvent(caller, now, { organizationId: next.organizationId, type: BILLING_DETAILS_UPDATE, changes }, bumped)}
       ), job AS (
         ${insertJob(syncCustomerQueue, { organizationId: next.organizationId }, {}, bumped)}
       ), profile_event AS (
         ${insertProfileUpdatedEvent(now, caller, next.organizationId, Object.keys(changes), bumped)}
       )
       SELECT billing_version FROM bumped`,
      { prepare: addressChanged ? 'write_billing_profile_and_address' : 'write_billing_profile' },
    );
    return rows[0]?.billing_version ?? null;
  } catch (error) {
    if (isUniqueViolation(error, 'organizations_slug_key')) {
      throw conflict('slug_taken', 'This slug is already used by another organization');
    }
    if (isUniqueViolation(error, 'billing_addresses_pkey')) return null;
    throw error;
  }
}
