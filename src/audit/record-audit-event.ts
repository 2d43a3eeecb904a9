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

/** Written in the same transaction as the change it records, so one never exists without the other. */
export async function recordAuditEvent(tx: Queryable, request: RequestContext, at: Date, event: AuditEvent): Promise<void> {
  await tx.query(
    `INSERT INTO audit_events (id, organization_id, type, actor_type, actor_id, surface, changes, request_id, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [
      randomUUID(),
      event.organizationId,
      event.type,
      request.actor.type,
      actorId(request.actor),
      request.surface,
      JSON.stringify(event.changes, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value)),
      request.requestId,
      at,
    ],
  );
}
