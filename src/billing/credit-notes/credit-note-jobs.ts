import type { AppContext } from '../../app-context.js';
import { creditNoteRefundQueue } from '../../jobs/queues.js';
import { isRefundCreditNotePayload, refundCreditNote } from './refund-credit-note.js';

/** Workers of credit notes: the refund of their card part. */
export function registerCreditNoteJobs(context: AppContext): void {
  context.jobs.register(creditNoteRefundQueue, async (payload) => {
    if (!isRefundCreditNotePayload(payload)) throw new Error(`${creditNoteRefundQueue}: invalid payload`);
    const outcome = await refundCreditNote(context, payload);
    context.logger.info({ organizationId: payload.organizationId, creditNoteId: payload.creditNoteId, outcome }, 'credit note refund');
  });
}
