/**
 * A rendered PDF kept once per invoice or credit note: rendered at first need, stored with its SHA-256, and served
 * byte for byte afterwards. Both documents render deterministically from what never changes after issue, so two
 * processes rendering one at once produce the same bytes too; whichever stores first wins.
 */
import { createHash } from 'node:crypto';
import sql, { raw, type Sql } from 'sql-template-tag';
import type { Database } from '../../db/database.js';

export interface StoredDocument {
  /** The number of the invoice or credit note. */
  number: string;
  pdf: Buffer;
  sha256: string;
}

/** Where one kind of document is kept: its table, the column naming what it documents, and the table holding that. */
interface DocumentTables {
  documents: Sql;
  documentedIdColumn: Sql;
  documented: Sql;
}

const tables = {
  invoice: { documents: raw('invoice_documents'), documentedIdColumn: raw('invoice_id'), documented: raw('invoices') },
  credit_note: { documents: raw('credit_note_documents'), documentedIdColumn: raw('credit_note_id'), documented: raw('credit_notes') },
} satisfies Record<string, DocumentTables>;

export type StoredDocumentKind = keyof typeof tables;

/**
 * The PDF travels as base64 text and is decoded into a buffer of its own. A bytea column would come back as a
 * buffer carved from Node's shared 8 KB pool (PDFs are ~4 KB): any small buffer kept alive from the same slab (the
 * zip writer keeps one per entry name until the archive ends) would then pin the PDF bytes too.
 */
function decodePdf(base64: string): Buffer {
  const pdf = Buffer.allocUnsafeSlow(Buffer.byteLength(base64, 'base64'));
  const written = pdf.write(base64, 'base64');
  // Never hand out bytes the decoder did not write (allocUnsafeSlow does not clear memory).
  if (written !== pdf.length) throw new Error(`stored PDF decoded to ${written} bytes, expected ${pdf.length}`);
  return pdf;
}

async function findStored(database: Database, kind: StoredDocumentKind, organizationId: string, documentedId: string): Promise<StoredDocument | null> {
  const { documents, documentedIdColumn, documented } = tables[kind];
  const { rows } = await database.query<{ pdf: string; sha256: string; number: string }>(
    sql`SELECT translate(encode(d.pdf, 'base64'), E'\\n', '') AS pdf, d.sha256, o.number
          FROM ${documents} d JOIN ${documented} o ON o.id = d.${documentedIdColumn} AND o.organization_id = d.organization_id
         WHERE d.organization_id = ${organizationId}::uuid AND d.${documentedIdColumn} = ${documentedId}::uuid`,
  );
  const row = rows[0];
  return row ? { number: row.number, pdf: decodePdf(row.pdf), sha256: row.sha256 } : null;
}

/**
 * The stored PDF of the invoice or credit note `documentedId`, rendering (outside any transaction) and storing it first
 * when there is none. Only then is `render` called; it loads what it renders, so an unknown id fails there.
 */
export async function getStoredDocument(
  database: Database,
  kind: StoredDocumentKind,
  organizationId: string,
  documentedId: string,
  renderedAt: Date,
  render: () => Promise<Buffer>,
): Promise<StoredDocument> {
  const stored = await findStored(database, kind, organizationId, documentedId);
  if (stored) return stored;
  const pdf = await render();
  const sha256 = createHash('sha256').update(pdf).digest('hex');
  const { documents, documentedIdColumn } = tables[kind];
  await database.query(
    sql`INSERT INTO ${documents} (${documentedIdColumn}, organization_id, pdf, sha256, rendered_at)
        VALUES (${documentedId}::uuid, ${organizationId}::uuid, ${pdf}, ${sha256}, ${renderedAt}::timestamptz)
        ON CONFLICT (${documentedIdColumn}) DO NOTHING`,
  );
  // Another process may have stored its rendering first; serve what is stored so every reader gets the same bytes.
  const winner = await findStored(database, kind, organizationId, documentedId);
  if (!winner) throw new Error(`${kind} ${documentedId}: its PDF was not stored`);
  return winner;
}
