/** The `invoice_lines` table: the lines of an issued invoice, in order, frozen at issue like the invoice itself. */
import sql, { raw, type Sql } from 'sql-template-tag';
import type { Queryable } from '../../db/database.js';
import { jsonRows } from '../../db/json-rows.js';
import type { InvoiceLinePart } from '../../domain/invoice-line-parts.js';
import type { InvoiceLine, InvoiceLineKind } from '../../domain/invoice-math.js';
import { fieldOf } from '../../jobs/job-payload.js';

export interface InvoiceLineRecord {
  position: number;
  kind: InvoiceLineKind;
  description: string;
  quantity: string | null;
  unitPriceMinor: bigint | null;
  amountMinor: bigint;
  /** What the amount is made of; empty when quantity × unit price says it. */
  parts: InvoiceLinePart[];
  clusterId: string | null;
}

interface InvoiceLineRow {
  position: number;
  kind: InvoiceLineKind;
  description: string;
  quantity: string | null;
  unit_price_minor: bigint | null;
  amount_minor: bigint;
  parts: unknown;
  cluster_id: string | null;
}

const invoiceLineColumns = raw('position, kind, description, quantity, unit_price_minor, amount_minor, parts, cluster_id');

/** jsonb parts carry minor units as strings (JSON numbers cannot hold every bigint). */
interface StoredPart {
  description: string;
  quantity: string | null;
  unit_price_minor: string | null;
  amount_minor: string;
}

function toStoredParts(parts: readonly InvoiceLinePart[] | undefined): StoredPart[] {
  return (parts ?? []).map((part) => ({
    description: part.description,
    quantity: part.quantity,
    unit_price_minor: part.unitPriceMinor === null ? null : part.unitPriceMinor.toString(),
    amount_minor: part.amountMinor.toString(),
  }));
}

function minorOrNull(value: unknown): bigint | null {
  return typeof value === 'string' && /^-?\d+$/.test(value) ? BigInt(value) : null;
}

function fromStoredParts(value: unknown): InvoiceLinePart[] {
  if (!Array.isArray(value)) return [];
  return value.map((part: unknown) => {
    const description = fieldOf(part, 'description');
    const quantity = fieldOf(part, 'quantity');
    return {
      description: typeof description === 'string' ? description : '',
      quantity: typeof quantity === 'string' ? quantity : null,
      unitPriceMinor: minorOrNull(fieldOf(part, 'unit_price_minor')),
      amountMinor: minorOrNull(fieldOf(part, 'amount_minor')) ?? 0n,
    };
  });
}

function toInvoiceLine(row: InvoiceLineRow): InvoiceLineRecord {
  return {
    position: row.position,
    kind: row.kind,
    description: row.description,
    quantity: row.quantity,
    unitPriceMinor: row.unit_price_minor,
    amountMinor: row.amount_minor,
    parts: fromStoredParts(row.parts),
    clusterId: row.cluster_id,
  };
}

export async function loadInvoiceLines(db: Queryable, organizationId: string, invoiceId: string): Promise<InvoiceLineRecord[]> {
  const { rows } = await db.query<InvoiceLineRow>(
    sql`SELECT ${invoiceLineColumns} FROM invoice_lines
         WHERE organization_id = ${organizationId}::uuid AND invoice_id = ${invoiceId}::uuid ORDER BY position`,
  );
  return rows.map(toInvoiceLine);
}

/** A line to write with its invoice. */
export interface NewInvoiceLine extends InvoiceLine {
  invoiceId: string;
  organizationId: string;
  position: number;
  clusterId: string | null;
}

/**
 * The lines of many invoices in one INSERT, each written only if its invoice is in `written` (a CTE of the same
 * statement with an `id` column).
 */
export function insertInvoiceLines(lines: readonly NewInvoiceLine[], written: Sql): Sql {
  const rows = lines.map((line) => ({
    invoice_id: line.invoiceId,
    organization_id: line.organizationId,
    position: line.position,
    kind: line.kind,
    description: line.description,
    quantity: line.quantity,
    unit_price_minor: line.unitPriceMinor ?? null,
    amount_minor: line.amountMinor,
    parts: toStoredParts(line.parts),
    cluster_id: line.clusterId,
  }));
  return sql`INSERT INTO invoice_lines (invoice_id, position, organization_id, kind, description, quantity, unit_price_minor,
                                       amount_minor, parts, cluster_id)
    SELECT line.invoice_id, line.position, line.organization_id, line.kind, line.description, line.quantity,
           line.unit_price_minor, line.amount_minor, line.parts, line.cluster_id
      FROM ${jsonRows(
        rows,
        'line',
        `invoice_id uuid, organization_id uuid, position int, kind text, description text, quantity text, unit_price_minor int8,
         amount_minor int8, parts jsonb, cluster_id uuid`,
      )}
      JOIN ${written} ON ${written}.id = line.invoice_id`;
}
