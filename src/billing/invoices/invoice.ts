/**
 * The `invoices` table: the invoice as the core sees it (columns, row, mapping) and its reads. Every read names the
 * organization: another organization's invoice is not found, exactly like an unknown id.
 */
import sql, { empty, raw } from 'sql-template-tag';
import type { Queryable } from '../../db/database.js';
import type { InvoiceStatus } from '../../domain/invoice-status.js';
import { notFound } from '../../errors.js';
import { fieldOf } from '../../jobs/job-payload.js';
import type { PlanKind } from '../plans/plan.js';
import type { TaxLine } from '../../domain/tax.js';
import { loadInvoiceLines, type InvoiceLineRecord } from './invoice-lines.js';
import { toTaxLines } from './invoice-tax-lines.js';

/** Who the invoice is addressed to, as it was when the invoice was issued. */
export interface BillToSnapshot {
  company: string | null;
  contactName: string | null;
  /** Set only when nothing else identifies or locates the customer. */
  email: string | null;
  addressLines: string[];
  /** ISO 3166-1 alpha-2, and its English name for documents. */
  country: string | null;
  countryName: string | null;
  taxId: string | null;
}

/** Who issued the invoice, as the seller settings were when it was issued. */
export interface SellerSnapshot {
  name: string;
  /** Street lines, then "postal code city", then the state. */
  addressLines: string[];
  /** ISO 3166-1 alpha-2, and its English name for documents (null on invoices issued before the seller had one). */
  country: string | null;
  countryName: string | null;
  taxId: string | null;
  email: string | null;
}

export interface Invoice {
  id: string;
  organizationId: string;
  number: string;
  sequenceNumber: bigint;
  periodStart: Date;
  /** Exclusive. */
  periodEnd: Date;
  planCode: string;
  planKind: PlanKind;
  currency: string;
  status: InvoiceStatus;
  subtotalMinor: bigint;
  /** Tax on the subtotal, one line per rate (see domain/tax.ts); included in the total. */
  taxMinor: bigint;
  taxLines: TaxLine[];
  reverseCharge: boolean;
  creditsAppliedMinor: bigint;
  totalMinor: bigint;
  /** What credit notes have credited so far (subtotal + tax of each). */
  creditedMinor: bigint;
  /** How much of the total credit notes took off what is owed: the amount due is total − this. */
  owedReducedMinor: bigint;
  billTo: BillToSnapshot;
  seller: SellerSnapshot;
  /** What the document says about paying it (null on invoices issued before terms were stated). */
  paymentTerms: string | null;
  issuedAt: Date;
  dueAt: Date | null;
  paidAt: Date | null;
  voidedAt: Date | null;
  paymentAttempts: number;
  nextPaymentAttemptAt: Date | null;
  lastPaymentError: string | null;
  providerChargeReference: string | null;
  lastPaymentMethodId: string | null;
  /** Where the customer authenticates the pending charge (strong customer authentication). */
  paymentActionUrl: string | null;
  /** Refunded so far, as the payment provider reports it. */
  refundedMinor: bigint;
  /** A dispute (chargeback) the card holder opened, as the payment provider reports it. */
  disputedMinor: bigint | null;
  disputeReason: string | null;
  disputedAt: Date | null;
}

export interface InvoiceWithLines extends Invoice {
  lines: InvoiceLineRecord[];
}

interface InvoiceRow {
  id: string;
  organization_id: string;
  number: string;
  sequence_number: bigint;
  period_start: Date;
  period_end: Date;
  plan_code: string;
  plan_kind: PlanKind;
  currency: string;
  status: InvoiceStatus;
  subtotal_minor: bigint;
  tax_minor: bigint;
  tax_lines: unknown;
  reverse_charge: boolean;
  credits_applied_minor: bigint;
  total_minor: bigint;
  credited_minor: bigint;
  owed_reduced_minor: bigint;
  bill_to: unknown;
  seller: unknown;
  payment_terms: string | null;
  issued_at: Date;
  due_at: Date | null;
  paid_at: Date | null;
  voided_at: Date | null;
  payment_attempts: number;
  next_payment_attempt_at: Date | null;
  last_payment_error: string | null;
  provider_charge_reference: string | null;
  last_payment_method_id: string | null;
  payment_action_url: string | null;
  refunded_minor: bigint;
  disputed_minor: bigint | null;
  dispute_reason: string | null;
  disputed_at: Date | null;
}

const invoiceColumns = raw(`id, organization_id, number, sequence_number, period_start, period_end, plan_code, plan_kind, currency,
  status, subtotal_minor, credits_applied_minor, total_minor, bill_to, seller, payment_terms, issued_at, due_at, paid_at, voided_at,
  payment_attempts, next_payment_attempt_at, last_payment_error, provider_charge_reference, last_payment_method_id,
  tax_minor, tax_lines, reverse_charge, credited_minor, owed_reduced_minor,
  payment_action_url, refunded_minor, disputed_minor, dispute_reason, disputed_at`);

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

/** The postal part that the bill-to and seller snapshots share, read from their jsonb. */
function toSnapshotAddress(value: unknown): Pick<BillToSnapshot, 'addressLines' | 'country' | 'countryName' | 'taxId'> {
  return {
    addressLines: stringList(fieldOf(value, 'addressLines')),
    country: stringOrNull(fieldOf(value, 'country')),
    countryName: stringOrNull(fieldOf(value, 'countryName')),
    taxId: stringOrNull(fieldOf(value, 'taxId')),
  };
}

/** jsonb comes back parsed from both drivers; read it field by field rather than trusting its shape. */
function toBillTo(value: unknown): BillToSnapshot {
  return {
    company: stringOrNull(fieldOf(value, 'company')),
    contactName: stringOrNull(fieldOf(value, 'contactName')),
    email: stringOrNull(fieldOf(value, 'email')),
    ...toSnapshotAddress(value),
  };
}

