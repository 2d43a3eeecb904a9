/**
 * An invoice as the organization API answers it (`GET /organization/{id}/invoice/{invoiceId}` with its lines, the
 * list without): one presenter for the route and for the events that carry the invoice.
 */
import type { InvoiceStatus } from '../../domain/invoice-status.js';
import { toMajorUnitsNumber, toSafeInteger } from '../../domain/money.js';
import type { Invoice } from './invoice.js';
import type { InvoiceLineRecord } from './invoice-lines.js';

export interface InvoiceLineBody {
  kind: InvoiceLineRecord['kind'];
  description: string;
  quantity: string | null;
  amount_in_cents: number;
  amount: number;
}

export interface InvoiceBody {
  id: string;
  created_at: string;
  status: InvoiceStatus;
  total_in_cents: number;
  total: number;
  currency_code: string;
  number: string;
  period_start: string;
  period_end: string;
  due_at: string | null;
  paid_at: string | null;
  subtotal_in_cents: number;
  credits_applied_in_cents: number;
  lines?: InvoiceLineBody[];
}

export function presentInvoice(invoice: Invoice, lines?: readonly Pick<InvoiceLineRecord, 'kind' | 'description' | 'quantity' | 'amountMinor'>[]): InvoiceBody {
  return {
    id: invoice.id,
    created_at: invoice.issuedAt.toISOString(),
    status: invoice.status,
    total_in_cents: toSafeInteger(invoice.totalMinor),
    total: toMajorUnitsNumber(invoice.totalMinor, invoice.currency),
    currency_code: invoice.currency,
    number: invoice.number,
    period_start: invoice.periodStart.toISOString(),
    period_end: invoice.periodEnd.toISOString(),
    due_at: invoice.dueAt?.toISOString() ?? null,
    paid_at: invoice.paidAt?.toISOString() ?? null,
    subtotal_in_cents: toSafeInteger(invoice.subtotalMinor),
    credits_applied_in_cents: toSafeInteger(invoice.creditsAppliedMinor),
    ...(lines
      ? {
          lines: lines.map((line) => ({
            kind: line.kind,
            description: line.description,
            quantity: line.quantity,
            amount_in_cents: toSafeInteger(line.amountMinor),
            amount: toMajorUnitsNumber(line.amountMinor, invoice.currency),
          })),
        }
      : {}),
  };
}
