/**
 * The `provider_events` table: the ids of the payment provider's events already received, so each is applied once.
 * The row is written first in the transaction that applies the event; a redelivery (even a concurrent one, which
 * waits on the first's uncommitted row) finds it and changes nothing.
 */
import sql from 'sql-template-tag';
import type { Queryable } from '../../db/database.js';

export type ProviderEventOutcome = 'applied' | 'unchanged' | 'ignored' | 'no_invoice';

/** Claims the event id; false when it was received before (a replay). */
export async function claimProviderEvent(
  tx: Queryable,
  event: { provider: string; id: string; type: string },
  receivedAt: Date,
): Promise<boolean> {
  const { rows } = await tx.query<{ event_id: string }>(
    sql`INSERT INTO provider_events (provider, event_id, event_type, outcome, received_at)
        VALUES (${event.provider}, ${event.id}, ${event.type}, 'ignored', ${receivedAt}::timestamptz)
        ON CONFLICT (provider, event_id) DO NOTHING
        RETURNING event_id`,
  );
  return rows.length === 1;
}

export async function recordProviderEventOutcome(
  tx: Queryable,
  event: { provider: string; id: string },
  outcome: ProviderEventOutcome,
  invoiceId: string | null,
): Promise<void> {
  await tx.query(
    sql`UPDATE provider_events SET outcome = ${outcome}, invoice_id = ${invoiceId}::uuid
         WHERE provider = ${event.provider} AND event_id = ${event.id}`,
  );
}
