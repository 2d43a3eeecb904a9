import type { AppContext } from '../../app-context.js';

/** Workers of the invoicing capability (billing runs, charges, e-mails, archives). */
export function registerInvoiceJobs(_context: AppContext): void {}
