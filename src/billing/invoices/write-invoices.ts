/**
 * The invoice writer: numbers a batch of composed invoices from the gap-free counter and writes them whole (the
 * invoice, its lines, the credits it uses, its audit event) in ONE statement, meant to run right before the commit.
 */
import sql, { raw, type Sql } from 'sql-template-tag';
import { insertAuditEvent } from '../../audit/record-audit-event.js';
import type { Queryable } from '../../db/database.js';
import { jsonRows } from '../../db/json-rows.js';
import type { Caller } from '../../domain/actor.js';
import { addDays, type BillingPeriod } from '../../domain/billing-period.js';
import { UNPAID_INVOICE_GRACE_DAYS } from '../../domain/billing-status.js';
import type { ComposedInvoice } from '../../domain/invoice-math.js';
import type { InvoiceStatus } from '../../domain/invoice-status.js';
import { paymentTerms } from '../../domain/payment-terms.js';
import { insertLedgerEntry } from '../credits/credit-ledger.js';
import type { PlanKind } from '../plans/plan.js';
import type { BillToSnapshot, SellerSnapshot } from './invoice.js';
import { insertInvoiceLines, type NewInvoiceLine } from './invoice-lines.js';
import { insertIssuedInvoiceEvents, issuedInvoice } from './invoice-events.js';
import { storedTaxLines } from './invoice-tax-lines.js';

export const INVOICE_ISSUE = 'INVOICE_ISSUE';

/** An invoice composed in memory, ready to be numbered and written. */
export interface InvoiceToWrite {
  invoiceId: string;
  organizationId: string;
  /** The plan at the end of the period: it decides how the invoice is paid. */
  plan: { code: string; kind: PlanKind };
  currency: string;
  status: InvoiceStatus;
  composed: ComposedInvoice;
  /** The cluster of each usage line, in order. */
  clusterIds: string[];
  billTo: BillToSnapshot;
  /** Reverse charge applies (no VAT; the invoice carries the mention). */
  reverseCharge: boolean;
  /** The invoice uses the organization's last credits (`credits.depleted`). */
  depletesCredits?: boolean;
}

/** Who issues a batch, read once per batch from the seller settings and frozen into each invoice. */
export interface InvoiceIssuer {
  seller: SellerSnapshot;
  /** Numbers are this prefix and the zero-padded sequence number: `INV-000042`. */
  numberPrefix: string;
}

/** The CTE of the invoices the statement wrote (`id`, `organization_id`, `number`): lines, credits and events follow it. */
const written = raw('invoice');

/** The ledger row of the credits each invoice uses (reason `invoice`, referencing it by id and number). */
function insertInvoiceCreditUse(invoices: readonly InvoiceToWrite[], at: Date): Sql {
  const using = invoices.filter((invoice) => invoice.composed.creditsAppliedMinor > 0n);
  const uses = sql`unnest(${using.map((invoice) => invoice.invoiceId)}::uuid[],
                          ${using.map((invoice) => invoice.composed.creditsAppliedMinor.toString())}::text[],
                          ${using.map((invoice) => invoice.currency)}::text[]) AS entry(invoice_id, amount_minor, currency)
    JOIN ${written} ON ${written}.id = entry.invoice_id`;
  return insertLedgerEntry(
    {
      id: sql`gen_random_uuid()`,
      organizationId: sql`${written}.organization_id`,
      amountMinor: sql`-entry.amount_minor::int8`,
      currency: sql`entry.currency`,
      reason: 'invoice',
      reference: sql`${written}.id::text`,
      description: sql`'Invoice ' || ${written}.number`,
      createdAt: at,
    },
    uses,
  );
}

/** The INVOICE_ISSUE event of each invoice written, with its number once the statement knows it. */
function insertIssueEvents(caller: Caller, period: BillingPeriod, invoices: readonly InvoiceToWrite[], at: Date): Sql {
  const rows = invoices.map((invoice) => ({
    invoice_id: invoice.invoiceId,
    changes: {
      invoiceId: invoice.invoiceId,
      periodStart: period.start.toISOString(),
      periodEnd: period.end.toISOString(),
      plan: invoice.plan.code,
      status: invoice.status,
      currency: invoice.currency,
      subtotalMinor: invoice.composed.subtotalMinor,
      taxMinor: invoice.composed.taxMinor,
      reverseCharge: invoice.reverseCharge,
      creditsAppliedMinor: invoice.composed.creditsAppliedMinor,
      totalMinor: invoice.composed.totalMinor,
    },
  }));
  const events = sql`${jsonRows(rows, 'event', 'invoice_id uuid, changes jsonb')}
    JOIN ${written} ON ${written}.id = event.invoice_id`;
  return insertAuditEvent(
    caller,
    at,
    {
      organizationId: sql`${written}.organization_id`,
      type: INVOICE_ISSUE,
      changes: sql`event.changes || jsonb_build_object('invoiceNumber', ${written}.number)`,
    },
    events,
  );
}

