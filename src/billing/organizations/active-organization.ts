import sql from 'sql-template-tag';
import type { Queryable } from '../../db/database.js';
import type { Caller } from '../../domain/actor.js';
import { BillingError } from '../../errors.js';
import type { OrganizationRef } from './organization-access.js';

/** An organization named by id or slug, or `'active'`: the one the caller is acting in (surfaces without an id). */
export type OrganizationTarget = OrganizationRef | 'active';

/**
 * The organization a target names. The active one is the `org_id` claim of a user's JWT, the organization of an API
 * token, or a user's only organization; entering it checks membership as for any other.
 */
export async function resolveOrganizationTarget(db: Queryable, caller: Caller, target: OrganizationTarget): Promise<OrganizationRef> {
  if (target !== 'active') return target;
  const actor = caller.actor;
  if (actor.type === 'token') return { id: actor.organizationId };
  if (actor.type === 'user') {
    if (actor.activeOrganizationId) return { id: actor.activeOrganizationId };
    const { rows } = await db.query<{ organization_id: string }>(
      sql`SELECT organization_id FROM memberships WHERE user_id = ${actor.userId} LIMIT 2`,
    );
    if (rows.length === 1) return { id: rows[0]!.organization_id };
  }
  throw new BillingError('no_active_organization', 400, 'The token names no active organization (org_id claim)');
}
