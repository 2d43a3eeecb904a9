/**
 * The billing profile: one record per organization that four API surfaces read and write. It is composed of the
 * organization's row, its `billing_profiles` row (this module owns that table) and its default billing address.
 */
import sql, { type Sql } from 'sql-template-tag';
import type { Queryable } from '../../db/database.js';
import type { Caller } from '../../domain/actor.js';
import { notFound } from '../../errors.js';
import { defaultAddressColumns, joinDefaultAddress, toDefaultAddress, type DefaultAddressRow } from '../addresses/billing-address.js';
import {
  enterOrganization,
  organizationEntryStatement,
  type EnterOptions,
  type OrganizationRef,
  type Permission,
} from '../organizations/organization-access.js';

/** Fields that live on the default billing address rather than on the profile row. */
const profileAddressFields = ['companyName', 'addressLine1', 'addressLine2', 'city', 'state', 'postalCode', 'country'] as const;

export const profileFields = ['contactFirstName', 'contactLastName', 'email', ...profileAddressFields, 'taxId', 'taxIdType'] as const;
export type ProfileField = (typeof profileFields)[number];

export type ProfileValues = Record<ProfileField, string | null>;

export const addressFields: ReadonlySet<ProfileField> = new Set(profileAddressFields);

export interface BillingProfile extends ProfileValues {
  organizationId: string;
  organizationName: string;
  organizationSlug: string;
  organizationCreatedAt: Date;
  plan: string;
  defaultAddressId: string | null;
  /** Changes with every write of the profile, its addresses or the organization's name and slug: the ETag. */
  version: bigint;
}

/** undefined leaves a field as it is; null clears it. */
export type ProfilePatch = Partial<ProfileValues>;

// The `billing_profiles` table (joined to the organization `o`).

const joinProfileRow = sql`LEFT JOIN billing_profiles p ON p.organization_id = o.id`;

const profileRowColumns = sql`p.contact_first_name, p.contact_last_name, p.email, p.tax_id, p.tax_id_type`;

interface ProfileRow {
  contact_first_name: string | null;
  contact_last_name: string | null;
  email: string | null;
  tax_id: string | null;
  tax_id_type: string | null;
}

/** The profile row written (created or replaced) for each row `from` yields. */
export function upsertProfileRow(profile: BillingProfile, at: Date, from: Sql): Sql {
  return sql`INSERT INTO billing_profiles (organization_id, contact_first_name, contact_last_name, email, tax_id, tax_id_type, updated_at)
    SELECT ${profile.organizationId}::uuid, ${profile.contactFirstName}::text, ${profile.contactLastName}::text, ${profile.email}::text,
           ${profile.taxId}::text, ${profile.taxIdType}::text, ${at}::timestamptz
      FROM ${from}
    ON CONFLICT (organization_id) DO UPDATE SET
      contact_first_name = EXCLUDED.contact_first_name, contact_last_name = EXCLUDED.contact_last_name,
      email = EXCLUDED.email, tax_id = EXCLUDED.tax_id, tax_id_type = EXCLUDED.tax_id_type, updated_at = EXCLUDED.updated_at`;
}

// The whole profile: organization, profile row and default address.

interface OrganizationProfileRow extends ProfileRow, DefaultAddressRow {
  id: string;
  slug: string;
  name: string;
  plan: string;
  created_at: Date;
  billing_version: bigint;
}

const profileColumns = sql`o.slug, o.name, o.plan, o.created_at, o.billing_version, ${profileRowColumns}, ${defaultAddressColumns}`;
const profileJoins = sql`${joinProfileRow} ${joinDefaultAddress}`;

function toProfile(row: OrganizationProfileRow): BillingProfile {
  const address = toDefaultAddress(row);
  return {
    organizationId: row.id,
    organizationName: row.name,
    organizationSlug: row.slug,
    organizationCreatedAt: row.created_at,
    plan: row.plan,
    defaultAddressId: address.id,
    version: row.billing_version,
    contactFirstName: row.contact_first_name,
    contactLastName: row.contact_last_name,
    email: row.email,
    companyName: address.company,
    addressLine1: address.addressLine1,
    addressLine2: address.addressLine2,
    city: address.city,
    state: address.state,
    postalCode: address.postalCode,
    country: address.country,
    taxId: row.tax_id,
    taxIdType: row.tax_id_type,
  };
}

/**
 * The gateway's entry with the profile's columns, prepared (its text depends only on the kind of ref). Never with a
 * lock: a locked read sees the joined profile and address rows as they were before it waited for the lock, so a
 * writer that must take turns locks first (`enterOrganization(…, { lock: 'update' })`) and reads after.
 */
function profileEntry(ref: OrganizationRef): EnterOptions {
  const prepare = 'id' in ref ? 'enter_billing_profile' : 'enter_billing_profile_by_slug';
  return { select: profileColumns, join: profileJoins, prepare };
}

/**
 * Enters the organization and reads its profile in ONE statement (the hot read path): the caller's role and the
 * permission check come from the gateway.
 */
export async function enterBillingProfile(db: Queryable, caller: Caller, ref: OrganizationRef, permission: Permission): Promise<BillingProfile> {
  return toProfile(await enterOrganization<OrganizationProfileRow>(db, caller, ref, permission, profileEntry(ref)));
}

/** The statement of `enterBillingProfile` (the benchmark's baseline runs the same SELECT). */
export function billingProfileEntryStatement(caller: Caller, ref: OrganizationRef): Sql {
  return organizationEntryStatement(caller, ref, profileEntry(ref));
}

/**
 * Reads the profile without a caller (jobs, billing runs, or after entering the organization). A use case that must
 * lock enters through the gateway first and reads then: a read that waited for the lock would see the joined rows as
 * they were before the wait.
 */
export async function loadBillingProfile(db: Queryable, organizationId: string): Promise<BillingProfile> {
  const { rows } = await db.query<OrganizationProfileRow>(
    sql`SELECT o.id, ${profileColumns} FROM organizations o ${profileJoins} WHERE o.id = ${organizationId}::uuid`,
  );
  const row = rows[0];
  if (!row) throw notFound('Organization');
  return toProfile(row);
}

/** The profiles of many organizations in one query (a billing run's bill-to snapshots): organization id → profile. */
export async function loadBillingProfiles(db: Queryable, organizationIds: readonly string[]): Promise<Map<string, BillingProfile>> {
  const { rows } = await db.query<OrganizationProfileRow>(
    sql`SELECT o.id, ${profileColumns} FROM organizations o ${profileJoins} WHERE o.id = ANY(${organizationIds}::uuid[])`,
  );
  return new Map(rows.map((row) => [row.id, toProfile(row)]));
}
