/**
 * The PDF of a credit note: rendered at first need with the document renderer (kind `credit_note`, the invoice it
 * refers to), stored in `credit_note_documents`, and served byte for byte afterwards (a credit note never changes).
 */
import { createHash } from 'node:crypto';
import sql from 'sql-template-tag';
import type { Database } from '../../db/database.js';
import type { InvoiceDocument } from '../../pdf/invoice-document.js';
import { renderInvoicePdf } from '../../pdf/render-invoice-pdf.js';
import { loadInvoice } from '../invoices/invoice.js';
import { documentBillTo, documentSeller } from '../invoices/invoice-pdf.js';
import { loadCreditNote, type CreditNote } from './credit-note.js';

export interface StoredCreditNotePdf {
  number: string;
  pdf: Buffer;
  sha256: string;
}

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

async function findStored(database: Database, organizationId: string, creditNoteId: string): Promise<StoredCreditNotePdf | null> {
  const { rows } = await database.query<{ pdf: string; sha256: string; number: string }>(
    sql`SELECT translate(encode(d.pdf, 'base64'), E'\\n', '') AS pdf, d.sha256, c.number
          FROM credit_note_documents d JOIN credit_notes c ON c.id = d.credit_note_id
         WHERE d.organization_id = ${organizationId}::uuid AND d.credit_note_id = ${creditNoteId}::uuid`,
  );
  const row = rows[0];
  return row ? { number: row.number, pdf: Buffer.from(row.pdf, 'base64'), sha256: row.sha256 } : null;
}

export async function getCreditNotePdf(database: Database, organizationId: string, creditNoteId: string, renderedAt: Date): Promise<StoredCreditNotePdf> {
  const stored = await findStored(database, organizationId, creditNoteId);
  if (stored) return stored;
  const note = await loadCreditNote(database, organizationId, creditNoteId);
  const invoice = await loadInvoice(database, organizationId, note.invoiceId);
  const pdf = await renderInvoicePdf(toCreditNoteDocument(note, invoice));
  const sha256 = createHash('sha256').update(pdf).digest('hex');
  await database.query(
    sql`INSERT INTO credit_note_documents (credit_note_id, organization_id, pdf, sha256, rendered_at)
        VALUES (${creditNoteId}::uuid, ${organizationId}::uuid, ${pdf}, ${sha256}, ${renderedAt}::timestamptz)
        ON CONFLICT (credit_note_id) DO NOTHING`,
  );
  // Another process may have stored its rendering first: every reader gets the stored bytes.
  return (await findStored(database, organizationId, creditNoteId)) ?? { number: note.number, pdf, sha256 };
}
