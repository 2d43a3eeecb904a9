/** The credit ledger: every grant (positive) and every use (negative) of credits is one row with its reason. */
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../../db/database.js';

export type CreditLedgerReason = 'credit_code' | 'invoice' | 'adjustment';

export interface CreditLedgerEntry {
  id: string;
  organizationId: string;
  amountMinor: bigint;
  currency: string;
  reason: CreditLedgerReason;
  /** What the entry is about: the credit code id, the invoice id, an operator's note. */
  reference: string | null;
  description: string;
  createdAt: Date;
}

interface CreditLedgerRow {
  id: string;
  organization_id: string;
  amount_minor: bigint;
  currency: string;
  reason: CreditLedgerReason;
  reference: string | null;
  description: string;
  created_at: Date;
}

/** Appends a row; the caller holds `lockCreditBalance` for the organization, in the same transaction. */
export async function appendLedgerEntry(tx: Queryable, entry: Omit<CreditLedgerEntry, 'id'>): Promise<CreditLedgerEntry> {
  const id = randomUUID();
  await tx.query(
    `INSERT INTO credit_ledger_entries (id, organization_id, amount_minor, currency, reason, reference, description, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [id, entry.organizationId, entry.amountMinor, entry.currency, entry.reason, entry.reference, entry.description, entry.createdAt],
  );
  return { id, ...entry };
}

/**
 * The same row as `appendLedgerEntry`, as a part of a larger statement: inserted only if `source` (a CTE of that
 * statement) yields a row. Placeholders start at `$firstParameter`; the caller holds `lockCreditBalance`.
 */
export function ledgerEntryInsertFrom(
  source: string,
  firstParameter: number,
  entry: Omit<CreditLedgerEntry, 'id'>,
): { sql: string; parameters: unknown[]; entry: CreditLedgerEntry } {
  const casts = ['uuid', 'uuid', 'int8', 'text', 'text', 'text', 'text', 'timestamptz'];
  const placeholders = casts.map((cast, index) => `$${firstParameter + index}::${cast}`).join(', ');
  const stored: CreditLedgerEntry = { id: randomUUID(), ...entry };
  return {
    sql: `INSERT INTO credit_ledger_entries (id, organization_id, amount_minor, currency, reason, reference, description, created_at)
          SELECT ${placeholders} FROM ${source}`,
    parameters: [stored.id, entry.organizationId, entry.amountMinor, entry.currency, entry.reason, entry.reference, entry.description, entry.createdAt],
    entry: stored,
  };
}

/** The organization's entries, newest first (in the order they were written). */
export async function listLedgerEntries(db: Queryable, organizationId: string, limit: number): Promise<CreditLedgerEntry[]> {
  const { rows } = await db.query<CreditLedgerRow>(
    `SELECT id, organization_id, amount_minor, currency, reason, reference, description, created_at
       FROM credit_ledger_entries
      WHERE organization_id = $1
      ORDER BY sequence DESC
      LIMIT $2`,
    [organizationId, limit],
  );
  return rows.map((row) => ({
    id: row.id,
    organizationId: row.organization_id,
    amountMinor: row.amount_minor,
    currency: row.currency,
    reason: row.reason,
    reference: row.reference,
    description: row.description,
    createdAt: row.created_at,
  }));
}
