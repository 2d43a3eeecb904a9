import type { AppContext } from '../../app-context.js';
import type { Caller } from '../../domain/actor.js';
import { creditCodeColumns, toCreditCode, viewCreditCode, type CreditCodeRow, type CreditCodeView } from './credit-code.js';
import { requireOperator } from '../access/authorize.js';

export const DEFAULT_CREDIT_CODE_PAGE = 100;
export const MAX_CREDIT_CODE_PAGE = 1000;

/** Newest first. */
export async function listCreditCodes(context: AppContext, request: Caller, options: { limit?: number } = {}): Promise<CreditCodeView[]> {
  requireOperator(request, 'Credit codes');
  const limit = Math.min(Math.max(options.limit ?? DEFAULT_CREDIT_CODE_PAGE, 1), MAX_CREDIT_CODE_PAGE);
  const { rows } = await context.database.query<CreditCodeRow>(
    `SELECT ${creditCodeColumns} FROM credit_codes ORDER BY created_at DESC, id LIMIT $1`,
    [limit],
  );
  const now = context.clock.now();
  return rows.map((row) => viewCreditCode(toCreditCode(row), now));
}
