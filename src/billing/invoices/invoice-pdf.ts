/**
 * The PDF of an invoice: rendered at first need, stored in `invoice_documents` with its SHA-256, and served byte
 * for byte afterwards. The PDF shows the invoice's status, so a status change deletes the stored document (in the
 * transaction of the change) and the next need renders the new one.
 */
import { createHash } from 'node:crypto';
import sql from 'sql-template-tag';
import type { Database, Queryable } from '../../db/database.js';
import type { InvoiceDocument } from '../../pdf/invoice-document.js';
import { renderInvoicePdf } from '../../pdf/render-invoice-pdf.js';
import { REVERSE_CHARGE_MENTION } from '../../domain/tax.js';
import { loadInvoiceWithLines, type InvoiceWithLines } from './invoice.js';

export interface StoredInvoicePdf {
  invoiceId: string;
  number: string;
  pdf: Buffer;
  sha256: string;
}

/** What the PDF shows: the snapshot blocks, lines and totals of the invoice in its own currency. */
export function toInvoiceDocument(invoice: InvoiceWithLines): InvoiceDocument {
  return {
    number: invoice.number,
    issuedAt: invoice.issuedAt,
    periodStart: invoice.periodStart,
    // The period is stored with an exclusive end; a document shows its last day.
    periodEnd: new Date(invoice.periodEnd.getTime() - 1),
    dueAt: invoice.dueAt,
    status: invoice.status,
    currency: invoice.currency,
    seller: { ...invoice.seller },
    billTo: {
      company: invoice.billTo.company,
      contactName: invoice.billTo.contactName,
      email: invoice.billTo.email,
      addressLines: invoice.billTo.addressLines,
      country: invoice.billTo.countryName ?? invoice.billTo.country,
      taxId: invoice.billTo.taxId,
    },
    lines: invoice.lines.map((line) => ({ description: line.description, quantity: line.quantity, amountMinor: line.amountMinor })),
    subtotalMinor: invoice.subtotalMinor,
    taxLines: invoice.taxLines,
    notice: invoice.reverseCharge ? REVERSE_CHARGE_MENTION : null,
    creditsAppliedMinor: invoice.creditsAppliedMinor,
    totalMinor: invoice.totalMinor,
  };
}

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

async function findStored(database: Database, organizationId: string, invoiceId: string): Promise<StoredInvoicePdf | null> {
  const { rows } = await database.query<{ pdf: string; sha256: string; number: string }>(
    sql`SELECT translate(encode(d.pdf, 'base64'), E'\\n', '') AS pdf, d.sha256, i.number
          FROM invoice_documents d JOIN invoices i ON i.id = d.invoice_id AND i.organization_id = d.organization_id
         WHERE d.organization_id = ${organizationId}::uuid AND d.invoice_id = ${invoiceId}::uuid`,
  );
  const row = rows[0];
  return row ? { invoiceId, number: row.number, pdf: decodePdf(row.pdf), sha256: row.sha256 } : null;
}

/** The stored PDF, rendering and storing it first when there is none. Throws not_found for an unknown invoice. */
export async function getInvoicePdf(database: Database, organizationId: string, invoiceId: string, renderedAt: Date): Promise<StoredInvoicePdf> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const stored = await findStored(database, organizationId, invoiceId);
    if (stored) return stored;

    // Rendering happens outside any transaction; the row is written only if the status it shows is still current.
    const invoice = await loadInvoiceWithLines(database, organizationId, invoiceId);
    const pdf = await renderInvoicePdf(toInvoiceDocument(invoice));
    const sha256 = createHash('sha256').update(pdf).digest('hex');
    const kept = await database.transaction(async (tx) => {
      const { rows } = await tx.query<{ status: string }>(
        sql`SELECT status FROM invoices WHERE organization_id = ${organizationId}::uuid AND id = ${invoiceId}::uuid FOR SHARE`,
      );
      if (rows[0]?.status !== invoice.status) return false;
      await tx.query(
        sql`INSERT INTO invoice_documents (invoice_id, organization_id, pdf, sha256, rendered_at)
            VALUES (${invoiceId}::uuid, ${organizationId}::uuid, ${pdf}, ${sha256}, ${renderedAt}::timestamptz)
            ON CONFLICT (invoice_id) DO NOTHING`,
      );
      return true;
    });
    if (!kept) continue; // the status changed while rendering: render the current one
    // Another process may have stored its rendering first; serve what is stored so every reader gets the same bytes.
    const winner = await findStored(database, organizationId, invoiceId);
    if (winner) return winner;
  }
  throw new Error(`invoice ${invoiceId}: the status kept changing while its PDF was rendered`);
}

/** In the transaction of a status change: the stored PDF shows the old status. */
export async function discardInvoicePdf(tx: Queryable, organizationId: string, invoiceId: string): Promise<void> {
  await tx.query(sql`DELETE FROM invoice_documents WHERE organization_id = ${organizationId}::uuid AND invoice_id = ${invoiceId}::uuid`);
}
