import { formatMoney } from './money.js';

/** An invoiced organization may keep deploying while an invoice is unpaid for up to this many days. */
export const UNPAID_INVOICE_GRACE_DAYS = 7;
export const UNPAID_INVOICE_GRACE_MS = UNPAID_INVOICE_GRACE_DAYS * 86_400_000;

export const GOOD_STANDING_MESSAGE = 'Billing is in good standing.';
export const NO_CREDIT_MESSAGE = 'No credit left: add a credit code or move to a paid plan to keep deploying.';
export const NO_CREDIT_CARD_MESSAGE = 'No usable credit card: add one to deploy on managed clusters (demo resources stay available).';

/**
 * Why an organization may not deploy freely, as a stable machine code (the `billing_deployment_restriction` of an
 * Organization and the `reason` of its billing status); null when nothing restricts it.
 * - `NO_CREDIT_CARD`: an invoiced plan without a usable (unexpired) card; billing is still valid, the platform may
 *   allow demo resources only;
 * - `INVOICE_UNPAID`: an invoice unpaid for more than the grace period; billing is invalid;
 * - `NO_CREDIT_LEFT`: a credits plan whose balance is used up; billing is invalid.
 */
export const BILLING_RESTRICTIONS = ['NO_CREDIT_CARD', 'INVOICE_UNPAID', 'NO_CREDIT_LEFT'] as const;
export type BillingRestriction = (typeof BILLING_RESTRICTIONS)[number];

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
  /** Whether the organization has a card that has not expired (what an invoiced plan is charged to). */
  hasUsableCard: boolean;
}

export interface BillingStatus {
  isValid: boolean;
  message: string;
  reason: BillingRestriction | null;
}

const dateFormat = new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', month: 'short', day: 'numeric', year: 'numeric' });

/** True when the invoice has been unpaid for MORE than the grace period (exactly 7 days is still fine). */
export function isInvoiceOverdue(issuedAt: Date, now: Date): boolean {
  return now.getTime() - issuedAt.getTime() > UNPAID_INVOICE_GRACE_MS;
}

/**
 * Both kinds of plan: invalid while an invoice is unpaid for more than UNPAID_INVOICE_GRACE_DAYS; the message
 * names the oldest such invoice (earliest issuedAt, then lowest number).
 * Credit plans: also invalid when the credit balance is ≤ 0 (said first: adding credit is what they need).
 * An invoiced plan in good standing without a usable card stays valid but is restricted (`NO_CREDIT_CARD`).
 */
export function evaluateBillingStatus(input: BillingStatusInput): BillingStatus {
  if (Number.isNaN(input.now.getTime())) throw new RangeError('now is an invalid date');

  if (input.planKind === 'credits' && input.creditBalanceMinor <= 0n) {
    return { isValid: false, message: NO_CREDIT_MESSAGE, reason: 'NO_CREDIT_LEFT' };
  }

  const oldest = oldestOverdueInvoice(input.unpaidInvoices, input.now);
  if (oldest !== null) {
    const amount = formatMoney(oldest.totalMinor, oldest.currency);
    const since = dateFormat.format(oldest.issuedAt);
    return {
      isValid: false,
      message: `Invoice ${oldest.number} of ${amount} has been unpaid since ${since}. Pay it or update your credit card to keep deploying.`,
      reason: 'INVOICE_UNPAID',
    };
  }

  if (input.planKind === 'credits') {
    return {
      isValid: true,
      message: `${GOOD_STANDING_MESSAGE} Remaining credit: ${formatMoney(input.creditBalanceMinor, input.currency)}.`,
      reason: null,
    };
  }
  if (!input.hasUsableCard) return { isValid: true, message: `${GOOD_STANDING_MESSAGE} ${NO_CREDIT_CARD_MESSAGE}`, reason: 'NO_CREDIT_CARD' };
  return { isValid: true, message: GOOD_STANDING_MESSAGE, reason: null };
}

function oldestOverdueInvoice(invoices: readonly UnpaidInvoiceSummary[], now: Date): UnpaidInvoiceSummary | null {
  let oldest: UnpaidInvoiceSummary | null = null;
  for (const invoice of invoices) {
    if (!isInvoiceOverdue(invoice.issuedAt, now)) continue;
    if (
      oldest === null ||
      invoice.issuedAt.getTime() < oldest.issuedAt.getTime() ||
      (invoice.issuedAt.getTime() === oldest.issuedAt.getTime() && invoice.number < oldest.number)
    ) {
      oldest = invoice;
    }
  }
  return oldest;
}
