import type { AppContext } from '../../app-context.js';
import { recordAuditEvent } from '../../audit/record-audit-event.js';
import type { Caller } from '../../domain/actor.js';
import { BillingError } from '../../errors.js';
import { invoiceArchiveQueue } from '../../jobs/queues.js';
import { enterOrganization } from '../organizations/organization-access.js';
import { billingEmailOf } from './send-invoice-email.js';

export const INVOICE_ARCHIVE_REQUEST = 'INVOICE_ARCHIVE_REQUEST';

export interface InvoiceArchivePayload {
  organizationId: string;
  /** Scheme and host the request came on: the base of a download link when no public URL is configured. */
  requestBaseUrl: string | null;
}

/** Refused rather than accepted and never sent: the customer learns where the e-mail is set. */
export const billingEmailMissing = () =>
  new BillingError(
    'billing_email_missing',
    400,
    'The organization has no billing e-mail to send the invoices to: set `email` in its billing info ' +
      '(PUT /organization/{organizationId}/billingInfo), then ask again',
  );

/**
 * "E-mail me all my invoices": audited and queued; a job builds the archive and sends it to the billing e-mail.
 * Without a billing e-mail nothing is queued: 400 `billing_email_missing`. (Should the e-mail be cleared before the
 * job runs, the job sends nothing and logs it.)
 */
export async function requestInvoiceArchive(
  context: AppContext,
  caller: Caller,
  input: { organizationId: string; requestBaseUrl: string | null },
): Promise<void> {
  const now = context.clock.now();
  await context.database.transaction(async (tx) => {
    await enterOrganization(tx, caller, { id: input.organizationId }, 'billing.write');
    const email = await billingEmailOf(tx, input.organizationId);
    if (email === null) throw billingEmailMissing();
    await recordAuditEvent(tx, caller, now, {
      organizationId: input.organizationId,
      type: INVOICE_ARCHIVE_REQUEST,
      changes: { billingEmailSet: true },
    });
    const payload: InvoiceArchivePayload = { organizationId: input.organizationId, requestBaseUrl: input.requestBaseUrl };
    await context.jobs.enqueue(tx, invoiceArchiveQueue, payload, { maxAttempts: 3 });
  });
  context.jobs.nudge();
}
