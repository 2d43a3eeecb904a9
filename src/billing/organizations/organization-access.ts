/**
 * The one way into an organization. Every use case that reads or changes an organization's data enters here: one
 * statement resolves the caller's role (by organization id or slug), optionally takes the row lock and returns the
 * organization columns the use case asked for; then the permission the use case names is checked.
 *
 * Someone who is not a member gets the same 404 as for an organization that does not exist, so that nothing reveals
 * what exists.
 */
import sql, { empty, raw, type Sql } from 'sql-template-tag';
import type { Queryable, QueryOptions } from '../../db/database.js';
import type { Actor, Caller, Role } from '../../domain/actor.js';
import { forbidden, notFound } from '../../errors.js';

/**
 * What a use case needs:
 * - `billing.read` / `billing.write`: read or change billing data (owners, admins, billing managers);
 * - `admin`: admin-only actions (owners and admins), as seed 002 documents for its billing details;
 * - `operator`: the platform's operator (or the system itself), never a member.
 */
export type Permission = 'billing.read' | 'billing.write' | 'admin' | 'operator';

const rolesAllowed: Record<Permission, readonly Role[]> = {
  'billing.read': ['owner', 'admin', 'billing'],
  'billing.write': ['owner', 'admin', 'billing'],
  admin: ['owner', 'admin'],
  operator: [],
};

const refusals: Record<Permission, string> = {
  'billing.read': 'Billing data needs the owner, admin or billing role in the organization',
  'billing.write': 'Billing data needs the owner, admin or billing role in the organization',
  admin: 'This action needs the owner or admin role in the organization',
  operator: 'This action is for operators',
};

/** The organization roles a permission admits (for statements that check membership in SQL). */
export function rolesWith(permission: Permission): readonly Role[] {
  return rolesAllowed[permission];
}

/** An organization named by its id or, on the surfaces that use it, its slug. */
export type OrganizationRef = { id: string } | { slug: string };

/**
 * Row locks an entry may take on the organization row (`FOR … OF o`):
 * - `update`: serialises every change of the organization's billing data (profile, addresses, cards, plan);
 * - `key share`: keeps the organization from being deleted while rows that reference it are written.
 */
export type OrganizationLock = 'update' | 'key share';

export interface EnterOptions {
  lock?: OrganizationLock;
  /** Extra select-list expressions over `o` (the organization) and the tables of `join`, e.g. sql`o.plan, o.currency`. */
  select?: Sql;
  /** Extra joins, e.g. sql`LEFT JOIN billing_profiles p ON p.organization_id = o.id`. */
  join?: Sql;
  /** A prepared-statement name for hot paths (the statement's text must never change for that name). */
  prepare?: string;
}

/** What every entry returns: the organization's id and the caller's role in it (`null` for operators and the system). */
export interface OrganizationEntry {
  id: string;
  role: Role | null;
}

const locks: Record<OrganizationLock, Sql> = {
  update: raw('FOR UPDATE OF o'),
  'key share': raw('FOR KEY SHARE OF o'),
};

/** The statement of an entry, for a use case that must embed it (its text depends only on the options' shape). */
export function organizationEntryStatement(caller: Caller, ref: OrganizationRef, options: EnterOptions = {}): Sql {
  const userId = caller.actor.type === 'user' ? caller.actor.userId : null;
  const where = 'id' in ref ? sql`o.id = ${ref.id}::uuid` : sql`o.slug = ${ref.slug}::text`;
  return sql`SELECT o.id, m.role AS member_role${options.select ? sql`, ${options.select}` : empty}
      FROM organizations o
      LEFT JOIN memberships m ON m.organization_id = o.id AND m.user_id = ${userId}::text
      ${options.join ?? empty}
     WHERE ${where}
     ${options.lock ? locks[options.lock] : empty}`;
}

/**
 * Enters an organization: one statement, then the access rule. `Row` describes the columns `options.select` adds.
 * Throws 404 when the organization does not exist or the caller is not in it, 403 when the role is not enough.
 */
export async function enterOrganization<Row extends object = object>(
  db: Queryable,
  caller: Caller,
  ref: OrganizationRef,
  permission: Permission,
  options: EnterOptions = {},
): Promise<OrganizationEntry & Row> {
  if (permission === 'operator') requireOperator(caller);
  else if (!isValidRef(ref)) throw notFound('Organization');
  const queryOptions: QueryOptions | undefined = options.prepare ? { prepare: options.prepare } : undefined;
  const { rows } = await db.query<{ id: string; member_role: Role | null } & Row>(organizationEntryStatement(caller, ref, options), queryOptions);
  const row = rows[0];
  if (!row) throw notFound('Organization');
  const role = checkAccess(caller.actor, row.id, row.member_role ?? undefined, permission);
  const { member_role: _memberRole, ...rest } = row;
  return { ...(rest as unknown as Row), id: row.id, role };
}

/**
 * The access rule itself, for a statement that read the caller's membership role together with its data (a hot
 * path of one round trip, or a guarded write): `memberRole` is the user's role, undefined when not a member.
 * Returns the caller's role (`null` for operators and the system).
 */
export function checkAccess(actor: Actor, organizationId: string, memberRole: Role | undefined, permission: Permission): Role | null {
  if (actor.type === 'operator' || actor.type === 'system') return null;
  let role: Role | undefined;
  if (actor.type === 'token') {
    if (actor.organizationId === organizationId) role = actor.role;
  } else if (actor.type === 'portal') {
    // A portal session acts as a billing manager of its own organization, and is nobody anywhere else.
    if (actor.organizationId === organizationId) role = 'billing';
  } else {
    role = memberRole;
  }
  if (role === undefined) throw notFound('Organization');
  if (!rolesAllowed[permission].includes(role)) throw forbidden(refusals[permission]);
  return role;
}

/** Operator-only use cases (catalogues, clusters, usage, credit codes, the test clock): no organization to enter. */
export function requireOperator(caller: Caller, what?: string): void {
  if (caller.actor.type === 'operator' || caller.actor.type === 'system') return;
  throw forbidden(what ? `${what} are managed by operators` : refusals.operator);
}

/** The user id a membership check compares with, `null` for other actors (for statements that embed the check). */
export function memberUserId(actor: Actor): string | null {
  return actor.type === 'user' ? actor.userId : null;
}

/** Roles as a SQL array literal parameter, for statements that check membership themselves. */
export function rolesParameter(permission: Permission): Sql {
  return sql`${[...rolesWith(permission)]}::text[]`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An id that is not a UUID names no organization (and must not reach a `::uuid` cast). */
function isValidRef(ref: OrganizationRef): boolean {
  return 'id' in ref ? UUID.test(ref.id) : ref.slug.length > 0;
}

