/**
 * The billing profile: one record per organization that four API surfaces read and write.
 * Its postal address and company are those of the organization's default billing address.
 */
import type { Queryable } from '../../db/database.js';
import { notFound } from '../../errors.js';
import type { Actor, Role } from '../../domain/actor.js';

export const profileFields = [
  'contactFirstName',
  'contactLastName',
  'email',
  'companyName',
  'addressLine1',
  'addressLine2',
  'city',
  'state',
  'postalCode',
  'country',
  'taxId',
  'taxIdType',
] as const;
export type ProfileField = (typeof profileFields)[number];

export type ProfileValues = Record<ProfileField, string | null>;

/** Fields that live on the default billing address rather than on the profile row. */
export const addressFields = new Set<ProfileField>([
  'companyName',
  'addressLine1',
  'addressLine2',
  'city',
  'state',
  'postalCode',
  'country',
]);

/** The longest value the core accepts for each field; a surface may document a tighter limit of its own. */
export const profileFieldMaxLength: Record<ProfileField, number> = {
  contactFirstName: 255,
  contactLastName: 255,
  email: 254,
  companyName: 255,
  addressLine1: 255,
  addressLine2: 255,
  city: 128,
  state: 128,
  postalCode: 32,
  country: 2,
  taxId: 64,
  taxIdType: 32,
};

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

export interface OrganizationPatch {
  name?: string;
  slug?: string;
}

interface ProfileRow {
  id: string;
  slug: string;
  name: string;
  plan: string;
  created_at: Date;
  billing_version: bigint;
  contact_first_name: string | null;
  contact_last_name: string | null;
  email: string | null;
  tax_id: string | null;
  tax_id_type: string | null;
  address_id: string | null;
  company: string | null;
  address_line1: string | null;
  address_line2: string | null;
  city: string | null;
  state: string | null;
  postal_code: string | null;
  country: string | null;
}

const selectProfile = `
  SELECT o.id, o.slug, o.name, o.plan, o.created_at, o.billing_version,
         p.contact_first_name, p.contact_last_name, p.email, p.tax_id, p.tax_id_type,
         a.id AS address_id, a.company, a.address_line1, a.address_line2, a.city, a.state, a.postal_code, a.country
    FROM organizations o
    LEFT JOIN billing_profiles p ON p.organization_id = o.id
    LEFT JOIN billing_addresses a ON a.organization_id = o.id AND a.is_default`;

/** The hot read of every profile GET (exported for the benchmark baseline, which runs the same SELECT). */
export const selectProfileAs = `${selectProfile.replace('FROM organizations o', ', m.role AS member_role FROM organizations o')}
      LEFT JOIN memberships m ON m.organization_id = o.id AND m.user_id = $2
     WHERE o.id = $1`;

function toProfile(row: ProfileRow): BillingProfile {
  return {
    organizationId: row.id,
    organizationName: row.name,
    organizationSlug: row.slug,
    organizationCreatedAt: row.created_at,
    plan: row.plan,
    defaultAddressId: row.address_id,
    version: row.billing_version,
    contactFirstName: row.contact_first_name,
    contactLastName: row.contact_last_name,
    email: row.email,
    companyName: row.company,
    addressLine1: row.address_line1,
    addressLine2: row.address_line2,
    city: row.city,
    state: row.state,
    postalCode: row.postal_code,
    country: row.country,
    taxId: row.tax_id,
    taxIdType: row.tax_id_type,
  };
}

/**
 * Reads the profile together with the acting user's role in the organization (one round trip for the hot read
 * path); `memberRole` is undefined when the user is not a member or the actor is not a user.
 */
export async function loadBillingProfileAs(
  db: Queryable,
  organizationId: string,
  actor: Actor,
): Promise<{ profile: BillingProfile; memberRole: Role | undefined }> {
  const userId = actor.type === 'user' ? actor.userId : null;
  const { rows } = await db.query<ProfileRow & { member_role: Role | null }>(
    selectProfileAs,
    [organizationId, userId],
    { prepare: 'load_billing_profile_as' },
  );
  const row = rows[0];
  // An unknown organization answers the same 404 as one the caller is not a member of.
  if (!row) throw notFound('Organization');
  return { profile: toProfile(row), memberRole: row.member_role ?? undefined };
}

/** Reads the profile; `forUpdate` locks the organization row so that writes to one organization take turns. */
export async function loadBillingProfile(db: Queryable, organizationId: string, forUpdate = false): Promise<BillingProfile> {
  const { rows } = await db.query<ProfileRow>(
    `${selectProfile} WHERE o.id = $1${forUpdate ? ' FOR UPDATE OF o' : ''}`,
    [organizationId],
  );
  const row = rows[0];
  if (!row) throw notFound('Organization');
  return toProfile(row);
}

/** The profiles of many organizations in one query (a billing run's bill-to snapshots): organization id → profile. */
export async function loadBillingProfiles(db: Queryable, organizationIds: readonly string[]): Promise<Map<string, BillingProfile>> {
  const { rows } = await db.query<ProfileRow>(`${selectProfile} WHERE o.id = ANY($1::uuid[])`, [organizationIds]);
  return new Map(rows.map((row) => [row.id, toProfile(row)]));
}

export async function findOrganizationIdBySlug(db: Queryable, slug: string): Promise<string> {
  const { rows } = await db.query<{ id: string }>('SELECT id FROM organizations WHERE slug = $1', [slug]);
  const row = rows[0];
  if (!row) throw notFound('Organization');
  return row.id;
}
