/** The `tax_rates` table: the operator's catalogue of tax rates (columns, row, mapping, reads and writes). */
import sql, { raw } from 'sql-template-tag';
import type { Queryable } from '../../db/database.js';
import type { TaxRate } from '../../domain/tax.js';

export interface StoredTaxRate extends TaxRate {
  createdAt: Date;
  updatedAt: Date;
}

interface TaxRateRow {
  code: string;
  country: string;
  region: string | null;
  percentage: string;
  name: string;
  created_at: Date;
  updated_at: Date;
}

const taxRateColumns = raw('code, country, region, percentage, name, created_at, updated_at');

function toTaxRate(row: TaxRateRow): StoredTaxRate {
  return {
    code: row.code,
    country: row.country,
    region: row.region,
    percentage: row.percentage,
    name: row.name,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export const taxRateCodePattern = /^[A-Za-z0-9_-]{1,64}$/;

/** Serialises concurrent writes of one code (the row may not exist yet). */
export async function lockTaxRateCode(tx: Queryable, code: string): Promise<void> {
  await tx.query(sql`SELECT pg_advisory_xact_lock(hashtextextended('tax-rate:' || ${code}::text, 0))`);
}

export async function findTaxRate(db: Queryable, code: string): Promise<StoredTaxRate | null> {
  const { rows } = await db.query<TaxRateRow>(sql`SELECT ${taxRateColumns} FROM tax_rates WHERE code = ${code}`);
  return rows[0] ? toTaxRate(rows[0]) : null;
}

/** Every rate, by country, region (country-wide first) and code. */
export async function listTaxRates(db: Queryable): Promise<StoredTaxRate[]> {
  const { rows } = await db.query<TaxRateRow>(
    sql`SELECT ${taxRateColumns} FROM tax_rates ORDER BY country, region NULLS FIRST, code`,
    { prepare: 'list_tax_rates' },
  );
  return rows.map(toTaxRate);
}

export async function upsertTaxRate(tx: Queryable, rate: StoredTaxRate): Promise<void> {
  await tx.query(
    sql`INSERT INTO tax_rates (code, country, region, percentage, name, created_at, updated_at)
        VALUES (${rate.code}, ${rate.country}, ${rate.region}, ${rate.percentage}, ${rate.name}, ${rate.createdAt}::timestamptz, ${rate.updatedAt}::timestamptz)
        ON CONFLICT (code) DO UPDATE SET country = EXCLUDED.country, region = EXCLUDED.region, percentage = EXCLUDED.percentage,
          name = EXCLUDED.name, updated_at = EXCLUDED.updated_at`,
  );
}

export async function deleteTaxRateRow(tx: Queryable, code: string): Promise<boolean> {
  const { rows } = await tx.query<{ code: string }>(sql`DELETE FROM tax_rates WHERE code = ${code} RETURNING code`);
  return rows.length > 0;
}
