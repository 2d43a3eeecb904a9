/** The `api_tokens` table: an organization's machine credentials, stored as the SHA-256 of the token. */
import sql, { raw, type Sql } from 'sql-template-tag';
import type { Queryable } from '../../db/database.js';
import type { Actor, Role } from '../../domain/actor.js';

export interface ApiToken {
  id: string;
  organizationId: string;
  name: string;
  role: Role;
  createdAt: Date;
  revokedAt: Date | null;
}

interface ApiTokenRow {
  id: string;
  organization_id: string;
  name: string;
  role: Role;
  created_at: Date;
  revoked_at: Date | null;
}

const apiTokenColumns: Sql = raw('id, organization_id, name, role, created_at, revoked_at');

function toApiToken(row: ApiTokenRow): ApiToken {
  return { id: row.id, organizationId: row.organization_id, name: row.name, role: row.role, createdAt: row.created_at, revokedAt: row.revoked_at };
}

export async function insertApiToken(tx: Queryable, token: ApiToken, tokenHash: string): Promise<void> {
  await tx.query(
    sql`INSERT INTO api_tokens (id, organization_id, name, role, token_hash, created_at)
        VALUES (${token.id}::uuid, ${token.organizationId}::uuid, ${token.name}, ${token.role}, ${tokenHash}, ${token.createdAt}::timestamptz)`,
  );
}

/** Newest first, revoked ones included. */
export async function listApiTokenRows(db: Queryable, organizationId: string): Promise<ApiToken[]> {
  const { rows } = await db.query<ApiTokenRow>(
    sql`SELECT ${apiTokenColumns} FROM api_tokens WHERE organization_id = ${organizationId}::uuid ORDER BY created_at DESC`,
  );
  return rows.map(toApiToken);
}

/** Revokes a token not revoked yet; false when there is none such in the organization. */
export async function revokeApiTokenRow(tx: Queryable, organizationId: string, tokenId: string, at: Date): Promise<boolean> {
  const { rows } = await tx.query(
    sql`UPDATE api_tokens SET revoked_at = ${at}::timestamptz
         WHERE organization_id = ${organizationId}::uuid AND id = ${tokenId}::uuid AND revoked_at IS NULL
        RETURNING id`,
  );
  return rows.length > 0;
}

/** The actor of a token not revoked, by the token's hash; null when there is none. */
export async function findApiTokenActor(db: Queryable, tokenHash: string): Promise<Extract<Actor, { type: 'token' }> | null> {
  const { rows } = await db.query<{ id: string; organization_id: string; role: Role }>(
    sql`SELECT id, organization_id, role FROM api_tokens WHERE token_hash = ${tokenHash} AND revoked_at IS NULL`,
  );
  const row = rows[0];
  return row ? { type: 'token', tokenId: row.id, organizationId: row.organization_id, role: row.role } : null;
}
