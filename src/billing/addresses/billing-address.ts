/**
 * The `billing_addresses` table: several addresses per organization, exactly one of them the default (the profile's
 * address). Its columns, row type, row mapping and the statements the use cases share.
 */
import { randomBytes } from 'node:crypto';
import sql, { type Sql } from 'sql-template-tag';
import type { Queryable } from '../../db/database.js';
import { normalizeTextFields, postalAddressRules, type TextFieldRule } from '../../domain/billing-profile.js';
import { notFound, type FieldError } from '../../errors.js';

export interface PostalAddress {
  company: string | null;
  addressLine1: string | null;
  addressLine2: string | null;
  city: string | null;
  state: string | null;
  postalCode: string | null;
  country: string | null;
}

export interface BillingAddress extends PostalAddress {
  id: string;
  organizationId: string;
  name: string | null;
  isDefault: boolean;
  createdAt: Date;
  updatedAt: Date;
}

const addressRules = { name: { maxLength: 255 }, ...postalAddressRules } satisfies Record<string, TextFieldRule>;

export const addressValueFields = Object.keys(addressRules) as AddressValueField[];
export type AddressValueField = keyof typeof addressRules;
export type AddressValues = Record<AddressValueField, string | null>;

/** Every field, those left out as null. */
export function completeAddressValues(values: Partial<AddressValues>): AddressValues {
  return Object.fromEntries(addressValueFields.map((field) => [field, values[field] ?? null])) as AddressValues;
}

/** Trims, clears empty strings, checks lengths and the ISO country code. */
export function normalizeAddressValues(values: Partial<AddressValues>): { values: Partial<AddressValues>; errors: FieldError[] } {
  return normalizeTextFields(values, addressRules);
}

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

export function newBillingAddressId(): string {
  return `billing_${randomBytes(12).toString('base64url')}`;
}

export const billingAddressColumns = sql`id, organization_id, name, company, address_line1, address_line2, city, state, postal_code,
  country, is_default, created_at, updated_at`;

function toBillingAddress(row: AddressRow): BillingAddress {
  return {
    id: row.id,
    organizationId: row.organization_id,
    name: row.name,
    isDefault: row.is_default,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    ...toPostalAddress(row),
  };
}

export type PostalAddressRow = Pick<AddressRow, 'company' | 'address_line1' | 'address_line2' | 'city' | 'state' | 'postal_code' | 'country'>;

export function toPostalAddress(row: PostalAddressRow): PostalAddress {
  return {
    company: row.company,
    addressLine1: row.address_line1,
    addressLine2: row.address_line2,
    city: row.city,
    state: row.state,
    postalCode: row.postal_code,
    country: row.country,
  };
}

// The default address as a part of the organization's billing profile (joined to the organization `o`).

export const joinDefaultAddress = sql`LEFT JOIN billing_addresses a ON a.organization_id = o.id AND a.is_default`;

export const defaultAddressColumns = sql`a.id AS address_id, a.company, a.address_line1, a.address_line2, a.city, a.state,
  a.postal_code, a.country`;

export type DefaultAddressRow = PostalAddressRow & { address_id: string | null };

export function toDefaultAddress(row: DefaultAddressRow): PostalAddress & { id: string | null } {
  return { id: row.address_id, ...toPostalAddress(row) };
}

/**
 * The profile's address written as the default billing address: updated, or created as the first (default) one,
 * for each row `from` yields.
 */
export function upsertDefaultAddress(organizationId: string, id: string, address: PostalAddress, at: Date, from: Sql): Sql {
  return sql`INSERT INTO billing_addresses (id, organization_id, name, company, address_line1, address_line2, city, state,
                                 postal_code, country, is_default, created_at, updated_at)
    SELECT ${id}::text, ${organizationId}::uuid, 'Billing address', ${address.company}::text, ${address.addressLine1}::text,
           ${address.addressLine2}::text, ${address.city}::text, ${address.state}::text, ${address.postalCode}::text,
           ${address.country}::text, true, ${at}::timestamptz, ${at}::timestamptz
      FROM ${from}
    ON CONFLICT (id) DO UPDATE SET
      company = EXCLUDED.company, address_line1 = EXCLUDED.address_line1, address_line2 = EXCLUDED.address_line2,
      city = EXCLUDED.city, state = EXCLUDED.state, postal_code = EXCLUDED.postal_code, country = EXCLUDED.country,
      updated_at = EXCLUDED.updated_at`;
}

