/** The `invoice_lines` table: the lines of an issued invoice, in order, frozen at issue like the invoice itself. */
import sql, { raw, type Sql } from 'sql-template-tag';
import type { Queryable } from '../../db/database.js';
import type { InvoiceLine, InvoiceLineKind } from '../../domain/invoice-math.js';

export interface InvoiceLineRecord {
  position: number;
  kind: InvoiceLineKind;
  description: string;
  quantity: string | null;
  amountMinor: bigint;
  clusterId: string | null;
}

interface InvoiceLineRow {
  position: number;
  kind: InvoiceLineKind;
  description: string;
  quantity: string | null;
  amount_minor: bigint;
  cluster_id: string | null;
}

const invoiceLineColumns = raw('position, kind, description, quantity, amount_minor, cluster_id');

function toInvoiceLine(row: InvoiceLineRow): InvoiceLineRecord {
  return {
    position: row.position,
    kind: row.kind,
    description: row.description,
    quantity: row.quantity,
    amountMinor: row.amount_minor,
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
 * statement with an `id` column). Arrays carry bigints as text: the drivers convert top-level bigints only.
 */
export function insertInvoiceLines(lines: readonly NewInvoiceLine[], written: Sql): Sql {
  return sql`INSERT INTO invoice_lines (invoice_id, position, organization_id, kind, description, quantity, amount_minor, cluster_id)
    SELECT line.invoice_id, line.position, line.organization_id, line.kind, line.description, line.quantity,
           line.amount_minor::int8, line.cluster_id
      FROM unnest(${lines.map((line) => line.invoiceId)}::uuid[], ${lines.map((line) => line.organizationId)}::uuid[],
                  ${lines.map((line) => line.position)}::int[], ${lines.map((line) => line.kind)}::text[],
                  ${lines.map((line) => line.description)}::text[], ${lines.map((line) => line.quantity)}::text[],
                  ${lines.map((line) => line.amountMinor.toString())}::text[], ${lines.map((line) => line.clusterId)}::uuid[])
             AS line(invoice_id, organization_id, position, kind, description, quantity, amount_minor, cluster_id)
      JOIN ${written} ON ${written}.id = line.invoice_id`;
}
