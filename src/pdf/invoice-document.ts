/**
 * What an invoice PDF shows: a flat, already-resolved view of an invoice. The renderer does no
 * billing logic; amounts are integer minor units of `currency` and are only formatted.
 */
export interface InvoiceDocument {
  /** "Invoice" unless said otherwise ("Credit note"). */
  title?: string;
  /** e.g. "INV-000042" */
  number: string;
  /** The document this one refers to (a credit note's invoice number). */
  reference?: string | null;
  issuedAt: Date;
  periodStart: Date;
  periodEnd: Date;
  dueAt: Date | null;
  /** PAID, NOT_PAID, ... */
  status: string;
  /** ISO 4217 */
  currency: string;
  seller: { name: string; addressLines: string[]; taxId: string | null; email: string | null };
  billTo: {
    company: string | null;
    contactName: string | null;
    email: string | null;
    addressLines: string[];
    country: string | null;
    taxId: string | null;
  };
  /** Credits appear as a negative line. */
  lines: Array<{ description: string; quantity: string | null; amountMinor: bigint }>;
  subtotalMinor: bigint;
  /** One line per tax rate: its name and percentage, its base and amount. */
  taxLines?: Array<{ name: string; percentage: string; taxableMinor: bigint; taxMinor: bigint }>;
  /** A mention printed under the totals (the reverse-charge mention). */
  notice?: string | null;
  /** The credits deducted, as a positive amount (a negative value is shown the same way). */
  creditsAppliedMinor: bigint;
  totalMinor: bigint;
}
