import type { Queryable } from '../../db/database.js';
import { forbidden, notFound } from '../../errors.js';
import type { Actor, Caller, Role } from '../../domain/actor.js';

/**
 * `billing`: read and change billing data (owners, admins, billing managers).
 * `administer`: admin-only actions (owners and admins), as seed 002 documents for its billing details.
 */
export type Permission = 'billing' | 'administer';

const rolesAllowed: Record<Permission, readonly Role[]> = {
  billing: ['owner', 'admin', 'billing'],
  administer: ['owner', 'admin'],
};

/** The organization roles a permission admits (for statements that check membership in SQL). */
export function rolesWith(permission: Permission): readonly Role[] {
  return rolesAllowed[permission];
}

/**
 * Checks that the actor may act on the organization. Someone who is not a member gets the same 404 as for an
 * organization that does not exist, so that nothing reveals what exists.
 */
export async function authorize(db: Queryable, actor: Actor, organizationId: string, permission: Permission): Promise<void> {
  let memberRole: Role | undefined;
  if (actor.type === 'user') {
    const { rows } = await db.query<{ role: Role }>(
      'SELECT role FROM memberships WHERE organization_id = $1 AND user_id = $2',
      [organizationId, actor.userId],
    );
    memberRole = rows[0]?.role;
  }
  checkAccess(actor, organizationId, memberRole, permission);
}

/**
 * The rule itself, for reads that fetch the user's membership role together with the data (one round trip):
 * `memberRole` is the user's role in the organization, undefined when not a member.
 */
export function checkAccess(actor: Actor, organizationId: string, memberRole: Role | undefined, permission: Permission): void {
  if (actor.type === 'operator' || actor.type === 'system') return;
  let role: Role | undefined;
  if (actor.type === 'token') {
    if (actor.organizationId === organizationId) role = actor.role;
  } else {
    role = memberRole;
  }
  if (role === undefined) throw notFound('Organization');
  if (!rolesAllowed[permission].includes(role)) {
    throw forbidden(
      permission === 'administer'
        ? 'This action needs the owner or admin role in the organization'
        : 'Billing data needs the owner, admin or billing role in the organization',
    );
  }
}

/** Operator-only use cases (catalogues, clusters, usage, credit codes): the HTTP layer checks it too, the core does not rely on that. */
export function requireOperator(request: Caller, what: string): void {
  if (request.actor.type !== 'operator' && request.actor.type !== 'system') throw forbidden(`${what} are managed by operators`);
}
