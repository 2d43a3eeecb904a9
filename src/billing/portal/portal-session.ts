/**
 * The `portal_sessions` table: a portal link the platform hands a customer, and the session it becomes once opened.
 * Only SHA-256 hashes of the link and session tokens are stored.
 */
import sql, { raw, type Sql } from 'sql-template-tag';
import type { Queryable } from '../../db/database.js';

export interface PortalSession {
  id: string;
  organizationId: string;
  userId: string | null;
  returnUrl: string | null;
  linkExpiresAt: Date;
  linkUsedAt: Date | null;
  sessionExpiresAt: Date | null;
  createdAt: Date;
}

interface PortalSessionRow {
  id: string;
  organization_id: string;
  user_id: string | null;
  return_url: string | null;
  link_expires_at: Date;
  link_used_at: Date | null;
  session_expires_at: Date | null;
  created_at: Date;
}

const portalSessionColumns: Sql = raw('id, organization_id, user_id, return_url, link_expires_at, link_used_at, session_expires_at, created_at');

function toPortalSession(row: PortalSessionRow): PortalSession {
  return {
    id: row.id,
    organizationId: row.organization_id,
    userId: row.user_id,
    returnUrl: row.return_url,
    linkExpiresAt: row.link_expires_at,
    linkUsedAt: row.link_used_at,
    sessionExpiresAt: row.session_expires_at,
    createdAt: row.created_at,
  };
}

export async function insertPortalLink(
  db: Queryable,
  link: Pick<PortalSession, 'id' | 'organizationId' | 'userId' | 'returnUrl' | 'linkExpiresAt' | 'createdAt'> & { linkTokenHash: string },
): Promise<PortalSession> {
  const { rows } = await db.query<PortalSessionRow>(
    sql`INSERT INTO portal_sessions (id, organization_id, user_id, return_url, link_token_hash, link_expires_at, created_at)
        VALUES (${link.id}::uuid, ${link.organizationId}::uuid, ${link.userId}::text, ${link.returnUrl}::text, ${link.linkTokenHash}::text,
                ${link.linkExpiresAt}::timestamptz, ${link.createdAt}::timestamptz)
        RETURNING ${portalSessionColumns}`,
  );
  return toPortalSession(rows[0]!);
}

/** The link of that token hash, locked for the rest of the transaction (it is opened at most once). */
export async function findPortalLinkForUpdate(db: Queryable, linkTokenHash: string): Promise<PortalSession | null> {
  const { rows } = await db.query<PortalSessionRow>(
    sql`SELECT ${portalSessionColumns} FROM portal_sessions WHERE link_token_hash = ${linkTokenHash}::text FOR UPDATE`,
  );
  return rows[0] ? toPortalSession(rows[0]) : null;
}

/** Marks the link used and stores the session it starts; false when it was used meanwhile. */
export async function startPortalSession(
  db: Queryable,
  id: string,
  session: { usedAt: Date; sessionTokenHash: string; sessionExpiresAt: Date },
): Promise<boolean> {
  const { rows } = await db.query<{ id: string }>(
    sql`UPDATE portal_sessions
           SET link_used_at = ${session.usedAt}::timestamptz, session_token_hash = ${session.sessionTokenHash}::text,
               session_expires_at = ${session.sessionExpiresAt}::timestamptz
         WHERE id = ${id}::uuid AND link_used_at IS NULL
        RETURNING id`,
  );
  return rows.length === 1;
}

/** The session of that token hash, if it is still valid at `now`. */
export async function findLiveSession(db: Queryable, sessionTokenHash: string, now: Date): Promise<PortalSession | null> {
  const { rows } = await db.query<PortalSessionRow>(
    sql`SELECT ${portalSessionColumns} FROM portal_sessions
         WHERE session_token_hash = ${sessionTokenHash}::text AND session_expires_at > ${now}::timestamptz`,
  );
  return rows[0] ? toPortalSession(rows[0]) : null;
}
