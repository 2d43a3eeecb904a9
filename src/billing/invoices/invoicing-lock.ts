/**
 * The invoicing lock of an organization (a transaction-scoped advisory lock): invoicing takes it exclusively, and
 * recording usage takes it shared, so that an event is either seen by the invoice of its period or recorded as late
 * usage after it, never lost in between. Always taken in one fixed order (the ids' bytes), so two transactions with
 * overlapping organizations never deadlock.
 */
import sql, { type Sql } from 'sql-template-tag';
import type { Queryable } from '../../db/database.js';

/** Billing runs, reruns and concurrent workers take turns on an organization. */
export async function lockOrganizationsInvoicing(tx: Queryable, organizationIds: readonly string[]): Promise<void> {
  await tx.query(
    sql`SELECT pg_advisory_xact_lock(hashtextextended('invoicing:' || id, 0))
          FROM (SELECT id FROM unnest(${organizationIds}::text[]) AS id ORDER BY id COLLATE "C" OFFSET 0) AS ordered`,
    { prepare: 'lock_organizations_invoicing' },
  );
}

/**
 * A condition that is always true and, evaluated once before the statement reads any row (a one-time filter),
 * takes the organizations' invoicing locks shared: it waits for any invoicing of them to commit and keeps new
 * invoicing out until this transaction ends. The statements after it in the transaction see what that invoicing
 * wrote (the statement holding it still reads from its own, earlier snapshot).
 */
export function organizationsInvoicingLockShared(organizationIds: readonly string[]): Sql {
  return sql`(SELECT count(pg_advisory_xact_lock_shared(hashtextextended('invoicing:' || id, 0)))
                FROM (SELECT id FROM unnest(${[...new Set(organizationIds)]}::text[]) AS id ORDER BY id COLLATE "C" OFFSET 0) AS ordered) >= 0`;
}
