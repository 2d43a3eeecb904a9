import { formatMoney } from './money.js';

/** An invoiced organization may keep deploying while an invoice is unpaid for up to this many days. */
export const UNPAID_INVOICE_GRACE_DAYS = 7;
export const UNPAID_INVOICE_GRACE_MS = UNPAID_INVOICE_GRACE_DAYS * 86_400_000;

export const GOOD_STANDING_MESSAGE = 'Billing is in good standing.';
export const NO_CREDIT_MESSAGE = 'No credit left: add a credit code or move to a paid plan to keep deploying.';

export interface UnpaidInvoiceSummary {
  number: string;
  issuedAt: Date;
  totalMinor: bigint;
  currency: string;
}

export interface BillingStatusInput {
  planKind: 'credits' | 'invoiced';
  now: Date;
  unpaidInvoices: UnpaidInvoiceSummary[];
  creditBalanceMinor: bigint;
  /** Currency of the credit balance. */
  currency: string;
}

export interface BillingStatus {
  isValid: boolean;
  message: string;
}

const dateFormat = new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', month: 'short', day: 'numeric', year: 'numeric' });

/** True when the invoice has been unpaid for MORE than the grace period (exactly 7 days is still fine). */
export function isInvoiceOverdue(issuedAt: Date, now: Date): boolean {
  return now.getTime() - issuedAt.getTime() > UNPAID_INVOICE_GRACE_MS;
}

/**
 * Invoiced plans: invalid while an invoice is unpaid for more than UNPAID_INVOICE_GRACE_DAYS; the message
 * names the oldest such invoice (earliest issuedAt, then lowest number).
 * Credit plans: invalid when the credit balance is ≤ 0; unpaid invoices are not considered.
 */
export function evaluateBillingStatus(input: BillingStatusInput): BillingStatus {
  if (Number.isNaN(input.now.getTime())) throw new RangeError('now is an invalid date');

  if (input.planKind === 'credits') {
    if (input.creditBalanceMinor <= 0n) return { isValid: false, message: NO_CREDIT_MESSAGE };
    return {
      isValid: true,
      message: `${GOOD_STANDING_MESSAGE} Remaining credit: ${formatMoney(input.creditBalanceMinor, input.currency)}.`,
    };
  }

  let oldest: UnpaidInvoiceSummary | null = null;
  for (const invoice of input.unpaidInvoices) {
    if (!isInvoiceOverdue(invoice.issuedAt, input.now)) continue;
    if (
      oldest === null ||
      invoice.issuedAt.getTime() < oldest.issuedAt.getTime() ||
      (invoice.issuedAt.getTime() === oldest.issuedAt.getTime() && invoice.number < oldest.number)
    ) {
      oldest = invoice;
    }
  }
  if (oldest === null) return { isValid: true, message: GOOD_STANDING_MESSAGE };

  const amount = formatMoney(oldest.totalMinor, oldest.currency);
  const since = dateFormat.format(oldest.issuedAt);
  return {
    isValid: false,
    message: `Invoice ${oldest.number} of ${amount} has been unpaid since ${since}. Pay it or update your credit card to keep deploying.`,
  };
}
