/**
 * The retry that a change of the default card queues: one job per change, written in the transaction (or the very
 * statement) that changes the default, and only when the organization has an invoice waiting for its money. The job
 * (see `queueChargesToNewDefaultCard`) queues the charges; it runs within seconds, not at the next hourly sweep.
 */
import sql, { type Sql } from 'sql-template-tag';
import { awaitingPaymentStatuses } from '../../domain/invoice-status.js';
import { stringField } from '../../jobs/job-payload.js';
import { insertJob } from '../../jobs/job-queue.js';
import { retryUnpaidInvoicesQueue } from '../../jobs/queues.js';

export interface RetryUnpaidInvoicesPayload {
  organizationId: string;
}

export function isRetryUnpaidInvoicesPayload(payload: unknown): payload is RetryUnpaidInvoicesPayload {
  return stringField(payload, 'organizationId') !== undefined;
}

/**
 * The job insert, written only when the organization has an unpaid invoice and, given `from` (a CTE of a larger
 * statement), only when `from` yields a row.
 */
export function insertUnpaidInvoicesRetry(organizationId: string, from?: Sql): Sql {
  const unpaid = sql`(SELECT 1 WHERE EXISTS (
      SELECT 1 FROM invoices i
       WHERE i.organization_id = ${organizationId}::uuid AND i.total_minor > 0
         AND i.status = ANY(${[...awaitingPaymentStatuses]}::text[]))) AS unpaid`;
  const payload: RetryUnpaidInvoicesPayload = { organizationId };
  return insertJob(retryUnpaidInvoicesQueue, payload, { maxAttempts: 5 }, from ? sql`${from}, ${unpaid}` : unpaid);
}
