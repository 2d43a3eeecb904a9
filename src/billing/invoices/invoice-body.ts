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
  unit_price_in_cents: number | null;
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
  tax_in_cents: number;
  tax_lines: { name: string; percentage: string; taxable_in_cents: number; tax_in_cents: number }[];
  reverse_charge: boolean;
  payment_action_url: string | null;
  refunded_in_cents: number;
  dispute: { amount_in_cents: number; reason: string; opened_at: string } | null;
  lines?: InvoiceLineBody[];
}

export function presentInvoice(invoice: Invoice, lines?: readonly Pick<InvoiceLineRecord, 'kind' | 'description' | 'quantity' | 'unitPriceMinor' | 'amountMinor'>[]): InvoiceBody {
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
    tax_in_cents: toSafeInteger(invoice.taxMinor),
    tax_lines: invoice.taxLines.map((line) => ({
      name: line.name,
      percentage: line.percentage,
      taxable_in_cents: toSafeInteger(line.taxableMinor),
      tax_in_cents: toSafeInteger(line.taxMinor),
    })),
    reverse_charge: invoice.reverseCharge,
    payment_action_url: invoice.status === 'PENDING' ? invoice.paymentActionUrl : null,
    refunded_in_cents: toSafeInteger(invoice.refundedMinor),
    dispute:
      invoice.disputedAt === null
        ? null
        : { amount_in_cents: toSafeInteger(invoice.disputedMinor ?? 0n), reason: invoice.disputeReason ?? 'unknown', opened_at: invoice.disputedAt.toISOString() },
    ...(lines
      ? {
          lines: lines.map((line) => ({
            kind: line.kind,
            description: line.description,
            quantity: line.quantity,
            unit_price_in_cents: line.unitPriceMinor === null ? null : toSafeInteger(line.unitPriceMinor),
            amount_in_cents: toSafeInteger(line.amountMinor),
            amount: toMajorUnitsNumber(line.amountMinor, invoice.currency),
          })),
        }
      : {}),
  };
}
