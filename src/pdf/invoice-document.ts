/**
 * What an invoice or credit note PDF shows: a flat view of the document as it was frozen at issue. The renderer does
 * no billing logic and prints no payment status (a document never changes once issued; payment is the API's status).
 * Amounts are integer minor units of `currency` and are only formatted.
 */

/** An invoice, or a credit note correcting one (its own number, and the number of the invoice it refers to). */
export type DocumentKind = 'invoice' | 'credit_note';

export interface DocumentParty {
  addressLines: string[];
  /** The country's English name. */
  country?: string | null;
  taxId: string | null;
}

export interface DocumentSeller extends DocumentParty {
  name: string;
  email: string | null;
}

export interface DocumentBillTo extends DocumentParty {
  company: string | null;
  contactName: string | null;
  /** Shown only when nothing else names or locates the customer. */
  email: string | null;
}

/** A row of the table: quantity × unit price = amount when both are set. */
export interface DocumentLinePart {
  description: string;
  quantity: string | null;
  unitPriceMinor?: bigint | null;
  amountMinor: bigint;
}

export interface DocumentLine extends DocumentLinePart {
  /** What the amount is made of (a cluster's fixed part, usage and cap), printed under the line. */
  parts?: DocumentLinePart[];
}

/** One tax rate: its base (taxable amount) and its tax. */
export interface DocumentTaxLine {
  name: string;
  /** Exact decimal string: "20", "8.875". */
  percentage: string;
  taxableMinor: bigint;
  taxMinor: bigint;
}

export interface InvoiceDocument {
  /** Default `invoice`. */
  kind?: DocumentKind;
  /** e.g. "INV-000042", "CN-000001" */
  number: string;
  /** A credit note: the number of the invoice it corrects. */
  refersToNumber?: string | null;
  /** A credit note: why it was issued. */
  reason?: string | null;
  issuedAt: Date;
  /** The billing period, its last day inclusive; null when the document covers none. */
  periodStart: Date | null;
  periodEnd: Date | null;
  dueAt: Date | null;
  paymentTerms: string | null;
  /** ISO 4217: printed beside every amount. */
  currency: string;
  seller: DocumentSeller;
  billTo: DocumentBillTo;
  /** Credits appear as a negative line. */
  lines: DocumentLine[];
  subtotalMinor: bigint;
  /** One line per rate; none: no tax rows at all. */
  taxLines: DocumentTaxLine[];
  /** The EU reverse-charge mention is printed. */
  reverseCharge: boolean;
  /** The credits deducted, as a positive amount (a negative value is shown the same way); 0: no credits row. */
  creditsAppliedMinor: bigint;
  totalMinor: bigint;
}

/** The mention a reverse-charge document carries (the tax rule's own words). */
export { REVERSE_CHARGE_MENTION } from '../domain/tax.js';