/** The webhook events of the invoices written (see `insertIssuedInvoiceEvents`). */
function insertBillingEventsOf(period: BillingPeriod, seller: SellerSnapshot, invoices: readonly InvoiceToWrite[], now: Date): Sql {
  const issued = invoices.map((invoice) => ({
    invoice: issuedInvoice({
      id: invoice.invoiceId,
      organizationId: invoice.organizationId,
      period,
      planCode: invoice.plan.code,
      planKind: invoice.plan.kind,
      currency: invoice.currency,
      status: invoice.status,
      subtotalMinor: invoice.composed.subtotalMinor,
      creditsAppliedMinor: invoice.composed.creditsAppliedMinor,
      totalMinor: invoice.composed.totalMinor,
      billTo: invoice.billTo,
      seller,
      issuedAt: now,
      dueAt: addDays(now, UNPAID_INVOICE_GRACE_DAYS),
      paymentTerms: paymentTerms(invoice.plan.kind, UNPAID_INVOICE_GRACE_DAYS),
      taxMinor: invoice.composed.taxMinor,
      taxLines: invoice.composed.taxLines,
      reverseCharge: invoice.reverseCharge,
    }),
    lines: invoice.composed.lines.map((line) => ({ ...line, unitPriceMinor: line.unitPriceMinor ?? null })),
    depletesCredits: invoice.depletesCredits ?? false,
  }));
  return insertIssuedInvoiceEvents(issued, now, written);
}

function invoiceLines(invoices: readonly InvoiceToWrite[]): NewInvoiceLine[] {
  return invoices.flatMap((invoice) => {
    let usageIndex = 0;
    return invoice.composed.lines.map((line, index) => ({
      ...line,
      invoiceId: invoice.invoiceId,
      organizationId: invoice.organizationId,
      position: index + 1,
      clusterId: line.kind === 'usage' ? (invoice.clusterIds[usageIndex++] ?? null) : null,
    }));
  });
}

/**
 * Takes the numbers of the whole batch from the counter and writes the invoices with everything that belongs to
 * them. The counter row stays locked until the commit, so nothing else should happen after this statement.
 * Returns invoice id → number for the invoices written; one that already exists (organization and period) is
 * skipped, and the caller then rolls back, which gives every number back.
 */
export async function writeInvoices(
  tx: Queryable,
  caller: Caller,
  period: BillingPeriod,
  issuer: InvoiceIssuer,
  invoices: readonly InvoiceToWrite[],
  now: Date,
): Promise<Map<string, string>> {
  const count = invoices.length;
  const at = now.toISOString();
  const items = invoices.map((invoice, index) => ({
    ordinal: index + 1,
    id: invoice.invoiceId,
    organization_id: invoice.organizationId,
    plan_code: invoice.plan.code,
    plan_kind: invoice.plan.kind,
    currency: invoice.currency,
    status: invoice.status,
    subtotal_minor: invoice.composed.subtotalMinor,
    credits_applied_minor: invoice.composed.creditsAppliedMinor,
    total_minor: invoice.composed.totalMinor,
    bill_to: invoice.billTo,
    // Settled at issue: paid now. An invoiced plan's charge is queued with the invoice: its first attempt is now.
    paid_at: invoice.status === 'PAID' ? at : null,
    next_payment_attempt_at: invoice.status === 'PENDING' ? at : null,
    // Frozen with the invoice: what its document shows besides the lines.
    payment_terms: paymentTerms(invoice.plan.kind, UNPAID_INVOICE_GRACE_DAYS),
    tax_minor: invoice.composed.taxMinor,
    tax_lines: storedTaxLines(invoice.composed.taxLines),
    reverse_charge: invoice.reverseCharge,
  }));
  const { rows } = await tx.query<{ id: string; number: string }>(
    sql`WITH counter AS (
          UPDATE invoice_number_counter SET last_number = last_number + ${count}::int8 WHERE singleton RETURNING last_number
        ), numbered AS (
          SELECT item.*, counter.last_number - ${count}::int8 + item.ordinal AS sequence_number
            FROM counter,
                 ${jsonRows(
                   items,
                   'item',
                   `ordinal int8, id uuid, organization_id uuid, plan_code text, plan_kind text, currency text, status text,
                    subtotal_minor int8, credits_applied_minor int8, total_minor int8, bill_to jsonb, paid_at timestamptz,
                    next_payment_attempt_at timestamptz, payment_terms text, tax_minor int8, tax_lines jsonb, reverse_charge boolean`,
                 )}
        ), ${written} AS (
          INSERT INTO invoices (id, organization_id, number, sequence_number, period_start, period_end, plan_code, plan_kind, currency,
                                status, subtotal_minor, credits_applied_minor, total_minor, bill_to, seller, issued_at, due_at,
                                paid_at, next_payment_attempt_at, created_at, payment_terms, tax_minor, tax_lines, reverse_charge)
          SELECT id, organization_id,
                 ${issuer.numberPrefix}::text || repeat('0', greatest(0, 6 - length(sequence_number::text))) || sequence_number::text,
                 sequence_number, ${period.start}::timestamptz, ${period.end}::timestamptz, plan_code, plan_kind, currency, status,
                 subtotal_minor, credits_applied_minor, total_minor, bill_to, ${JSON.stringify(issuer.seller)}::jsonb,
                 ${now}::timestamptz, ${addDays(now, UNPAID_INVOICE_GRACE_DAYS)}::timestamptz, paid_at, next_payment_attempt_at,
                 ${now}::timestamptz, payment_terms, tax_minor, tax_lines, reverse_charge
            FROM numbered
           ORDER BY sequence_number
          ON CONFLICT (organization_id, period_start) DO NOTHING
          RETURNING id, organization_id, number
        ), lines AS (
          ${insertInvoiceLines(invoiceLines(invoices), written)} RETURNING 1
        ), credit_use AS (
          ${insertInvoiceCreditUse(invoices, now)} RETURNING 1
        ), issue_events AS (
          ${insertIssueEvents(caller, period, invoices, now)} RETURNING 1
        ), billing_events AS (
          ${insertBillingEventsOf(period, issuer.seller, invoices, now)} RETURNING 1
        )
        SELECT id, number FROM ${written}`,
    { prepare: 'write_invoices' },
  );
  return new Map(rows.map((row) => [row.id, row.number]));
}