// Statements of the address use cases.

export async function listAddresses(db: Queryable, organizationId: string): Promise<BillingAddress[]> {
  const { rows } = await db.query<AddressRow>(
    sql`SELECT ${billingAddressColumns} FROM billing_addresses WHERE organization_id = ${organizationId} ORDER BY created_at, id`,
  );
  return rows.map(toBillingAddress);
}

/** Another organization's address id is answered exactly like an unknown one. */
export async function loadAddress(db: Queryable, organizationId: string, addressId: string): Promise<BillingAddress> {
  const { rows } = await db.query<AddressRow>(
    sql`SELECT ${billingAddressColumns} FROM billing_addresses WHERE organization_id = ${organizationId} AND id = ${addressId}`,
  );
  const row = rows[0];
  if (!row) throw notFound('Billing address');
  return toBillingAddress(row);
}

export async function countAddresses(db: Queryable, organizationId: string): Promise<bigint> {
  const { rows } = await db.query<{ count: bigint }>(sql`SELECT count(*) AS count FROM billing_addresses WHERE organization_id = ${organizationId}`);
  return rows[0]!.count;
}

export async function insertAddress(db: Queryable, address: Omit<BillingAddress, 'createdAt' | 'updatedAt'>, at: Date): Promise<BillingAddress> {
  const { rows } = await db.query<AddressRow>(
    sql`INSERT INTO billing_addresses (id, organization_id, name, company, address_line1, address_line2, city, state,
                                       postal_code, country, is_default, created_at, updated_at)
        VALUES (${address.id}, ${address.organizationId}, ${address.name}, ${address.company}, ${address.addressLine1},
                ${address.addressLine2}, ${address.city}, ${address.state}, ${address.postalCode}, ${address.country},
                ${address.isDefault}, ${at}, ${at})
        RETURNING ${billingAddressColumns}`,
  );
  return toBillingAddress(rows[0]!);
}

export async function updateAddress(db: Queryable, address: BillingAddress): Promise<void> {
  await db.query(
    sql`UPDATE billing_addresses SET name = ${address.name}, company = ${address.company}, address_line1 = ${address.addressLine1},
               address_line2 = ${address.addressLine2}, city = ${address.city}, state = ${address.state},
               postal_code = ${address.postalCode}, country = ${address.country}, is_default = ${address.isDefault},
               updated_at = ${address.updatedAt}
         WHERE organization_id = ${address.organizationId} AND id = ${address.id}`,
  );
}

export async function deleteAddress(db: Queryable, organizationId: string, addressId: string): Promise<void> {
  await db.query(sql`DELETE FROM billing_addresses WHERE organization_id = ${organizationId} AND id = ${addressId}`);
}

/** No default for a moment: the caller makes another address the default in the same transaction. */
export async function unsetDefaultAddress(db: Queryable, organizationId: string, at: Date): Promise<void> {
  await db.query(sql`UPDATE billing_addresses SET is_default = false, updated_at = ${at} WHERE organization_id = ${organizationId} AND is_default`);
}

/** Makes the most recently created address the default; returns its id, null when none is left. */
export async function promoteNewestAddress(db: Queryable, organizationId: string, at: Date): Promise<string | null> {
  const { rows } = await db.query<{ id: string }>(
    sql`UPDATE billing_addresses SET is_default = true, updated_at = ${at}
         WHERE id = (SELECT id FROM billing_addresses WHERE organization_id = ${organizationId} ORDER BY created_at DESC, id DESC LIMIT 1)
         RETURNING id`,
  );
  return rows[0]?.id ?? null;
}

/** The organization's billing data changed: a new ETag for every surface. */
export async function bumpBillingVersion(db: Queryable, organizationId: string, at: Date): Promise<void> {
  await db.query(sql`UPDATE organizations SET billing_version = billing_version + 1, updated_at = ${at} WHERE id = ${organizationId}`);
}

