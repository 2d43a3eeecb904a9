/**
 * The invoice events (`invoice.created`, `invoice.paid`, `invoice.payment_failed`, `invoice.voided`) and
 * `credits.depleted` when an invoice uses the last credits. `data.invoice` is the invoice as
 * `GET /organization/{id}/invoice/{invoiceId}` answers it.
 */
import sql, { type Sql } from 'sql-template-tag';
import type { Queryable } from '../../db/database.js';
import { jsonRows } from '../../db/json-rows.js';
import type { BillingPeriod } from '../../domain/billing-period.js';
import type { InvoiceStatus } from '../../domain/invoice-status.js';
import { insertBillingEvent, recordBillingEvent } from '../../events/billing-event.js';
import type { BillingEventType } from '../../events/event-types.js';
import { presentInvoice } from './invoice-body.js';
import { loadInvoiceWithLines, type Invoice } from './invoice.js';

/** The event a change of status announces, if any. */
export function invoiceStatusEventType(status: InvoiceStatus): BillingEventType | null {
  if (status === 'PAID') return 'invoice.paid';
  if (status === 'VOIDED') return 'invoice.voided';
  return null;
}

/** Reads the invoice as it is now in the transaction and writes the event carrying it (with `extra` fields). */
export async function recordInvoiceEvent(
  tx: Queryable,
  now: Date,
  type: BillingEventType,
  organizationId: string,
  invoiceId: string,
  extra: Record<string, unknown> = {},
): Promise<void> {
  const invoice = await loadInvoiceWithLines(tx, organizationId, invoiceId);
  await recordBillingEvent(tx, now, { type, organizationId, data: { invoice: presentInvoice(invoice, invoice.lines), ...extra } });
}

export interface IssuedInvoiceEvents {
  invoice: Invoice;
  lines: Parameters<typeof presentInvoice>[1];
  /** The invoice used the organization's last credits. */
  depletesCredits: boolean;
}

/**
 * For the invoice writer's statement: `invoice.created` for each invoice written (and `invoice.paid` for one settled
 * at issue, `credits.depleted` for one that used the last credits), numbered by the statement (`written` is its CTE
 * of `id, organization_id, number`). Written in the same statement, so they exist exactly when the invoices do.
 */
export function insertIssuedInvoiceEvents(issued: readonly IssuedInvoiceEvents[], now: Date, written: Sql): Sql {
  const rows = issued.flatMap(({ invoice, lines, depletesCredits }) => {
    const body = { invoice: presentInvoice(invoice, lines) };
    const events: Array<{ invoice_id: string; type: BillingEventType; data: object }> = [{ invoice_id: invoice.id, type: 'invoice.created', data: body }];
    if (invoice.status === 'PAID') events.push({ invoice_id: invoice.id, type: 'invoice.paid', data: body });
    if (depletesCredits) events.push({ invoice_id: invoice.id, type: 'credits.depleted', data: { balance_in_cents: 0, currency: invoice.currency, invoice_id: invoice.id } });
    return events;
  });
  // The number is known only inside the statement: it goes into each invoice body there.
  const withNumber = sql`CASE WHEN event.type LIKE 'invoice.%'
      THEN jsonb_set(event.data, '{invoice,number}', to_jsonb(${written}.number)) ELSE event.data END`;
  return insertBillingEvent(
    now,
    { type: sql`event.type`, organizationId: sql`${written}.organization_id`, data: withNumber },
    sql`${jsonRows(rows, 'event', 'invoice_id uuid, type text, data jsonb')}
        JOIN ${written} ON ${written}.id = event.invoice_id`,
  );
}

/** The invoice as written at issue, before its number is known (for `insertIssuedInvoiceEvents`). */
export function issuedInvoice(values: {
  id: string;
  organizationId: string;
  period: BillingPeriod;
  planCode: string;
  planKind: Invoice['planKind'];
  currency: string;
  status: InvoiceStatus;
  subtotalMinor: bigint;
  creditsAppliedMinor: bigint;
  totalMinor: bigint;
  billTo: Invoice['billTo'];
  seller: Invoice['seller'];
  issuedAt: Date;
  dueAt: Date;
  paymentTerms: string | null;
  taxMinor: bigint;
  taxLines: Invoice['taxLines'];
  reverseCharge: boolean;
}): Invoice {
  return {
    id: values.id,
    organizationId: values.organizationId,
    number: '',
    sequenceNumber: 0n,
    periodStart: values.period.start,
    periodEnd: values.period.end,
    planCode: values.planCode,
    planKind: values.planKind,
    currency: values.currency,
    status: values.status,
    subtotalMinor: values.subtotalMinor,
    creditsAppliedMinor: values.creditsAppliedMinor,
    totalMinor: values.totalMinor,
    billTo: values.billTo,
    seller: values.seller,
    issuedAt: values.issuedAt,
    dueAt: values.dueAt,
    paidAt: values.status === 'PAID' ? values.issuedAt : null,
    voidedAt: null,
    paymentAttempts: 0,
    nextPaymentAttemptAt: values.status === 'PENDING' ? values.issuedAt : null,
    lastPaymentError: null,
    providerChargeReference: null,
    lastPaymentMethodId: null,
    paymentActionUrl: null,
    refundedMinor: 0n,
    disputedMinor: null,
    disputeReason: null,
    disputedAt: null,
    paymentTerms: values.paymentTerms,
    taxMinor: values.taxMinor,
    taxLines: values.taxLines,
    reverseCharge: values.reverseCharge,
    creditedMinor: 0n,
    owedReducedMinor: 0n,
  };
}
