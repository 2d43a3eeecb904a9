/** Names of the job queues, in one place so that producers and workers agree. */
export const syncCustomerQueue = 'payments.sync-customer';
/** Detach a card at the payment provider after its row is gone (delete, duplicate add, undo of a failed add). */
export const detachPaymentMethodQueue = 'payments.detach-payment-method';
/** The monthly billing run, one job per month (singleton key `billing-run:YYYY-MM`). */
export const billingRunQueue = 'invoices.billing-run';
/** Charge one invoice to the default card (one job per invoice and attempt). */
export const chargeInvoiceQueue = 'invoices.charge';
/** Recurring: find invoices whose next payment attempt is due and queue their charge. */
export const paymentRetrySweepQueue = 'invoices.payment-retry-sweep';
/** E-mail an invoice (PDF attached) or a payment failure notice to the billing e-mail. */
export const invoiceEmailQueue = 'invoices.email';
/** Build the ZIP of every invoice PDF of an organization and e-mail it (or a link to it). */
export const invoiceArchiveQueue = 'invoices.email-archive';
/** Recurring: compare every organization's billing status with the one last announced (changes caused by time). */
export const billingStatusCheckQueue = 'events.billing-status-check';
/** Refund the card part of a credit note through the payment provider (one job per credit note). */
export const creditNoteRefundQueue = 'credit-notes.refund';
/** After the default card changed: queue a charge of every unpaid invoice of the organization to the new card. */
export const retryUnpaidInvoicesQueue = 'invoices.retry-on-new-default-card';
/** Works one billing run (payload `runId`; singleton key `run:<id>`): requested by an operator or the monthly schedule. */
export const billingRunExecutionQueue = 'invoices.billing-run.execute';
/** Recurring, at the start of every period: the credit grants of plans that grant credits every period. */
export const planCreditGrantQueue = 'credits.plan-grants';
