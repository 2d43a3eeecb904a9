/**
 * The life of an invoice's status: the statuses, the one an invoice is issued in, those that still wait for money,
 * and where a charge attempt or an operator's action moves it. Statements take their status lists from here.
 */
import { conflict } from '../errors.js';

/** The seed's InvoiceStatusEnum. Bursar sets PENDING (charge queued), NOT_PAID, PAYMENT_DUE, PAID and VOIDED. */
export const invoiceStatuses = ['NOT_PAID', 'PAID', 'PAYMENT_DUE', 'PENDING', 'POSTED', 'UNKNOWN', 'VOIDED'] as const;
export type InvoiceStatus = (typeof invoiceStatuses)[number];

/** Statuses in which an invoice still waits for its money. */
export const awaitingPaymentStatuses = ['PENDING', 'NOT_PAID', 'PAYMENT_DUE'] as const satisfies readonly InvoiceStatus[];

/** Waiting for money with a charge attempt still on the schedule (PAYMENT_DUE has exhausted it). */
export const scheduledPaymentStatuses = ['PENDING', 'NOT_PAID'] as const satisfies readonly InvoiceStatus[];

/** A charge of the invoice failed and it is still owed: the customer is told about each failure. */
export const paymentFailedStatuses = ['NOT_PAID', 'PAYMENT_DUE'] as const satisfies readonly InvoiceStatus[];

function isIn(statuses: readonly InvoiceStatus[], status: InvoiceStatus): boolean {
  return statuses.includes(status);
}

export function isAwaitingPayment(status: InvoiceStatus): boolean {
  return isIn(awaitingPaymentStatuses, status);
}

export function isPaymentFailed(status: InvoiceStatus): boolean {
  return isIn(paymentFailedStatuses, status);
}

/**
 * At issue, after credits: nothing to pay is settled (PAID); what is left waits for the charge queued with it
 * (PENDING) when it goes to the card (an invoiced plan always, a credits plan when it has a default card);
 * otherwise it is owed (NOT_PAID) until a card becomes the default.
 */
export function statusAtIssue(totalMinor: bigint, chargedToCard: boolean): InvoiceStatus {
  if (totalMinor === 0n) return 'PAID';
  return chargedToCard ? 'PENDING' : 'NOT_PAID';
}

/** Any invoice with something to pay, still waiting for its money, may be charged to the default card. */
export function isChargeable(invoice: { totalMinor: bigint; status: InvoiceStatus }): boolean {
  return invoice.totalMinor > 0n && isAwaitingPayment(invoice.status);
}

/** After a charge attempt: PAID, or NOT_PAID while the schedule has a next attempt, PAYMENT_DUE once it has none. */
export function statusAfterChargeAttempt(paid: boolean, nextAttemptAt: Date | null): InvoiceStatus {
  if (paid) return 'PAID';
  return nextAttemptAt === null ? 'PAYMENT_DUE' : 'NOT_PAID';
}

export type OperatorInvoiceAction = 'mark_paid' | 'void';

const operatorActions: Record<OperatorInvoiceAction, { to: InvoiceStatus; refused: { from: InvoiceStatus; code: string; message: string } | null }> = {
  // Paid outside the card charge (bank transfer, …), from any unpaid status.
  mark_paid: { to: 'PAID', refused: { from: 'VOIDED', code: 'invoice_voided', message: 'A voided invoice cannot be marked paid' } },
  // From any status: a credit note credits what is left of the invoice (a paid one is refunded).
  void: { to: 'VOIDED', refused: null },
};

/**
 * The status an operator's action moves the invoice to, or null when it is already there (the action changes
 * nothing). Throws 409 when the action is not allowed from `status`.
 */
export function statusAfterOperatorAction(status: InvoiceStatus, action: OperatorInvoiceAction): InvoiceStatus | null {
  const { to, refused } = operatorActions[action];
  if (status === to) return null;
  if (refused !== null && status === refused.from) throw conflict(refused.code, refused.message);
  return to;
}
