/**
 * The PDF of a credit note: rendered at first need with the document renderer (kind `credit_note`, the invoice it
 * refers to), stored in `credit_note_documents`, and served byte for byte afterwards (a credit note never changes).
 */
import type { Database } from '../../db/database.js';
import type { InvoiceDocument } from '../../pdf/invoice-document.js';
import { renderInvoicePdf } from '../../pdf/render-invoice-pdf.js';
import { loadInvoice } from '../invoices/invoice.js';
import { documentBillTo, documentSeller } from '../invoices/invoice-pdf.js';
import { getStoredDocument, type StoredDocument } from '../invoices/stored-document.js';
import { loadCreditNote, type CreditNote } from './credit-note.js';

export function toCreditNoteDocument(note: CreditNote, invoice: { periodStart: Date; periodEnd: Date }): InvoiceDocument {
  return {
    kind: 'credit_note',
    number: note.number,
    refersToNumber: note.invoiceNumber,
    reason: note.reason,
    issuedAt: note.issuedAt,
    periodStart: invoice.periodStart,
    periodEnd: new Date(invoice.periodEnd.getTime() - 1),
    dueAt: null,
    paymentTerms: null,
    currency: note.currency,
    seller: documentSeller(note.seller),
    billTo: documentBillTo(note.billTo),
    lines: note.lines.map((line) => ({ description: line.description, quantity: null, amountMinor: line.amountMinor })),
    subtotalMinor: note.subtotalMinor,
    taxLines: note.taxLines,
    reverseCharge: note.reverseCharge,
    creditsAppliedMinor: 0n,
    totalMinor: note.totalMinor,
  };
}

export async function getCreditNotePdf(database: Database, organizationId: string, creditNoteId: string, renderedAt: Date): Promise<StoredDocument> {
  return getStoredDocument(database, 'credit_note', organizationId, creditNoteId, renderedAt, async () => {
    const note = await loadCreditNote(database, organizationId, creditNoteId);
    const invoice = await loadInvoice(database, organizationId, note.invoiceId);
    return renderInvoicePdf(toCreditNoteDocument(note, invoice));
  });
}
