import sql from 'sql-template-tag';
import type { AppContext } from '../../app-context.js';
import type { Caller } from '../../domain/actor.js';
import { creditCodeColumns, toCreditCode, viewCreditCode, type CreditCodeRow, type CreditCodeView } from './credit-code.js';
import { requireOperator } from '../organizations/organization-access.js';

export const DEFAULT_CREDIT_CODE_PAGE = 100;
export const MAX_CREDIT_CODE_PAGE = 1000;

/** Newest first. */
export async function listCreditCodes(context: AppContext, caller: Caller, options: { limit?: number } = {}): Promise<CreditCodeView[]> {
  requireOperator(caller, 'Credit codes');
  const limit = Math.min(Math.max(options.limit ?? DEFAULT_CREDIT_CODE_PAGE, 1), MAX_CREDIT_CODE_PAGE);
  const { rows } = await context.database.query<CreditCodeRow>(
    sql`SELECT ${creditCodeColumns} FROM credit_codes ORDER BY created_at DESC, id LIMIT ${limit}::int`,
  );
  const now = context.clock.now();
  return rows.map((row) => viewCreditCode(toCreditCode(row), now));
}
