/**
 * The `credit_notes` table: a credit note as the core sees it (columns, row, mapping), its gap-free number and its
 * reads. Every read names the organization, like invoices.
 */
import sql, { raw } from 'sql-template-tag';
import type { Queryable } from '../../db/database.js';
import type { TaxLine } from '../../domain/tax.js';
import { notFound } from '../../errors.js';
import { fieldOf } from '../../jobs/job-payload.js';
import type { BillToSnapshot, SellerSnapshot } from '../invoices/invoice.js';
import { storedTaxLines, toTaxLines } from '../invoices/invoice-tax-lines.js';

export interface CreditNoteLine {
  description: string;
  /** Before tax, positive. */
  amountMinor: bigint;
}

export interface CreditNote {
  id: string;
  organizationId: string;
  invoiceId: string;
  /** The invoice's number, for documents (joined, not stored). */
  invoiceNumber: string;
  number: string;
  currency: string;
  reason: string;
  subtotalMinor: bigint;
  taxMinor: bigint;
  totalMinor: bigint;
  taxLines: TaxLine[];
  reverseCharge: boolean;
  lines: CreditNoteLine[];
  refundedMinor: bigint;
  creditsReturnedMinor: bigint;
  owedReducedMinor: bigint;
  providerRefundReference: string | null;
  billTo: BillToSnapshot;
  seller: SellerSnapshot;
  issuedAt: Date;
}

interface CreditNoteRow {
  id: string;
  organization_id: string;
  invoice_id: string;
  invoice_number: string;
  number: string;
  currency: string;
  reason: string;
  subtotal_minor: bigint;
  tax_minor: bigint;
  total_minor: bigint;
  tax_lines: unknown;
  reverse_charge: boolean;
  lines: unknown;
  refunded_minor: bigint;
  credits_returned_minor: bigint;
  owed_reduced_minor: bigint;
  provider_refund_reference: string | null;
  bill_to: BillToSnapshot;
  seller: SellerSnapshot;
  issued_at: Date;
}

const creditNoteColumns = raw(`c.id, c.organization_id, c.invoice_id, i.number AS invoice_number, c.number, c.currency, c.reason,
  c.subtotal_minor, c.tax_minor, c.total_minor, c.tax_lines, c.reverse_charge, c.lines, c.refunded_minor, c.credits_returned_minor,
  c.owed_reduced_minor, c.provider_refund_reference, c.bill_to, c.seller, c.issued_at`);
const fromCreditNotes = raw('credit_notes c JOIN invoices i ON i.id = c.invoice_id');

function toLines(value: unknown): CreditNoteLine[] {
  if (!Array.isArray(value)) return [];
  return value.map((item: unknown) => {
    const amount = fieldOf(item, 'amountMinor');
    return { description: String(fieldOf(item, 'description') ?? ''), amountMinor: typeof amount === 'string' ? BigInt(amount) : 0n };
  });
}

function toCreditNote(row: CreditNoteRow): CreditNote {
  return {
    id: row.id,
    organizationId: row.organization_id,
    invoiceId: row.invoice_id,
    invoiceNumber: row.invoice_number,
    number: row.number,
    currency: row.currency,
    reason: row.reason,
    subtotalMinor: row.subtotal_minor,
    taxMinor: row.tax_minor,
    totalMinor: row.total_minor,
    taxLines: toTaxLines(row.tax_lines),
    reverseCharge: row.reverse_charge,
    lines: toLines(row.lines),
    refundedMinor: row.refunded_minor,
    creditsReturnedMinor: row.credits_returned_minor,
    owedReducedMinor: row.owed_reduced_minor,
    providerRefundReference: row.provider_refund_reference,
    // Copied from the invoice's snapshots, which are read through the invoice module's mapping.
    billTo: row.bill_to,
    seller: row.seller,
    issuedAt: row.issued_at,
  };
}

export type NewCreditNote = Omit<CreditNote, 'number' | 'invoiceNumber' | 'providerRefundReference'>;

