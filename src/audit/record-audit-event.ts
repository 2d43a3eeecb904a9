import { randomUUID } from 'node:crypto';
import type { Queryable } from '../db/database.js';
import { actorId, type RequestContext } from '../billing/access/actor.js';

/** Field changes as `{ field: { old, new } }`; values are JSON (money as strings of minor units). */
export type AuditChanges = Record<string, { old: unknown; new: unknown }>;

export interface AuditEvent {
  organizationId: string | null;
  type: string;
  changes: AuditChanges | Record<string, unknown>;
}

const columns = 'id, organization_id, type, actor_type, actor_id, surface, changes, request_id, created_at';
const casts = ['uuid', 'uuid', 'text', 'text', 'text', 'text', 'jsonb', 'text', 'timestamptz'];

function values(request: RequestContext, at: Date, event: AuditEvent): unknown[] {
  return [
    randomUUID(),
    event.organizationId,
    event.type,
    request.actor.type,
    actorId(request.actor),
    request.surface,
    JSON.stringify(event.changes, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value)),
    request.requestId,
    at,
  ];
}

/** Written in the same transaction as the change it records, so one never exists without the other. */
export async function recordAuditEvent(tx: Queryable, request: RequestContext, at: Date, event: AuditEvent): Promise<void> {
  await tx.query(`INSERT INTO audit_events (${columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, values(request, at, event));
}

/**
 * The same audit row as a part of a larger statement, written only if `source` (a CTE of that statement) yields a
 * row: `INSERT INTO audit_events (…) SELECT … FROM source`. Placeholders start at `$firstParameter`.
 */
export function auditEventInsertFrom(
  source: string,
  firstParameter: number,
  request: RequestContext,
  at: Date,
  event: AuditEvent,
): { sql: string; parameters: unknown[] } {
  const placeholders = casts.map((cast, index) => `$${firstParameter + index}::${cast}`).join(', ');
  return { sql: `INSERT INTO audit_events (${columns}) SELECT ${placeholders} FROM ${source}`, parameters: values(request, at, event) };
}
