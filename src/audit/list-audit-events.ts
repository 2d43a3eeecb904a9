import sql from 'sql-template-tag';
import type { Queryable } from '../db/database.js';

export interface AuditEventRecord {
  id: string;
  organization_id: string | null;
  type: string;
  actor_type: string;
  actor_id: string | null;
  surface: string;
  changes: Record<string, unknown>;
  request_id: string | null;
  created_at: Date;
}

/** The audit trail of an organization, newest first, optionally of one event type. */
export async function listAuditEvents(
  db: Queryable,
  organizationId: string,
  options: { limit: number; type?: string },
): Promise<AuditEventRecord[]> {
  const { rows } = await db.query<AuditEventRecord>(
    sql`SELECT id, organization_id, type, actor_type, actor_id, surface, changes, request_id, created_at
          FROM audit_events
         WHERE organization_id = ${organizationId}::uuid AND (${options.type ?? null}::text IS NULL OR type = ${options.type ?? null}::text)
         ORDER BY sequence DESC
         LIMIT ${options.limit}::int`,
  );
  return rows;
}
