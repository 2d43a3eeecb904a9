/** What every change of an invoice's status does besides the UPDATE itself, in the same transaction. */
import { recordAuditEvent } from '../../audit/record-audit-event.js';
import type { Queryable } from '../../db/database.js';
import type { Caller } from '../../domain/actor.js';
import type { InvoiceStatus } from '../../domain/invoice-status.js';
import type { Invoice } from './invoice.js';
import { invoiceStatusEventType, recordInvoiceEvent } from './invoice-events.js';

export const INVOICE_STATUS_CHANGE = 'INVOICE_STATUS_CHANGE';

/**
 * Audits `INVOICE_STATUS_CHANGE` with the old and new status and writes the `invoice.paid` / `invoice.voided` event
 * (call it after the UPDATE: the event carries the invoice as it is now). The invoice's document does not change: it
 * never shows the status. Nothing happens when the status stays the same.
 */
export async function recordInvoiceStatusChange(
  tx: Queryable,
  caller: Caller,
  now: Date,
  invoice: Invoice,
  newStatus: InvoiceStatus,
  details: Record<string, unknown> = {},
): Promise<void> {
  if (invoice.status === newStatus) return;
  await recordAuditEvent(tx, caller, now, {
    organizationId: invoice.organizationId,
    type: INVOICE_STATUS_CHANGE,
    changes: { invoiceId: invoice.id, invoiceNumber: invoice.number, status: { old: invoice.status, new: newStatus }, ...details },
  });
  const eventType = invoiceStatusEventType(newStatus);
  if (eventType) await recordInvoiceEvent(tx, now, eventType, invoice.organizationId, invoice.id);
}
