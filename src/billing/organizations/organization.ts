/**
 * The `organizations` table, its own columns: who the organization is, its plan, currency and trial. (Its billing
 * profile columns belong to `profile/`; its role for a caller and its lock to `organization-access.ts`.)
 */
import sql, { raw, type Sql } from 'sql-template-tag';
import type { Queryable } from '../../db/database.js';

export interface Organization {
  id: string;
  slug: string;
  name: string;
  plan: string;
  currency: string;
  /** The trial's free window [trialStartedAt, trialEndsAt); both null when it never had a trial. */
  trialStartedAt: Date | null;
  trialEndsAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface OrganizationRow {
  id: string;
  slug: string;
  name: string;
  plan: string;
  currency: string;
  trial_started_at: Date | null;
  trial_ends_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** The columns of an `OrganizationRow` over `o`, for the `select` of an organization entry (which reads `o.id` itself). */
export const organizationColumns: Sql = raw('o.slug, o.name, o.plan, o.currency, o.trial_started_at, o.trial_ends_at, o.created_at, o.updated_at');

export function toOrganization(row: OrganizationRow): Organization {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    plan: row.plan,
    currency: row.currency,
    trialStartedAt: row.trial_started_at,
    trialEndsAt: row.trial_ends_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export async function insertOrganization(tx: Queryable, organization: Organization): Promise<void> {
  await tx.query(
    sql`INSERT INTO organizations (id, slug, name, plan, currency, trial_started_at, trial_ends_at, created_at, updated_at)
        VALUES (${organization.id}::uuid, ${organization.slug}, ${organization.name}, ${organization.plan}, ${organization.currency},
                ${organization.trialStartedAt}::timestamptz, ${organization.trialEndsAt}::timestamptz, ${organization.createdAt}::timestamptz, ${organization.updatedAt}::timestamptz)`,
  );
}

/** Moves the organization to a plan (with its currency and trial window). */
export async function updateOrganizationPlan(tx: Queryable, organization: Organization): Promise<void> {
  await tx.query(
    sql`UPDATE organizations SET plan = ${organization.plan}, currency = ${organization.currency},
                                 trial_started_at = ${organization.trialStartedAt}::timestamptz, trial_ends_at = ${organization.trialEndsAt}::timestamptz,
                                 updated_at = ${organization.updatedAt}::timestamptz
         WHERE id = ${organization.id}::uuid`,
  );
}


/**
 * Organizations whose name or slug contains `query` (any case), by slug, after the slug `afterSlug`: a page of the
 * operator's list. `strpos`, not LIKE, so that `%` and `_` in a query are plain characters.
 */
export async function searchOrganizations(
  db: Queryable,
  options: { query: string | null; afterSlug: string | null; limit: number },
): Promise<Organization[]> {
  const { rows } = await db.query<OrganizationRow>(
    sql`SELECT o.id, ${organizationColumns}
          FROM organizations o
         WHERE (${options.query}::text IS NULL
                OR strpos(lower(o.name), lower(${options.query}::text)) > 0
                OR strpos(o.slug, lower(${options.query}::text)) > 0)
           AND (${options.afterSlug}::text IS NULL OR o.slug > ${options.afterSlug}::text)
         ORDER BY o.slug
         LIMIT ${options.limit}::int`,
  );
  return rows.map(toOrganization);
}
