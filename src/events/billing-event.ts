/**
 * The event outbox (table `billing_events`): a billing event is one row written in the transaction of the change that
 * causes it, so it exists exactly when the change committed. A trigger of the table fans it out to one delivery per
 * webhook endpoint that wants it and wakes the delivery workers once the transaction commits (NOTIFY).
 */
import sql, { empty, Sql } from 'sql-template-tag';
import type { Queryable } from '../db/database.js';
import type { BillingEventType } from './event-types.js';

/**
 * With `from` (see `insertBillingEvent`), `organizationId` and `data` may also be expressions over the rows of `from`,
 * so that one INSERT writes the events of a whole batch (`type` too, for a batch of several types). `data` is the object of the event; `organization_id` is
 * added to it.
 */
export interface BillingEvent {
  type: BillingEventType | Sql;
  organizationId: string | null | Sql;
  data: Record<string, unknown> | Sql;
  /** Only this endpoint receives the event (webhook.test), whatever types it subscribes to. */
  endpointId?: string;
}

/** JSON of event data: bigint as numbers would lose precision, so they are written as strings of minor units. */
export function eventJson(data: Record<string, unknown>): string {
  return JSON.stringify(data, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
}

/** A new event id: the `webhook-id` of every delivery of the event (`evt_` + 32 hex digits). */
const newEventId = sql`'evt_' || replace(gen_random_uuid()::text, '-', '')`;

/**
 * The one `INSERT INTO billing_events`. `at` is business time (`context.clock`), the body's `timestamp`. Alone it
 * writes one event; with `from` (a CTE of a larger statement, or `unnest(…) AS x` joined to one) it writes one event
 * per row of `from`, so the event exists exactly when the change it announces does.
 */
export function insertBillingEvent(at: Date, event: BillingEvent, from?: Sql): Sql {
  const organizationId = event.organizationId instanceof Sql ? event.organizationId : sql`${event.organizationId}::uuid`;
  const data = event.data instanceof Sql ? event.data : sql`${eventJson(event.data)}::jsonb`;
  return sql`INSERT INTO billing_events (id, organization_id, type, data, occurred_at, endpoint_id)
    SELECT ${newEventId}, ${organizationId}, ${event.type instanceof Sql ? event.type : sql`${event.type}::text`},
           jsonb_build_object('organization_id', ${organizationId}) || ${data}, ${at}::timestamptz, ${event.endpointId ?? null}::uuid
    ${from ? sql`FROM ${from}` : empty}`;
}

/** Written in the same transaction as the change it announces; returns the event id. */
export async function recordBillingEvent(tx: Queryable, at: Date, event: BillingEvent): Promise<string> {
  const { rows } = await tx.query<{ id: string }>(sql`${insertBillingEvent(at, event)} RETURNING id`);
  return rows[0]!.id;
}
