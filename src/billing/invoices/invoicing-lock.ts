/**
 * The invoicing lock of an organization (a transaction-scoped advisory lock): invoicing takes it exclusively, and
 * recording usage takes it shared, so that an event is either seen by the invoice of its period or recorded as late
 * usage after it, never lost in between. Always taken in one fixed order (the ids' bytes), so two transactions with
 * overlapping organizations never deadlock.
 */
import sql from 'sql-template-tag';
import type { Queryable } from '../../db/database.js';

/** Billing runs, reruns and concurrent workers take turns on an organization. */
export async function lockOrganizationsInvoicing(tx: Queryable, organizationIds: readonly string[]): Promise<void> {
  await tx.query(
    sql`SELECT pg_advisory_xact_lock(hashtextextended('invoicing:' || id, 0))
          FROM (SELECT id FROM unnest(${organizationIds}::text[]) AS id ORDER BY id COLLATE "C" OFFSET 0) AS ordered`,
    { prepare: 'lock_organizations_invoicing' },
  );
}

/** Waits for any invoicing of the organizations to commit, and keeps new invoicing out until this transaction ends. */
export async function shareOrganizationsInvoicingLock(tx: Queryable, organizationIds: readonly string[]): Promise<void> {
  await tx.query(
    sql`SELECT pg_advisory_xact_lock_shared(hashtextextended('invoicing:' || id, 0))
          FROM (SELECT id FROM unnest(${[...new Set(organizationIds)]}::text[]) AS id ORDER BY id COLLATE "C" OFFSET 0) AS ordered`,
    { prepare: 'share_organizations_invoicing_lock' },
  );
}