function toSeller(value: unknown): SellerSnapshot {
  return {
    name: stringOrNull(fieldOf(value, 'name')) ?? '',
    ...toSnapshotAddress(value),
    email: stringOrNull(fieldOf(value, 'email')),
  };
}

function toInvoice(row: InvoiceRow): Invoice {
  return {
    id: row.id,
    organizationId: row.organization_id,
    number: row.number,
    sequenceNumber: row.sequence_number,
    periodStart: row.period_start,
    periodEnd: row.period_end,
    planCode: row.plan_code,
    planKind: row.plan_kind,
    currency: row.currency,
    status: row.status,
    subtotalMinor: row.subtotal_minor,
    taxMinor: row.tax_minor,
    taxLines: toTaxLines(row.tax_lines),
    reverseCharge: row.reverse_charge,
    creditsAppliedMinor: row.credits_applied_minor,
    totalMinor: row.total_minor,
    creditedMinor: row.credited_minor,
    owedReducedMinor: row.owed_reduced_minor,
    billTo: toBillTo(row.bill_to),
    seller: toSeller(row.seller),
    paymentTerms: row.payment_terms,
    issuedAt: row.issued_at,
    dueAt: row.due_at,
    paidAt: row.paid_at,
    voidedAt: row.voided_at,
    paymentAttempts: row.payment_attempts,
    nextPaymentAttemptAt: row.next_payment_attempt_at,
    lastPaymentError: row.last_payment_error,
    providerChargeReference: row.provider_charge_reference,
    lastPaymentMethodId: row.last_payment_method_id,
    paymentActionUrl: row.payment_action_url,
    refundedMinor: BigInt(row.refunded_minor),
    disputedMinor: row.disputed_minor === null ? null : BigInt(row.disputed_minor),
    disputeReason: row.dispute_reason,
    disputedAt: row.disputed_at,
  };
}

/** The invoice, or null; `forUpdate` locks its row until the end of the transaction. */
export async function findInvoice(db: Queryable, organizationId: string, invoiceId: string, forUpdate = false): Promise<Invoice | null> {
  const { rows } = await db.query<InvoiceRow>(
    sql`SELECT ${invoiceColumns} FROM invoices WHERE organization_id = ${organizationId}::uuid AND id = ${invoiceId}::uuid
        ${forUpdate ? raw('FOR UPDATE') : empty}`,
  );
  return rows[0] ? toInvoice(rows[0]) : null;
}

export async function loadInvoice(db: Queryable, organizationId: string, invoiceId: string, forUpdate = false): Promise<Invoice> {
  const invoice = await findInvoice(db, organizationId, invoiceId, forUpdate);
  if (!invoice) throw notFound('Invoice');
  return invoice;
}

export async function loadInvoiceWithLines(db: Queryable, organizationId: string, invoiceId: string): Promise<InvoiceWithLines> {
  const invoice = await loadInvoice(db, organizationId, invoiceId);
  return { ...invoice, lines: await loadInvoiceLines(db, organizationId, invoiceId) };
}

/** The organization's invoices, newest first. */
export async function listInvoicesOf(db: Queryable, organizationId: string): Promise<Invoice[]> {
  const { rows } = await db.query<InvoiceRow>(
    sql`SELECT ${invoiceColumns} FROM invoices WHERE organization_id = ${organizationId}::uuid
         ORDER BY issued_at DESC, sequence_number DESC`,
  );
  return rows.map(toInvoice);
}

/**
 * Invoices of every organization (the one read that names none: operators only), newest first, optionally in one
 * status, after the invoice `afterId` of the previous page.
 */
export async function listInvoicesOfAllOrganizations(
  db: Queryable,
  options: { status: InvoiceStatus | null; afterId: string | null; limit: number },
): Promise<Invoice[]> {
  const { rows } = await db.query<InvoiceRow>(
    sql`SELECT ${invoiceColumns} FROM invoices
         WHERE (${options.status}::text IS NULL OR status = ${options.status}::text)
           AND (${options.afterId}::uuid IS NULL
                OR (issued_at, id) < (SELECT issued_at, id FROM invoices WHERE id = ${options.afterId}::uuid))
         ORDER BY issued_at DESC, id DESC
         LIMIT ${options.limit}::int`,
  );
  return rows.map(toInvoice);
}

/**
 * The invoice a payment provider's event is about (system use: names no organization), locked when `forUpdate`:
 * by our invoice id when the payment carries it, else by the payment reference Bursar stored when charging.
 */
export async function findInvoiceOfProviderPayment(
  db: Queryable,
  payment: { invoiceId: string | null; paymentReference: string | null },
  forUpdate = false,
): Promise<Invoice | null> {
  if (payment.invoiceId === null && payment.paymentReference === null) return null;
  const { rows } = await db.query<InvoiceRow>(
    sql`SELECT ${invoiceColumns} FROM invoices
         WHERE ${payment.invoiceId === null ? sql`provider_charge_reference = ${payment.paymentReference}::text` : sql`id = ${payment.invoiceId}::uuid`}
        ${forUpdate ? raw('FOR UPDATE') : empty}`,
  );
  return rows[0] ? toInvoice(rows[0]) : null;
}

/** The organization an invoice belongs to (operator routes address invoices by id alone). */
export async function organizationOfInvoice(db: Queryable, invoiceId: string): Promise<string> {
  const { rows } = await db.query<{ organization_id: string }>(sql`SELECT organization_id FROM invoices WHERE id = ${invoiceId}::uuid`);
  if (!rows[0]) throw notFound('Invoice');
  return rows[0].organization_id;
}
