/**
 * E-mails about one invoice to the organization's billing e-mail, sent by a job after the commit that caused them:
 * the invoice with its PDF at issue (credits plans, and anything settled at issue), the receipt with its PDF once a
 * charge or an operator paid it, and the notice of each failed charge (the first one with the PDF attached, so the
 * customer has the invoice they owe).
 */
import sql from 'sql-template-tag';
import type { AppContext } from '../../app-context.js';
import type { Queryable } from '../../db/database.js';
import { isPaymentFailed } from '../../domain/invoice-status.js';
import { formatMoney } from '../../domain/money.js';
import { stringField } from '../../jobs/job-payload.js';
import { invoiceEmailQueue } from '../../jobs/queues.js';
import { findInvoice, type Invoice } from './invoice.js';
import { getInvoicePdf } from './invoice-pdf.js';

export type InvoiceEmailKind = 'issued' | 'paid' | 'payment_failed' | 'payment_action_required';

export interface InvoiceEmailPayload {
  organizationId: string;
  invoiceId: string;
  kind: InvoiceEmailKind;
  /** The attempt a payment_failed (or payment_action_required) notice is about. */
  attempt?: number;
}

/** The job of one e-mail: at most one per invoice and kind (and failed attempt), whoever queues it. */
export function invoiceEmailJob(payload: InvoiceEmailPayload) {
  const about = payload.kind === 'payment_failed' || payload.kind === 'payment_action_required' ? `${payload.kind}:${payload.attempt}` : payload.kind;
  return { queue: invoiceEmailQueue, payload, singletonKey: `invoice-email:${payload.invoiceId}:${about}`, maxAttempts: 8 };
}

const monthFormat = new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', month: 'long', year: 'numeric' });
const dayFormat = new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', month: 'long', day: 'numeric', year: 'numeric' });

const kinds: readonly InvoiceEmailKind[] = ['issued', 'paid', 'payment_failed', 'payment_action_required'];

export function isInvoiceEmailPayload(payload: unknown): payload is InvoiceEmailPayload {
  const kind = stringField(payload, 'kind');
  return (
    stringField(payload, 'organizationId') !== undefined &&
    stringField(payload, 'invoiceId') !== undefined &&
    kinds.some((known) => known === kind)
  );
}

/** The billing e-mail of the organization, or null when none is set. */
export async function billingEmailOf(db: Queryable, organizationId: string): Promise<string | null> {
  const { rows } = await db.query<{ email: string | null }>(
    sql`SELECT email FROM billing_profiles WHERE organization_id = ${organizationId}::uuid`,
  );
  const email = rows[0]?.email ?? null;
  return email !== null && email.trim() !== '' ? email.trim() : null;
}

function total(invoice: Invoice): string {
  return formatMoney(invoice.totalMinor, invoice.currency);
}

function periodLabel(invoice: Invoice): string {
  return monthFormat.format(invoice.periodStart);
}

function issuedText(invoice: Invoice): { subject: string; text: string } {
  const paidWithCredits = invoice.status === 'PAID' && invoice.creditsAppliedMinor > 0n;
  const settlement =
    invoice.status === 'PAID'
      ? paidWithCredits
        ? `It was paid from your credits (${formatMoney(invoice.creditsAppliedMinor, invoice.currency)}); nothing is left to pay.`
        : 'Nothing is left to pay.'
      : `Amount due: ${total(invoice)}.`;
  return {
    subject: `Invoice ${invoice.number} for ${periodLabel(invoice)}`,
    text: `Hello,\n\nyour invoice ${invoice.number} for ${periodLabel(invoice)} is attached.\n${settlement}\n\n${invoice.seller.name}\n`,
  };
}

function paidText(invoice: Invoice): { subject: string; text: string } {
  return {
    subject: `Payment received for invoice ${invoice.number}`,
    text:
      `Hello,\n\nwe received your payment of ${total(invoice)} for invoice ${invoice.number} (${periodLabel(invoice)}).\n` +
      `The invoice is attached.\n\n${invoice.seller.name}\n`,
  };
}

/** Where the customer adds a card or chooses the default one: the billing portal when configured. */
function whereToPay(portalUrl: string | null): string {
  return portalUrl === null ? 'in your billing settings' : `on your billing page: ${portalUrl}`;
}

/**
 * The failure notice says what the customer can do (a new default card is charged at once), the amount and the
 * invoice. It never announces a date already past: a notice sent after that date says the retry comes shortly.
 */
