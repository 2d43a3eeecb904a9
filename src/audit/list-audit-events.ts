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

/** Newest first; `before` is the sequence of the last event of the previous page. */
export async function listAuditEvents(
  db: Queryable,
  organizationId: string,
  options: { limit: number; type?: string },
): Promise<AuditEventRecord[]> {
  const { rows } = await db.query<AuditEventRecord>(
    `SELECT id, organization_id, type, actor_type, actor_id, surface, changes, request_id, created_at
       FROM audit_events
      WHERE organization_id = $1 AND ($2::text IS NULL OR type = $2)
      ORDER BY sequence DESC
      LIMIT $3`,
    [organizationId, options.type ?? null, options.limit],
  );
  return rows;
}
