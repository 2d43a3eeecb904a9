/** The credit balance of an organization: the sum of its ledger in one currency. */
import sql, { type Sql } from 'sql-template-tag';
import type { Queryable } from '../../db/database.js';
import { idsInLockOrder } from '../../db/lock-order.js';

export async function getCreditBalance(db: Queryable, organizationId: string, currency: string): Promise<bigint> {
  return (await getCreditBalances(db, [{ organizationId, currency }])).get(organizationId) ?? 0n;
}

/**
 * `getCreditBalance` of many organizations in one query, each in its own currency (one currency per organization):
 * organization id → balance.
 */
export async function getCreditBalances(
  db: Queryable,
  accounts: ReadonlyArray<{ organizationId: string; currency: string }>,
): Promise<Map<string, bigint>> {
  const organizationIds = accounts.map((account) => account.organizationId);
  const currencies = accounts.map((account) => account.currency);
  const { rows } = await db.query<{ organization_id: string; balance: bigint }>(
    sql`SELECT account.organization_id, COALESCE(SUM(l.amount_minor), 0)::int8 AS balance
          FROM (SELECT DISTINCT * FROM unnest(${organizationIds}::uuid[], ${currencies}::text[]) AS a(organization_id, currency)) AS account
          LEFT JOIN credit_ledger_entries l ON l.organization_id = account.organization_id AND l.currency = account.currency
         GROUP BY account.organization_id`,
  );
  return new Map(rows.map((row) => [row.organization_id, row.balance]));
}

/** The advisory lock key of an organization's balance (`organizationId` is an SQL text expression). */
function creditLockKey(organizationId: Sql): Sql {
  return sql`hashtextextended('credits:' || ${organizationId}, 0)`;
}

/** Serialises balance changes of one organization (redemptions, invoice credit use) inside a transaction. */
export async function lockCreditBalance(tx: Queryable, organizationId: string): Promise<void> {
  await tx.query(sql`SELECT ${creditBalanceLockColumn(sql`${organizationId}`)}`);
}

/**
 * `lockCreditBalance` as a column (void) of a statement that reads the organization `organizationId` (an SQL
 * expression): the lock costs no round trip of its own. The statements after it see every balance change committed
 * before it was granted; the statement holding it still reads from its own, earlier snapshot.
 */
export function creditBalanceLockColumn(organizationId: Sql): Sql {
  return sql`pg_advisory_xact_lock(${creditLockKey(sql`(${organizationId})::text`)})`;
}

/**
 * `lockCreditBalance` for many organizations, taken in one fixed order (their ids' bytes) so that two transactions
 * locking overlapping sets wait for each other instead of deadlocking.
 */
export async function lockCreditBalances(tx: Queryable, organizationIds: readonly string[]): Promise<void> {
  if (organizationIds.length === 0) return;
  await tx.query(
    sql`SELECT pg_advisory_xact_lock(${creditLockKey(sql`ordered.id`)}) FROM ${idsInLockOrder(organizationIds)}`,
  );
}
