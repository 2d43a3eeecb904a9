import sql, { empty, Sql } from 'sql-template-tag';
import type { Queryable } from '../db/database.js';
import { actorId, type Caller } from '../domain/actor.js';

/** Field changes as `{ field: { old, new } }`; values are JSON (money as strings of minor units). */
export type AuditChanges = Record<string, { old: unknown; new: unknown }>;

/**
 * With `from` (see `insertAuditEvent`), `organizationId` and `changes` may also be expressions over the rows of
 * `from`, so that one INSERT writes the events of a whole batch.
 */
export interface AuditEvent {
  organizationId: string | null | Sql;
  type: string;
  changes: AuditChanges | Record<string, unknown> | Sql;
}

/** JSON of an audit event's changes: bigint money as strings of minor units. */
export function auditJson(changes: AuditEvent['changes']): string {
  return JSON.stringify(changes, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
}

/**
 * The one `INSERT INTO audit_events`. Alone it writes one row; with `from` (a CTE of a larger statement) it writes
 * the row only if that CTE yields one, so the event exists exactly when the change it records does.
 */
export function insertAuditEvent(caller: Caller, at: Date, event: AuditEvent, from?: Sql): Sql {
  const organizationId = event.organizationId instanceof Sql ? event.organizationId : sql`${event.organizationId}::uuid`;
  const changes = event.changes instanceof Sql ? event.changes : sql`${auditJson(event.changes)}::jsonb`;
  return sql`INSERT INTO audit_events (id, organization_id, type, actor_type, actor_id, surface, changes, request_id, created_at)
    SELECT gen_random_uuid(), ${organizationId}, ${event.type}::text, ${caller.actor.type}::text,
           ${actorId(caller.actor)}::text, ${caller.surface}::text, ${changes}, ${caller.requestId}::text, ${at}::timestamptz
    ${from ? sql`FROM ${from}` : empty}`;
}

/** Written in the same transaction as the change it records, so one never exists without the other. */
export async function recordAuditEvent(tx: Queryable, caller: Caller, at: Date, event: AuditEvent): Promise<void> {
  await tx.query(insertAuditEvent(caller, at, event));
}
