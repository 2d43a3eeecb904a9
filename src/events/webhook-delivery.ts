/** The table `webhook_deliveries`: one delivery per event and endpoint, with its attempts. */
import sql, { raw, type Sql } from 'sql-template-tag';
import type { Queryable } from '../db/database.js';

/** The channel a committed delivery wakes the workers on (the fan-out trigger of the migration NOTIFYs it too). */
export const deliveryWakeChannel = 'bursar_webhook_deliveries';

export const webhookDeliveryStates = ['pending', 'sending', 'delivered', 'failed'] as const;
export type WebhookDeliveryState = (typeof webhookDeliveryStates)[number];

export interface WebhookDelivery {
  id: string;
  endpointId: string;
  eventId: string;
  eventType: string;
  state: WebhookDeliveryState;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  lastAttemptAt: Date | null;
  nextAttemptAt: Date | null;
  deliveredAt: Date | null;
  createdAt: Date;
}

interface WebhookDeliveryRow {
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  state: WebhookDeliveryState;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  last_attempt_at: Date | null;
  next_attempt_at: Date;
  delivered_at: Date | null;
  created_at: Date;
}

/** The columns of a `WebhookDeliveryRow` over `d` joined to its event `ev`. */
const webhookDeliveryColumns: Sql = raw(
  'd.id, d.endpoint_id, d.event_id, ev.type AS event_type, d.state, d.attempts, d.last_status_code, d.last_error, d.last_attempt_at, d.next_attempt_at, d.delivered_at, d.created_at',
);

function toWebhookDelivery(row: WebhookDeliveryRow): WebhookDelivery {
  const waiting = row.state === 'pending' || row.state === 'sending';
  return {
    id: row.id,
    endpointId: row.endpoint_id,
    eventId: row.event_id,
    eventType: row.event_type,
    state: row.state,
    attempts: row.attempts,
    lastStatusCode: row.last_status_code,
    lastError: row.last_error,
    lastAttemptAt: row.last_attempt_at,
    nextAttemptAt: waiting ? row.next_attempt_at : null,
    deliveredAt: row.delivered_at,
    createdAt: row.created_at,
  };
}

/** Deliveries of an endpoint, newest first, after the delivery `before` of the previous page. */
export async function findWebhookDeliveries(
  db: Queryable,
  endpointId: string,
  options: { limit: number; before: { createdAt: Date; id: string } | null },
): Promise<WebhookDelivery[]> {
  const before = options.before;
  const { rows } = await db.query<WebhookDeliveryRow>(
    sql`SELECT ${webhookDeliveryColumns} FROM webhook_deliveries d JOIN billing_events ev ON ev.id = d.event_id
         WHERE d.endpoint_id = ${endpointId}::uuid
           AND (${before?.createdAt ?? null}::timestamptz IS NULL OR (d.created_at, d.id) < (${before?.createdAt ?? null}::timestamptz, ${before?.id ?? null}::uuid))
         ORDER BY d.created_at DESC, d.id DESC
         LIMIT ${options.limit}::int`,
  );
  return rows.map(toWebhookDelivery);
}

export async function loadWebhookDelivery(db: Queryable, deliveryId: string): Promise<WebhookDelivery | null> {
  const { rows } = await db.query<WebhookDeliveryRow>(
    sql`SELECT ${webhookDeliveryColumns} FROM webhook_deliveries d JOIN billing_events ev ON ev.id = d.event_id WHERE d.id = ${deliveryId}::uuid`,
  );
  return rows[0] ? toWebhookDelivery(rows[0]) : null;
}

/** Makes a delivery due now with a full schedule of attempts again (a delivery being sent right now is left alone). */
export async function requeueWebhookDelivery(db: Queryable, deliveryId: string): Promise<WebhookDelivery | null> {
  const { rowCount } = await db.query(
    sql`UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_attempt_at = now(), locked_until = NULL
         WHERE id = ${deliveryId}::uuid AND state <> 'sending'`,
  );
  await db.query(sql`SELECT pg_notify(${deliveryWakeChannel}, '') WHERE ${rowCount}::int > 0`);
  return loadWebhookDelivery(db, deliveryId);
}

/** Events older than `olderThanDays` whose deliveries are all finished (or that had none) are forgotten, with them. */
export async function purgeFinishedBillingEvents(db: Queryable, olderThanDays = 30): Promise<number> {
  const { rowCount } = await db.query(
    sql`DELETE FROM billing_events ev
         WHERE ev.created_at < now() - make_interval(days => ${olderThanDays})
           AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = ev.id AND d.state IN ('pending', 'sending'))`,
  );
  return rowCount;
}
