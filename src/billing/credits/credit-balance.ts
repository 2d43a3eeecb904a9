/** The credit balance of an organization: the sum of its ledger in one currency. */
import type { Queryable } from '../../db/database.js';

export async function getCreditBalance(db: Queryable, organizationId: string, currency: string): Promise<bigint> {
  const { rows } = await db.query<{ balance: bigint }>(
    'SELECT COALESCE(SUM(amount_minor), 0)::int8 AS balance FROM credit_ledger_entries WHERE organization_id = $1 AND currency = $2',
    [organizationId, currency],
  );
  return rows[0]?.balance ?? 0n;
}

/** Serialises balance changes of one organization (redemptions, invoice credit use) inside a transaction. */
export async function lockCreditBalance(tx: Queryable, organizationId: string): Promise<void> {
  await tx.query("SELECT pg_advisory_xact_lock(hashtextextended('credits:' || $1::text, 0))", [organizationId]);
}
