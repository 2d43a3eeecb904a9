import type { AppContext } from '../../app-context.js';
import { recordAuditEvent } from '../../audit/record-audit-event.js';
import type { Caller } from '../../domain/actor.js';
import { invoiceArchiveQueue } from '../../jobs/queues.js';
import { enterOrganization } from '../organizations/organization-access.js';
import { billingEmailOf } from './send-invoice-email.js';

export const INVOICE_ARCHIVE_REQUEST = 'INVOICE_ARCHIVE_REQUEST';

export interface InvoiceArchivePayload {
  organizationId: string;
  /** Scheme and host the request came on: the base of a download link when no public URL is configured. */
  requestBaseUrl: string | null;
}

/**
 * "E-mail me all my invoices": audited and queued; a job builds the archive and sends it to the billing e-mail.
 * Without a billing e-mail the job sends nothing (the request is still accepted, and the fact is logged).
 */
export async function requestInvoiceArchive(
  context: AppContext,
  caller: Caller,
  input: { organizationId: string; requestBaseUrl: string | null },
): Promise<void> {
  const now = context.clock.now();
  const billingEmail = await context.database.transaction(async (tx) => {
    await enterOrganization(tx, caller, { id: input.organizationId }, 'billing.write');
    const email = await billingEmailOf(tx, input.organizationId);
    await recordAuditEvent(tx, caller, now, {
      organizationId: input.organizationId,
      type: INVOICE_ARCHIVE_REQUEST,
      changes: { billingEmailSet: email !== null },
    });
    const payload: InvoiceArchivePayload = { organizationId: input.organizationId, requestBaseUrl: input.requestBaseUrl };
    await context.jobs.enqueue(tx, invoiceArchiveQueue, payload, { maxAttempts: 3 });
    return email;
  });
  if (billingEmail === null) {
    context.logger.info({ organizationId: input.organizationId }, 'invoice archive requested without a billing e-mail: nothing will be sent unless one is set');
  }
  context.jobs.nudge();
}
