/**
 * Closes one organization's billing period: its invoice, written whole in one transaction or not at all. It is a
 * batch of one of `issueInvoices`, the billing run's path, so that both issue invoices by the same rules.
 */
import type { AppContext } from '../../app-context.js';
import type { BillingPeriod } from '../../domain/billing-period.js';
import type { Caller } from '../../domain/actor.js';
import type { InvoiceStatus } from './invoice.js';
import { issueInvoices } from './issue-invoices.js';

export { INVOICE_ISSUE } from './issue-invoices.js';

export type IssueInvoiceOutcome =
  | { outcome: 'created'; invoiceId: string; number: string; status: InvoiceStatus; totalMinor: bigint }
  /** The organization already has its invoice for this period (a rerun, or another worker got there first). */
  | { outcome: 'exists' }
  /** Nothing was charged in the period (free plan, trial, no usage): no invoice is issued. */
  | { outcome: 'nothing_to_bill' };

export interface ChargeInvoicePayload {
  organizationId: string;
  invoiceId: string;
  /** 1 for the attempt at issue, then 2, 3, … */
  attempt: number;
}

export type InvoiceEmailKind = 'issued' | 'paid' | 'payment_failed';

export interface InvoiceEmailPayload {
  organizationId: string;
  invoiceId: string;
  kind: InvoiceEmailKind;
  /** The failed attempt a payment_failed notice is about. */
  attempt?: number;
}

/**
 * The invoice of `organizationId` for `period`: plan fee lines (prorated, none during the trial), one usage line per
 * cluster (clamped into the range that was shown), and for a credits plan the credits spent as one negative line,
 * with the matching ledger row. The number comes from the gap-free counter in the same transaction, so a rollback
 * gives it back. An invoiced plan's charge and the e-mails are queued, never done here. Throws what made it fail.
 */
export async function issueInvoice(
  context: AppContext,
  request: Caller,
  organizationId: string,
  period: BillingPeriod,
): Promise<IssueInvoiceOutcome> {
  const outcome = (await issueInvoices(context, request, [organizationId], period)).get(organizationId);
  if (outcome === undefined) throw new Error(`no invoice outcome for organization ${organizationId}`);
  if (outcome.outcome === 'failed') throw outcome.error;
  return outcome;
}
