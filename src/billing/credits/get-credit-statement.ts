import sql from 'sql-template-tag';
import type { AppContext } from '../../app-context.js';
import type { Caller } from '../../domain/actor.js';
import { enterOrganization } from '../organizations/organization-access.js';
import { getCreditBalance } from './credit-balance.js';
import { listLedgerEntries, type CreditLedgerEntry } from './credit-ledger.js';

export interface CreditStatement {
  /** The organization's billing currency: the balance counts the entries in this currency. */
  currency: string;
  balanceMinor: bigint;
  /** Newest first. */
  entries: CreditLedgerEntry[];
}

export const DEFAULT_LEDGER_PAGE = 50;
export const MAX_LEDGER_PAGE = 500;

/** The balance and the latest ledger entries, read in one transaction so that they agree with each other. */
export async function getCreditStatement(
  context: AppContext,
  caller: Caller,
  organizationId: string,
  options: { limit?: number } = {},
): Promise<CreditStatement> {
  const limit = Math.min(Math.max(options.limit ?? DEFAULT_LEDGER_PAGE, 1), MAX_LEDGER_PAGE);
  return context.database.transaction(async (tx) => {
    // One snapshot for the balance and the entries (a read-only snapshot never fails to serialise).
    await tx.query(sql`SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY`);
    const { currency } = await enterOrganization<{ currency: string }>(tx, caller, { id: organizationId }, 'billing.read', {
      select: sql`o.currency`,
    });
    const balanceMinor = await getCreditBalance(tx, organizationId, currency);
    const entries = await listLedgerEntries(tx, organizationId, limit);
    return { currency, balanceMinor, entries };
  });
}
