/**
 * The PDF of an invoice: one document per invoice, rendered at first need from what was frozen at issue (its lines,
 * the seller and bill-to snapshots, totals, tax lines, due date and payment terms; never its payment status), stored
 * in `invoice_documents` with its SHA-256, and served byte for byte afterwards: the e-mail attachment, the signed
 * link and the archive entry are the same bytes before and after the invoice is paid. Rendering is deterministic,
 * so two processes rendering it at once produce the same bytes too.
 */
import { createHash } from 'node:crypto';
import sql from 'sql-template-tag';
import type { Database } from '../../db/database.js';
import type { DocumentBillTo, DocumentSeller, InvoiceDocument } from '../../pdf/invoice-document.js';
import { renderInvoicePdf } from '../../pdf/render-invoice-pdf.js';
import { loadInvoiceWithLines, type BillToSnapshot, type InvoiceWithLines, type SellerSnapshot } from './invoice.js';

export interface StoredInvoicePdf {
  invoiceId: string;
  number: string;
  pdf: Buffer;
  sha256: string;
}

/** The seller block of a document (invoice or credit note) from its frozen snapshot. */
export function documentSeller(seller: SellerSnapshot): DocumentSeller {
  return {
    name: seller.name,
    addressLines: seller.addressLines,
    country: seller.countryName ?? seller.country,
    taxId: seller.taxId,
    email: seller.email,
  };
}

/** The bill-to block of a document from its frozen snapshot. */
export function documentBillTo(billTo: BillToSnapshot): DocumentBillTo {
  return {
    company: billTo.company,
    contactName: billTo.contactName,
    email: billTo.email,
    addressLines: billTo.addressLines,
    country: billTo.countryName ?? billTo.country,
    taxId: billTo.taxId,
  };
}

/** What the PDF shows: the frozen parts of the invoice only (nothing that changes after issue, such as its status). */
export function toInvoiceDocument(invoice: InvoiceWithLines): InvoiceDocument {
  return {
    kind: 'invoice',
    number: invoice.number,
    issuedAt: invoice.issuedAt,
    periodStart: invoice.periodStart,
    // The period is stored with an exclusive end; a document shows its last day.
    periodEnd: new Date(invoice.periodEnd.getTime() - 1),
    dueAt: invoice.dueAt,
    paymentTerms: invoice.paymentTerms,
    currency: invoice.currency,
    seller: documentSeller(invoice.seller),
    billTo: documentBillTo(invoice.billTo),
    // The table holds what is charged and sums to the subtotal; credits are a payment, shown with the totals.
    lines: invoice.lines.filter((line) => line.kind !== 'credit').map((line) => ({
      description: line.description,
      quantity: line.quantity,
      unitPriceMinor: line.unitPriceMinor,
      amountMinor: line.amountMinor,
      parts: line.parts,
    })),
    subtotalMinor: invoice.subtotalMinor,
    taxLines: invoice.taxLines,
    reverseCharge: invoice.reverseCharge,
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
  const stored = await findStored(database, organizationId, invoiceId);
  if (stored) return stored;
  // Rendering happens outside any transaction, from data that never changes after issue.
  const invoice = await loadInvoiceWithLines(database, organizationId, invoiceId);
  const pdf = await renderInvoicePdf(toInvoiceDocument(invoice));
  const sha256 = createHash('sha256').update(pdf).digest('hex');
  await database.query(
    sql`INSERT INTO invoice_documents (invoice_id, organization_id, pdf, sha256, rendered_at)
        VALUES (${invoiceId}::uuid, ${organizationId}::uuid, ${pdf}, ${sha256}, ${renderedAt}::timestamptz)
        ON CONFLICT (invoice_id) DO NOTHING`,
  );
  // Another process may have stored its rendering first; serve what is stored so every reader gets the same bytes.
  const winner = await findStored(database, organizationId, invoiceId);
  if (!winner) throw new Error(`invoice ${invoiceId}: its PDF was not stored`);
  return winner;
}
