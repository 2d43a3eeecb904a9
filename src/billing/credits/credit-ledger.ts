/** The credit ledger (table `credit_ledger_entries`): every grant (positive) and every use (negative) of credits is one row with its reason. */
import { randomUUID } from 'node:crypto';
import sql, { empty, raw, Sql } from 'sql-template-tag';
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

const creditLedgerColumns = sql`id, organization_id, amount_minor, currency, reason, reference, description, created_at`;

function toCreditLedgerEntry(row: CreditLedgerRow): CreditLedgerEntry {
  return {
    id: row.id,
    organizationId: row.organization_id,
    amountMinor: row.amount_minor,
    currency: row.currency,
    reason: row.reason,
    reference: row.reference,
    description: row.description,
    createdAt: row.created_at,
  };
}

/** A column's value: a plain value, or an SQL expression over the rows of `from` (for entries written in a batch). */
export type LedgerValue<T> = T | Sql;

export type LedgerEntryValues = { [K in keyof CreditLedgerEntry]: LedgerValue<CreditLedgerEntry[K]> };

/** `value` as an SQL expression of `type`: a parameter, or the caller's expression (in parentheses). */
function typed(value: unknown, type: string): Sql {
  return value instanceof Sql ? sql`(${value})::${raw(type)}` : sql`${value}::${raw(type)}`;
}

/**
 * The one `INSERT INTO credit_ledger_entries`; whoever writes it holds `lockCreditBalance` for the organization in
 * the same transaction. Alone it writes one row; with `from` (a CTE of a larger statement, or any FROM source) it
 * writes one row per row of `from` (none when it yields none), and the values may be expressions over its columns.
 * Add `RETURNING …` as needed.
 */
export function insertLedgerEntry(entry: LedgerEntryValues, from?: Sql): Sql {
  return sql`INSERT INTO credit_ledger_entries (${creditLedgerColumns})
    SELECT ${typed(entry.id, 'uuid')}, ${typed(entry.organizationId, 'uuid')}, ${typed(entry.amountMinor, 'int8')},
           ${typed(entry.currency, 'text')}, ${typed(entry.reason, 'text')}, ${typed(entry.reference, 'text')},
           ${typed(entry.description, 'text')}, ${typed(entry.createdAt, 'timestamptz')}
    ${from ? sql`FROM ${from}` : empty}`;
}

/** A new entry with its id, ready for `insertLedgerEntry`. */
export function newLedgerEntry(entry: Omit<CreditLedgerEntry, 'id'>): CreditLedgerEntry {
  return { id: randomUUID(), ...entry };
}

/** Appends a row; the caller holds `lockCreditBalance` for the organization, in the same transaction. */
export async function appendLedgerEntry(tx: Queryable, entry: Omit<CreditLedgerEntry, 'id'>): Promise<CreditLedgerEntry> {
  const stored = newLedgerEntry(entry);
  await tx.query(insertLedgerEntry(stored));
  return stored;
}

/** The organization's entries, newest first (in the order they were written). */
export async function listLedgerEntries(db: Queryable, organizationId: string, limit: number): Promise<CreditLedgerEntry[]> {
  const { rows } = await db.query<CreditLedgerRow>(
    sql`SELECT ${creditLedgerColumns}
          FROM credit_ledger_entries
         WHERE organization_id = ${organizationId}::uuid
         ORDER BY sequence DESC
         LIMIT ${limit}::int`,
  );
  return rows.map(toCreditLedgerEntry);
}