function failureText(invoice: Invoice, now: Date, portalUrl: string | null): { subject: string; text: string } {
  const reason = invoice.lastPaymentError ?? 'The card was refused.';
  const owed = `${total(invoice)} for invoice ${invoice.number}`;
  const action = `add a credit card or choose another card as the default ${whereToPay(portalUrl)}`;
  let next: string;
  if (invoice.status === 'PAYMENT_DUE' || invoice.nextPaymentAttemptAt === null) {
    next =
      `We will not try this card again. To pay ${owed} and keep deploying, ${action}. ` +
      'The invoice is charged to the new default card within minutes.';
  } else {
    const when =
      invoice.nextPaymentAttemptAt.getTime() > now.getTime() ? `on ${dayFormat.format(invoice.nextPaymentAttemptAt)}` : 'shortly';
    next = `We will try again ${when}. To pay ${owed} now, ${action}: the invoice is charged to the new default card within minutes.`;
  }
  return {
    subject: `Payment failed for invoice ${invoice.number}`,
    text:
      `Hello,\n\nwe could not charge ${total(invoice)} for invoice ${invoice.number} (${periodLabel(invoice)}) to your credit card.\n` +
      `Reason: ${reason}\n${next}\n${invoice.paymentAttempts === 1 ? 'The invoice is attached.\n' : ''}\n${invoice.seller.name}\n`,
  };
}

/** The charge waits for the customer to authenticate it (strong customer authentication): where to do it. */
function actionRequiredText(invoice: Invoice, actionUrl: string): { subject: string; text: string } {
  return {
    subject: `Confirm your payment for invoice ${invoice.number}`,
    text:
      `Hello,\n\nyour bank asks you to confirm the payment of ${total(invoice)} for invoice ${invoice.number} (${periodLabel(invoice)}).\n` +
      `Confirm it here: ${actionUrl}\nThe invoice is attached.\n\n${invoice.seller.name}\n`,
  };
}

export type InvoiceEmailOutcome = 'sent' | 'no_billing_email' | 'stale';

export async function sendInvoiceEmail(context: AppContext, payload: InvoiceEmailPayload): Promise<InvoiceEmailOutcome> {
  const invoice = await findInvoice(context.database, payload.organizationId, payload.invoiceId);
  if (!invoice) return 'stale';
  // A failure notice that arrives after the invoice got paid (or voided) would only confuse.
  if (payload.kind === 'payment_failed' && !isPaymentFailed(invoice.status)) return 'stale';
  if (payload.kind === 'payment_failed' && payload.attempt !== undefined && invoice.paymentAttempts !== payload.attempt) return 'stale';
  const actionUrl = invoice.status === 'PENDING' ? invoice.paymentActionUrl : null;
  if (payload.kind === 'payment_action_required' && actionUrl === null) return 'stale';
  const to = await billingEmailOf(context.database, payload.organizationId);
  if (to === null) {
    context.logger.info({ organizationId: payload.organizationId, invoiceId: invoice.id, kind: payload.kind }, 'no billing e-mail: invoice e-mail not sent');
    return 'no_billing_email';
  }
  const now = context.clock.now();
  if (payload.kind === 'payment_failed' && invoice.paymentAttempts > 1) {
    await context.mailer.send({ to, ...failureText(invoice, now, context.config.portalUrl) });
  } else if (payload.kind === 'payment_failed') {
    // The first notice is also how the customer receives the invoice.
    const pdf = await getInvoicePdf(context.database, invoice.organizationId, invoice.id, context.clock.now());
    await context.mailer.send({
      to,
      ...failureText(invoice, now, context.config.portalUrl),
      attachments: [{ filename: `${invoice.number}.pdf`, contentType: 'application/pdf', content: pdf.pdf }],
    });
  } else {
    const pdf = await getInvoicePdf(context.database, invoice.organizationId, invoice.id, context.clock.now());
    const message =
      payload.kind === 'paid'
        ? paidText(invoice)
        : payload.kind === 'payment_action_required' && actionUrl !== null
          ? actionRequiredText(invoice, actionUrl)
          : issuedText(invoice);
    await context.mailer.send({
      to,
      ...message,
      attachments: [{ filename: `${invoice.number}.pdf`, contentType: 'application/pdf', content: pdf.pdf }],
    });
  }
  context.logger.info({ organizationId: payload.organizationId, invoiceId: invoice.id, kind: payload.kind }, 'invoice e-mail sent');
  return 'sent';
}
