/**
 * The invoicing lock of an organization (a transaction-scoped advisory lock): invoicing takes it exclusively, and
 * recording usage takes it shared, so that an event is either seen by the invoice of its period or recorded as late
 * usage after it, never lost in between. Always taken in the one lock order (`idsInLockOrder`).
 */
import sql, { type Sql } from 'sql-template-tag';
import type { Queryable } from '../../db/database.js';
import { idsInLockOrder } from '../../db/lock-order.js';

/** The organizations' invoicing lock keys as a relation (`key`), in the one fixed order every taker follows. */
function orderedLockKeys(organizationIds: readonly string[] | Sql): Sql {
  return sql`(SELECT hashtextextended('invoicing:' || ordered.id, 0) AS key FROM ${idsInLockOrder(organizationIds)}) AS lock_keys`;
}

/** Billing runs, reruns and concurrent workers take turns on an organization. */
export async function lockOrganizationsInvoicing(tx: Queryable, organizationIds: readonly string[]): Promise<void> {
  await tx.query(sql`SELECT pg_advisory_xact_lock(lock_keys.key) FROM ${orderedLockKeys(organizationIds)}`, {
    prepare: 'lock_organizations_invoicing',
  });
}

/**
 * The invoices of the (organization, period start) pairs of the relation `pairs` (a CTE of the statement with columns
 * `organization_id uuid` and `period_start timestamptz`), as a relation (organization_id, period_start), read
 * after any invoicing of their organizations has committed. A condition that is always true and is evaluated once
 * before the read (a one-time filter) takes the organizations' invoicing locks shared: it waits for invoicing of
 * them to commit and keeps new invoicing out until the transaction ends. The read is the volatile function
 * `invoiced_periods_now`, which takes a snapshot of its own when called, so it sees what that invoicing committed
 * even though the statement using this relation started before: one statement does it all, so a single-statement
 * write needs no transaction around it. Use it once per statement (a MATERIALIZED CTE).
 */
export function invoicedPeriodsAfterInvoicing(pairs: Sql): Sql {
  const organizationIds = sql`ARRAY(SELECT DISTINCT organization_id::text FROM ${pairs})`;
  const lockedShared = sql`(SELECT count(pg_advisory_xact_lock_shared(lock_keys.key)) FROM ${orderedLockKeys(organizationIds)}) >= 0`;
  return sql`SELECT invoiced.organization_id, invoiced.period_start
               FROM invoiced_periods_now(ARRAY(SELECT organization_id FROM ${pairs}), ARRAY(SELECT period_start FROM ${pairs})) AS invoiced
              WHERE ${lockedShared}`;
}
