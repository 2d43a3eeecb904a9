/** Every job queue's worker, registered in every process (any process may run any job). */
import type { AppContext } from '../app-context.js';
import { registerInvoiceJobs } from '../billing/invoices/invoice-jobs.js';
import { registerPaymentJobs } from '../billing/payment-methods/payment-jobs.js';

export function registerJobHandlers(context: AppContext): void {
  registerPaymentJobs(context);
  registerInvoiceJobs(context);
}
