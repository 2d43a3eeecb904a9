import type { AppContext } from '../../app-context.js';
import {
  billingRunExecutionQueue,
  chargeInvoiceQueue,
  invoiceArchiveQueue,
  invoiceEmailQueue,
  retryUnpaidInvoicesQueue,
} from '../../jobs/queues.js';
import { isRetryUnpaidInvoicesPayload } from '../payment-methods/unpaid-invoices-retry.js';
import { hourlyPaymentRetrySweep, monthlyBillingRun, runPaymentRetrySweep, runScheduledBillingRun } from './billing-schedule.js';
import { workBillingRun } from './execute-billing-run.js';
import { chargeInvoice, isChargeInvoicePayload } from './charge-invoice.js';
import { emailInvoiceArchive, isInvoiceArchivePayload } from './email-invoice-archive.js';
import { queueChargesToNewDefaultCard } from './queue-due-payment-attempts.js';
import { isInvoiceEmailPayload, sendInvoiceEmail } from './send-invoice-email.js';

/** Workers of the invoicing capability (billing runs, charges, e-mails, archives). */
export function registerInvoiceJobs(context: AppContext): void {
  // Recurring on the business calendar: a started worker queues their first occurrences, the queue the next ones.
  context.jobs.registerRecurring(monthlyBillingRun, async (payload) => {
    await runScheduledBillingRun(context, payload);
  });
  context.jobs.register(billingRunExecutionQueue, async (payload) => {
    await workBillingRun(context, payload);
  });
  context.jobs.registerRecurring(hourlyPaymentRetrySweep, async () => {
    const queued = await runPaymentRetrySweep(context);
    if (queued > 0) context.logger.info({ queued }, 'payment attempts queued');
  });
  context.jobs.register(chargeInvoiceQueue, async (payload, job) => {
    if (!isChargeInvoicePayload(payload)) throw new Error(`${chargeInvoiceQueue}: invalid payload`);
    const outcome = await chargeInvoice(context, payload, job);
    context.logger.info(
      { organizationId: payload.organizationId, invoiceId: payload.invoiceId, attempt: payload.attempt, outcome: outcome.kind },
      'invoice charge attempt',
    );
  });
  context.jobs.register(retryUnpaidInvoicesQueue, async (payload) => {
    if (!isRetryUnpaidInvoicesPayload(payload)) throw new Error(`${retryUnpaidInvoicesQueue}: invalid payload`);
    const queued = await queueChargesToNewDefaultCard(context, payload.organizationId);
    context.logger.info({ organizationId: payload.organizationId, queued }, 'charges queued to the new default card');
  });
  context.jobs.register(invoiceEmailQueue, async (payload) => {
    if (!isInvoiceEmailPayload(payload)) throw new Error(`${invoiceEmailQueue}: invalid payload`);
    await sendInvoiceEmail(context, payload);
  });
  context.jobs.register(invoiceArchiveQueue, async (payload) => {
    if (!isInvoiceArchivePayload(payload)) throw new Error(`${invoiceArchiveQueue}: invalid payload`);
    const outcome = await emailInvoiceArchive(context, payload);
    context.logger.info({ organizationId: payload.organizationId, ...outcome }, 'invoice archive job finished');
  });
}
