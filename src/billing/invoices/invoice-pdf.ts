/**
 * The PDF of an invoice: one document per invoice, rendered at first need from what was frozen at issue (its lines,
 * the seller and bill-to snapshots, totals, tax lines, due date and payment terms; never its payment status), stored
 * in `invoice_documents` with its SHA-256, and served byte for byte afterwards: the e-mail attachment, the signed
 * link and the archive entry are the same bytes before and after the invoice is paid. Rendering is deterministic,
 * so two processes rendering it at once produce the same bytes too.
 */
import type { Database } from '../../db/database.js';
import type { DocumentBillTo, DocumentSeller, InvoiceDocument } from '../../pdf/invoice-document.js';
import { renderInvoicePdf } from '../../pdf/render-invoice-pdf.js';
import { loadInvoiceWithLines, type BillToSnapshot, type InvoiceWithLines, type SellerSnapshot } from './invoice.js';
import { getStoredDocument, type StoredDocument } from './stored-document.js';

export interface StoredInvoicePdf extends StoredDocument {
  invoiceId: string;
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

/** The stored PDF, rendering and storing it first when there is none. Throws not_found for an unknown invoice. */
export async function getInvoicePdf(database: Database, organizationId: string, invoiceId: string, renderedAt: Date): Promise<StoredInvoicePdf> {
  const stored = await getStoredDocument(database, 'invoice', organizationId, invoiceId, renderedAt, async () =>
    renderInvoicePdf(toInvoiceDocument(await loadInvoiceWithLines(database, organizationId, invoiceId))),
  );
  return { invoiceId, ...stored };
}
