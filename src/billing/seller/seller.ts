/**
 * The `seller_identity` table: who issues the invoices (legal name, postal address, country, tax id, e-mail) and the
 * prefix of invoice numbers. One row, read by every process from the database. Until an operator sets it
 * (`PUT /admin/seller`), each start-up writes it from the `BURSAR_SELLER_*` settings; after that, only the operator
 * changes it. Each invoice keeps a copy taken at issue (its seller snapshot), so a later change never alters it.
 */
import sql, { raw } from 'sql-template-tag';
import type { Config } from '../../config.js';
import type { Queryable } from '../../db/database.js';

export interface SellerIdentity {
  name: string;
  addressLine1: string | null;
  addressLine2: string | null;
  city: string | null;
  postalCode: string | null;
  state: string | null;
  /** ISO 3166-1 alpha-2. */
  country: string | null;
  taxId: string | null;
  email: string | null;
  /** Invoice numbers are this prefix and the six-digit gap-free sequence number: `INV-000042`. */
  invoiceNumberPrefix: string;
}

export interface Seller extends SellerIdentity {
  /** False while the identity still comes from the settings (nobody has set it through the API). */
  setByOperator: boolean;
  updatedAt: Date | null;
}

/** The name invoices carry when nothing at all is configured. */
export const PLACEHOLDER_SELLER_NAME = 'Bursar Platform';

interface SellerRow {
  name: string;
  address_line_1: string | null;
  address_line_2: string | null;
  city: string | null;
  postal_code: string | null;
  state: string | null;
  country: string | null;
  tax_id: string | null;
  email: string | null;
  invoice_number_prefix: string;
  set_by_operator: boolean;
  updated_at: Date;
}

const sellerColumns = raw(
  'name, address_line_1, address_line_2, city, postal_code, state, country, tax_id, email, invoice_number_prefix, set_by_operator, updated_at',
);

function toSeller(row: SellerRow): Seller {
  return {
    name: row.name,
    addressLine1: row.address_line_1,
    addressLine2: row.address_line_2,
    city: row.city,
    postalCode: row.postal_code,
    state: row.state,
    country: row.country,
    taxId: row.tax_id,
    email: row.email,
    invoiceNumberPrefix: row.invoice_number_prefix,
    setByOperator: row.set_by_operator,
    updatedAt: row.updated_at,
  };
}

/**
 * The seller identity from the settings: `BURSAR_SELLER_ADDRESS` lines separated by `|` become address line 1 and
 * line 2 (the further lines joined to the second); city and postal code are only set through the API.
 */
export function sellerFromSettings(settings: Config['seller']): SellerIdentity {
  const [first = null, ...rest] = settings.addressLines;
  return {
    name: settings.name,
    addressLine1: first,
    addressLine2: rest.length > 0 ? rest.join(', ') : null,
    city: null,
    postalCode: null,
    state: null,
    country: settings.country,
    taxId: settings.taxId,
    email: settings.email,
    invoiceNumberPrefix: settings.invoiceNumberPrefix,
  };
}

const placeholder: Seller = {
  ...sellerFromSettings({ name: PLACEHOLDER_SELLER_NAME, addressLines: [], country: null, taxId: null, email: null, invoiceNumberPrefix: 'INV-' }),
  setByOperator: false,
  updatedAt: null,
};

/** The seller identity every invoice is issued with (the placeholder before the first start-up wrote it). */
export async function loadSeller(db: Queryable): Promise<Seller> {
  const { rows } = await db.query<SellerRow>(sql`SELECT ${sellerColumns} FROM seller_identity WHERE singleton`);
  return rows[0] ? toSeller(rows[0]) : { ...placeholder };
}

function identityValues(identity: SellerIdentity) {
  return sql`${identity.name}, ${identity.addressLine1}, ${identity.addressLine2}, ${identity.city}, ${identity.postalCode},
             ${identity.state}, ${identity.country}, ${identity.taxId}, ${identity.email}, ${identity.invoiceNumberPrefix}`;
}

const identityColumnNames = [
  'name', 'address_line_1', 'address_line_2', 'city', 'postal_code', 'state', 'country', 'tax_id', 'email', 'invoice_number_prefix',
] as const;
const identityColumns = raw(identityColumnNames.join(', '));
/** `name = EXCLUDED.name, …, updated_at = EXCLUDED.updated_at` of an upsert. */
const assignFromExcluded = raw([...identityColumnNames, 'updated_at'].map((column) => `${column} = EXCLUDED.${column}`).join(', '));

/** At start-up: the settings' identity, unless an operator has set one. Concurrent start-ups write the same values. */
export async function refreshSellerFromSettings(db: Queryable, settings: Config['seller'], now: Date): Promise<void> {
  const identity = sellerFromSettings(settings);
  await db.query(
    sql`INSERT INTO seller_identity (singleton, ${identityColumns}, set_by_operator, updated_at)
        VALUES (true, ${identityValues(identity)}, false, ${now}::timestamptz)
        ON CONFLICT (singleton) DO UPDATE SET ${assignFromExcluded}
        WHERE NOT seller_identity.set_by_operator
          AND (seller_identity.name, seller_identity.address_line_1, seller_identity.address_line_2, seller_identity.country,
               seller_identity.tax_id, seller_identity.email, seller_identity.invoice_number_prefix)
              IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.address_line_1, EXCLUDED.address_line_2, EXCLUDED.country,
                                EXCLUDED.tax_id, EXCLUDED.email, EXCLUDED.invoice_number_prefix)`,
  );
}

/** The operator's identity, from now on the one invoices are issued with. Locks the row until the commit. */
export async function writeSeller(tx: Queryable, identity: SellerIdentity, now: Date): Promise<Seller> {
  const { rows } = await tx.query<SellerRow>(
    sql`INSERT INTO seller_identity (singleton, ${identityColumns}, set_by_operator, updated_at)
        VALUES (true, ${identityValues(identity)}, true, ${now}::timestamptz)
        ON CONFLICT (singleton) DO UPDATE SET ${assignFromExcluded}, set_by_operator = true
        RETURNING ${sellerColumns}`,
  );
  return toSeller(rows[0]!);
}

/** The row, locked until the commit (a PUT compares with it for its audit event). */
export async function lockSeller(tx: Queryable): Promise<Seller> {
  const { rows } = await tx.query<SellerRow>(sql`SELECT ${sellerColumns} FROM seller_identity WHERE singleton FOR UPDATE`);
  return rows[0] ? toSeller(rows[0]) : { ...placeholder };
}

/**
 * What an invoice needs from the seller and is still a default: a legal document names its issuer, its address,
 * country and contact. Start-up warns while this is not empty. (The settings' address is free lines, so city and
 * postal code are not asked for separately.)
 */
export function missingSellerFields(seller: SellerIdentity): string[] {
  const missing: string[] = [];
  if (seller.name === PLACEHOLDER_SELLER_NAME) missing.push('name');
  if (seller.addressLine1 === null) missing.push('address');
  if (seller.country === null) missing.push('country');
  if (seller.email === null) missing.push('email');
  return missing;
}
