/** The `memberships` table: a user's role in an organization. */
import sql from 'sql-template-tag';
import type { Queryable } from '../../db/database.js';
import type { Role } from '../../domain/actor.js';

export interface Membership {
  organizationId: string;
  userId: string;
  role: Role;
  createdAt: Date;
}

export async function findMemberRole(db: Queryable, organizationId: string, userId: string): Promise<Role | null> {
  const { rows } = await db.query<{ role: Role }>(
    sql`SELECT role FROM memberships WHERE organization_id = ${organizationId}::uuid AND user_id = ${userId}`,
  );
  return rows[0]?.role ?? null;
}

/** Adds the member, or changes the role of a member already there (who keeps their first `createdAt`). */
export async function upsertMembership(tx: Queryable, membership: Omit<Membership, 'createdAt'>, now: Date): Promise<Membership> {
  const { rows } = await tx.query<{ created_at: Date }>(
    sql`INSERT INTO memberships (organization_id, user_id, role, created_at)
        VALUES (${membership.organizationId}::uuid, ${membership.userId}, ${membership.role}, ${now}::timestamptz)
        ON CONFLICT (organization_id, user_id) DO UPDATE SET role = EXCLUDED.role
        RETURNING created_at`,
  );
  return { ...membership, createdAt: rows[0]!.created_at };
}

/** Removes the member; returns the role they had, or null when they were not a member. */
export async function deleteMembership(tx: Queryable, organizationId: string, userId: string): Promise<Role | null> {
  const { rows } = await tx.query<{ role: Role }>(
    sql`DELETE FROM memberships WHERE organization_id = ${organizationId}::uuid AND user_id = ${userId} RETURNING role`,
  );
  return rows[0]?.role ?? null;
}
