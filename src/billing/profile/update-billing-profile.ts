import { randomBytes } from 'node:crypto';
import type { AppContext } from '../../app-context.js';
import { recordAuditEvent, type AuditChanges } from '../../audit/record-audit-event.js';
import type { Queryable } from '../../db/database.js';
import { conflict, invalidInput, isUniqueViolation, preconditionFailed } from '../../errors.js';
import type { RequestContext } from '../access/actor.js';
import { authorize, type Permission } from '../access/authorize.js';
import { syncCustomerQueue } from '../../jobs/queues.js';
import {
  addressFields,
  loadBillingProfile,
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

export function newBillingAddressId(): string {
  return `billing_${randomBytes(12).toString('base64url')}`;
}

/**
 * Applies a partial update to the billing profile (and the organization's name and slug) in one transaction,
 * with its audit event and the provider sync job. Writing the same values again changes nothing and records nothing.
 */
export async function updateBillingProfile(
  context: AppContext,
  request: RequestContext,
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

  const now = context.clock.now();
  const result = await context.database
    .transaction(async (tx) => {
      await authorize(tx, request.actor, input.organizationId, input.permission ?? 'billing');
      const current = await loadBillingProfile(tx, input.organizationId, true);
      if (input.expectedVersion != null && input.expectedVersion !== current.version) throw preconditionFailed();

      const changes = diffProfile(current, patch, organizationPatch);
      if (Object.keys(changes).length === 0) return { profile: current, changed: false };

      const next: BillingProfile = { ...current, ...patch };
      if (next.taxId === null) next.taxIdType = null; // a tax id type alone means nothing
      if (current.taxIdType !== next.taxIdType && !changes.taxIdType) {
        changes.taxIdType = { old: current.taxIdType, new: next.taxIdType };
      }
      if (organizationPatch.name !== undefined) next.organizationName = organizationPatch.name;
      if (organizationPatch.slug !== undefined) next.organizationSlug = organizationPatch.slug;

      await writeProfileRow(tx, next, now);
      if (profileFields.some((field) => addressFields.has(field) && changes[field])) {
        next.defaultAddressId = await writeDefaultAddress(tx, next, now);
      }
      const { rows } = await tx.query<{ billing_version: bigint }>(
        `UPDATE organizations SET name = $2, slug = $3, billing_version = billing_version + 1, updated_at = $4
          WHERE id = $1 RETURNING billing_version`,
        [input.organizationId, next.organizationName, next.organizationSlug, now],
      );
      next.version = rows[0]!.billing_version;
      await recordAuditEvent(tx, request, now, {
        organizationId: input.organizationId,
        type: BILLING_DETAILS_UPDATE,
        changes,
      });
      await context.jobs.enqueue(tx, syncCustomerQueue, { organizationId: input.organizationId });
      return { profile: next, changed: true };
    })
    .catch((error: unknown) => {
      if (isUniqueViolation(error, 'organizations_slug_key')) {
        throw conflict('slug_taken', 'This slug is already used by another organization');
      }
      throw error;
    });
  if (result.changed) context.jobs.nudge();
  return result.profile;
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

async function writeProfileRow(tx: Queryable, profile: BillingProfile, now: Date): Promise<void> {
  await tx.query(
    `INSERT INTO billing_profiles (organization_id, contact_first_name, contact_last_name, email, tax_id, tax_id_type, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (organization_id) DO UPDATE SET
       contact_first_name = EXCLUDED.contact_first_name, contact_last_name = EXCLUDED.contact_last_name,
       email = EXCLUDED.email, tax_id = EXCLUDED.tax_id, tax_id_type = EXCLUDED.tax_id_type, updated_at = EXCLUDED.updated_at`,
    [profile.organizationId, profile.contactFirstName, profile.contactLastName, profile.email, profile.taxId, profile.taxIdType, now],
  );
}

/** The profile's address is the default billing address: update it, or create it as the first (default) one. */
async function writeDefaultAddress(tx: Queryable, profile: BillingProfile, now: Date): Promise<string> {
  const values = [
    profile.companyName,
    profile.addressLine1,
    profile.addressLine2,
    profile.city,
    profile.state,
    profile.postalCode,
    profile.country,
    now,
  ];
  if (profile.defaultAddressId) {
    await tx.query(
      `UPDATE billing_addresses SET company = $2, address_line1 = $3, address_line2 = $4, city = $5, state = $6,
              postal_code = $7, country = $8, updated_at = $9
        WHERE id = $1`,
      [profile.defaultAddressId, ...values],
    );
    return profile.defaultAddressId;
  }
  const id = newBillingAddressId();
  await tx.query(
    `INSERT INTO billing_addresses (id, organization_id, name, company, address_line1, address_line2, city, state,
                                    postal_code, country, is_default, created_at, updated_at)
     VALUES ($1, $2, 'Billing address', $3, $4, $5, $6, $7, $8, $9, true, $10, $10)`,
    [id, profile.organizationId, ...values],
  );
  return id;
}