/**
 * Takes the next number of the gap-free series (the counter row stays locked until the commit; a rollback gives the
 * number back) and writes the credit note. Returns its number.
 */
export async function insertCreditNote(tx: Queryable, note: NewCreditNote): Promise<string> {
  const lines = note.lines.map((line) => ({ description: line.description, amountMinor: line.amountMinor.toString() }));
  const { rows } = await tx.query<{ number: string }>(
    sql`WITH counter AS (
          UPDATE credit_note_number_counter SET last_number = last_number + 1 WHERE singleton RETURNING last_number
        )
        INSERT INTO credit_notes (id, organization_id, invoice_id, number, sequence_number, currency, reason, subtotal_minor, tax_minor,
                                  total_minor, tax_lines, reverse_charge, lines, refunded_minor, credits_returned_minor, owed_reduced_minor,
                                  bill_to, seller, issued_at)
        SELECT ${note.id}::uuid, ${note.organizationId}::uuid, ${note.invoiceId}::uuid,
               'CN-' || repeat('0', greatest(0, 6 - length(last_number::text))) || last_number::text, last_number,
               ${note.currency}, ${note.reason}, ${note.subtotalMinor}::int8, ${note.taxMinor}::int8, ${note.totalMinor}::int8,
               ${JSON.stringify(storedTaxLines(note.taxLines))}::jsonb, ${note.reverseCharge}, ${JSON.stringify(lines)}::jsonb,
               ${note.refundedMinor}::int8, ${note.creditsReturnedMinor}::int8, ${note.owedReducedMinor}::int8,
               ${JSON.stringify(note.billTo)}::jsonb, ${JSON.stringify(note.seller)}::jsonb, ${note.issuedAt}::timestamptz
          FROM counter
        RETURNING number`,
  );
  return rows[0]!.number;
}

export async function findCreditNote(db: Queryable, organizationId: string, creditNoteId: string): Promise<CreditNote | null> {
  const { rows } = await db.query<CreditNoteRow>(
    sql`SELECT ${creditNoteColumns} FROM ${fromCreditNotes} WHERE c.organization_id = ${organizationId}::uuid AND c.id = ${creditNoteId}::uuid`,
  );
  return rows[0] ? toCreditNote(rows[0]) : null;
}

export async function loadCreditNote(db: Queryable, organizationId: string, creditNoteId: string): Promise<CreditNote> {
  const note = await findCreditNote(db, organizationId, creditNoteId);
  if (!note) throw notFound('Credit note');
  return note;
}

/** The organization's credit notes, newest first. */
export async function listCreditNotesOf(db: Queryable, organizationId: string): Promise<CreditNote[]> {
  const { rows } = await db.query<CreditNoteRow>(
    sql`SELECT ${creditNoteColumns} FROM ${fromCreditNotes} WHERE c.organization_id = ${organizationId}::uuid
         ORDER BY c.issued_at DESC, c.sequence_number DESC`,
  );
  return rows.map(toCreditNote);
}

/** The credit notes of one invoice, oldest first (what they credited and settled so far). */
export async function listCreditNotesOfInvoice(db: Queryable, organizationId: string, invoiceId: string): Promise<CreditNote[]> {
  const { rows } = await db.query<CreditNoteRow>(
    sql`SELECT ${creditNoteColumns} FROM ${fromCreditNotes}
         WHERE c.organization_id = ${organizationId}::uuid AND c.invoice_id = ${invoiceId}::uuid ORDER BY c.sequence_number`,
  );
  return rows.map(toCreditNote);
}

export async function recordProviderRefund(tx: Queryable, organizationId: string, creditNoteId: string, reference: string): Promise<void> {
  await tx.query(
    sql`UPDATE credit_notes SET provider_refund_reference = ${reference}
         WHERE organization_id = ${organizationId}::uuid AND id = ${creditNoteId}::uuid`,
  );
}
