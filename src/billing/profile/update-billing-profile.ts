import { randomBytes } from 'node:crypto';
import type { AppContext } from '../../app-context.js';
import { auditEventInsertFrom, type AuditChanges } from '../../audit/record-audit-event.js';
import { conflict, invalidInput, isUniqueViolation, preconditionFailed } from '../../errors.js';
import { JobQueue } from '../../jobs/job-queue.js';
import { syncCustomerQueue } from '../../jobs/queues.js';
import type { Queryable } from '../../db/database.js';
import type { Caller } from '../../domain/actor.js';
import { checkAccess, type Permission } from '../access/authorize.js';
import {
  addressFields,
  loadBillingProfileAs,
  profileFields,
  type BillingProfile,
  type OrganizationPatch,
  type ProfilePatch,
} from './billing-profile.js';
import { normalizeProfilePatch, validateOrganizationName, validateSlug } from './validate-profile.js';

export interface UpdateBillingProfileInput {
  organizationId: string;
  patch: ProfilePatch;
  organization?: OrganizationPatch;
  /** The version the caller read (from If-Match); a different current version fails with 412. */
  expectedVersion?: bigint | null;
  permission?: Permission;
}

export const BILLING_DETAILS_UPDATE = 'BILLING_DETAILS_UPDATE';

/** Concurrent writers to one organization: the loser re-reads and re-applies its patch, then queues on a row lock. */
const OPTIMISTIC_ATTEMPTS = 3;

export function newBillingAddressId(): string {
  return `billing_${randomBytes(12).toString('base64url')}`;
}

/**
 * Applies a partial update to the billing profile (and the organization's name and slug), with its audit event and
 * the provider sync job. Optimistic concurrency on the organization's billing version: read once, then write
 * everything in ONE statement that applies only if the version is still the one read (two round trips in all, the
 * hot path of a profile PUT). Writing the same values again changes nothing and records nothing.
 */
export async function updateBillingProfile(
  context: AppContext,
  request: Caller,
  input: UpdateBillingProfileInput,
): Promise<BillingProfile> {
  const { patch, errors } = normalizeProfilePatch(input.patch);
  const organizationPatch: OrganizationPatch = {};
  if (input.organization?.name !== undefined) {
    const error = validateOrganizationName(input.organization.name);
    if (error) errors.push(error);
    else organizationPatch.name = input.organization.name.trim();
  }
  if (input.organization?.slug !== undefined) {
    const error = validateSlug(input.organization.slug);
    if (error) errors.push(error);
    else organizationPatch.slug = input.organization.slug;
  }
  if (errors.length > 0) throw invalidInput(errors);

  const apply = async (db: Queryable): Promise<BillingProfile | null> => {
    const { profile: current, memberRole } = await loadBillingProfileAs(db, input.organizationId, request.actor);
    checkAccess(request.actor, input.organizationId, memberRole, input.permission ?? 'billing');
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

    const version = await writeProfile(db, context, request, current.version, next, changes, addressChanged);
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
  // Heavy contention on one organization: take its row lock, so that this writer's turn surely comes.
  const updated = await context.database.transaction(async (tx) => {
    await tx.query('SELECT 1 FROM organizations WHERE id = $1 FOR UPDATE', [input.organizationId]);
    return apply(tx);
  });
  if (!updated) throw conflict('concurrent_update', 'The billing profile is being changed by others; try again');
  context.jobs.nudge();
  return updated;
}

function diffProfile(current: BillingProfile, patch: ProfilePatch, organization: OrganizationPatch): AuditChanges {
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
 * One statement: bump the version if it is still `readVersion`, and only then upsert the profile row and the
 * default address, record the audit event and queue the provider sync. Returns the new version, or null when the
 * version moved (nothing was written).
 */
async function writeProfile(
  db: Queryable,
  context: AppContext,
  request: Caller,
  readVersion: bigint,
  next: BillingProfile,
  changes: AuditChanges,
  addressChanged: boolean,
): Promise<bigint | null> {
  const now = context.clock.now();
  const parameters: unknown[] = [
    next.organizationId, // $1
    next.organizationName, // $2
    next.organizationSlug, // $3
    now, // $4
    readVersion, // $5
    next.contactFirstName, // $6
    next.contactLastName, // $7
    next.email, // $8
    next.taxId, // $9
    next.taxIdType, // $10
    next.defaultAddressId, // $11
    next.companyName, // $12
    next.addressLine1, // $13
    next.addressLine2, // $14
    next.city, // $15
    next.state, // $16
    next.postalCode, // $17
    next.country, // $18
    addressChanged, // $19
  ];
  const audit = auditEventInsertFrom('bumped', parameters.length + 1, request, now, {
    organizationId: next.organizationId,
    type: BILLING_DETAILS_UPDATE,
    changes,
  });
  parameters.push(...audit.parameters);
  const job = JobQueue.insertFrom('bumped', parameters.length + 1, syncCustomerQueue, { organizationId: next.organizationId });
  parameters.push(...job.parameters);
  try {
    const { rows } = await db.query<{ billing_version: bigint }>(
      `WITH bumped AS (
         UPDATE organizations SET name = $2, slug = $3, billing_version = billing_version + 1, updated_at = $4
          WHERE id = $1 AND billing_version = $5
         RETURNING billing_version
       ), profile AS (
         INSERT INTO billing_profiles (organization_id, contact_first_name, contact_last_name, email, tax_id, tax_id_type, updated_at)
         SELECT $1::uuid, $6::text, $7::text, $8::text, $9::text, $10::text, $4::timestamptz FROM bumped
         ON CONFLICT (organization_id) DO UPDATE SET
           contact_first_name = EXCLUDED.contact_first_name, contact_last_name = EXCLUDED.contact_last_name,
           email = EXCLUDED.email, tax_id = EXCLUDED.tax_id, tax_id_type = EXCLUDED.tax_id_type, updated_at = EXCLUDED.updated_at
       ), address AS (
         -- The profile's address is the default billing address: updated, or created as the first (default) one.
         INSERT INTO billing_addresses (id, organization_id, name, company, address_line1, address_line2, city, state,
                                        postal_code, country, is_default, created_at, updated_at)
         SELECT $11::text, $1::uuid, 'Billing address', $12::text, $13::text, $14::text, $15::text, $16::text, $17::text,
                $18::text, true, $4::timestamptz, $4::timestamptz
           FROM bumped WHERE $19::boolean
         ON CONFLICT (id) DO UPDATE SET
           company = EXCLUDED.company, address_line1 = EXCLUDED.address_line1, address_line2 = EXCLUDED.address_line2,
           city = EXCLUDED.city, state = EXCLUDED.state, postal_code = EXCLUDED.postal_code, country = EXCLUDED.country,
           updated_at = EXCLUDED.updated_at
       ), audit AS (
         ${audit.sql}
       ), job AS (
         ${job.sql}
       )
       SELECT billing_version FROM bumped`,
      parameters,
      { prepare: 'write_billing_profile' },
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
