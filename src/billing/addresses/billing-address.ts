/** Billing addresses: several per organization, exactly one of them the default (the profile's address). */
import type { Queryable } from '../../db/database.js';
import { normalizeCountryCode } from '../../domain/billing-profile.js';
import { notFound, type FieldError } from '../../errors.js';

export interface BillingAddress {
  id: string;
  organizationId: string;
  name: string | null;
  company: string | null;
  addressLine1: string | null;
  addressLine2: string | null;
  city: string | null;
  state: string | null;
  postalCode: string | null;
  country: string | null;
  isDefault: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export const addressValueFields = ['name', 'company', 'addressLine1', 'addressLine2', 'city', 'state', 'postalCode', 'country'] as const;
export type AddressValueField = (typeof addressValueFields)[number];
export type AddressValues = Record<AddressValueField, string | null>;

export const addressFieldMaxLength: Record<AddressValueField, number> = {
  name: 255,
  company: 255,
  addressLine1: 255,
  addressLine2: 255,
  city: 128,
  state: 128,
  postalCode: 32,
  country: 2,
};

interface AddressRow {
  id: string;
  organization_id: string;
  name: string | null;
  company: string | null;
  address_line1: string | null;
  address_line2: string | null;
  city: string | null;
  state: string | null;
  postal_code: string | null;
  country: string | null;
  is_default: boolean;
  created_at: Date;
  updated_at: Date;
}

export const addressColumns =
  'id, organization_id, name, company, address_line1, address_line2, city, state, postal_code, country, is_default, created_at, updated_at';

export function toBillingAddress(row: AddressRow): BillingAddress {
  return {
    id: row.id,
    organizationId: row.organization_id,
    name: row.name,
    company: row.company,
    addressLine1: row.address_line1,
    addressLine2: row.address_line2,
    city: row.city,
    state: row.state,
    postalCode: row.postal_code,
    country: row.country,
    isDefault: row.is_default,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export async function listAddressRows(db: Queryable, organizationId: string): Promise<BillingAddress[]> {
  const { rows } = await db.query<AddressRow>(
    `SELECT ${addressColumns} FROM billing_addresses WHERE organization_id = $1 ORDER BY created_at, id`,
    [organizationId],
  );
  return rows.map(toBillingAddress);
}

/** Another organization's address id is answered exactly like an unknown one. */
export async function loadAddress(db: Queryable, organizationId: string, addressId: string): Promise<BillingAddress> {
  const { rows } = await db.query<AddressRow>(
    `SELECT ${addressColumns} FROM billing_addresses WHERE organization_id = $1 AND id = $2`,
    [organizationId, addressId],
  );
  const row = rows[0];
  if (!row) throw notFound('Billing address');
  return toBillingAddress(row);
}

/** Trims, clears empty strings, checks lengths and the ISO country code. */
export function normalizeAddressValues(values: Partial<AddressValues>): { values: Partial<AddressValues>; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const normalized: Partial<AddressValues> = {};
  for (const field of addressValueFields) {
    const raw = values[field];
    if (raw === undefined) continue;
    const value = raw === null ? '' : raw.trim();
    if (value === '') {
      normalized[field] = null;
    } else if (field === 'country') {
      const code = normalizeCountryCode(value);
      if (code) normalized[field] = code;
      else errors.push({ field, reason: 'invalid_country', message: 'must be an ISO 3166-1 alpha-2 country code' });
    } else if (value.length > addressFieldMaxLength[field]) {
      errors.push({ field, reason: 'max_length', message: `must be at most ${addressFieldMaxLength[field]} characters` });
    } else {
      normalized[field] = value;
    }
  }
  return { values: normalized, errors };
}

/** The organization's billing data changed: a new ETag for every surface. */
export async function bumpBillingVersion(tx: Queryable, organizationId: string, now: Date): Promise<void> {
  await tx.query('UPDATE organizations SET billing_version = billing_version + 1, updated_at = $2 WHERE id = $1', [organizationId, now]);
}

/** Locks the organization for the rest of the transaction (writes to one organization take turns). */
export async function lockOrganization(tx: Queryable, organizationId: string): Promise<bigint> {
  const { rows } = await tx.query<{ billing_version: bigint }>(
    'SELECT billing_version FROM organizations WHERE id = $1 FOR UPDATE',
    [organizationId],
  );
  if (!rows[0]) throw notFound('Organization');
  return rows[0].billing_version;
}
