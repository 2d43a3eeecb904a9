import sql from 'sql-template-tag';
import type { AppContext } from '../../app-context.js';
import { recordAuditEvent } from '../../audit/record-audit-event.js';
import { notFound } from '../../errors.js';
import type { Caller } from '../../domain/actor.js';
import { creditCodeColumns, toCreditCode, viewCreditCode, type CreditCodeRow, type CreditCodeView } from './credit-code.js';
import { requireOperator } from '../organizations/organization-access.js';

export const CREDIT_CODE_DISABLE = 'CREDIT_CODE_DISABLE';

/**
 * From now on the code cannot be redeemed; credits already granted stay. Disabling a disabled code changes
 * nothing and records nothing (a retry is harmless).
 */
export async function disableCreditCode(context: AppContext, caller: Caller, creditCodeId: string): Promise<CreditCodeView> {
  requireOperator(caller, 'Credit codes');
  const now = context.clock.now();
  return context.database.transaction(async (tx) => {
    const { rows } = await tx.query<CreditCodeRow>(sql`SELECT ${creditCodeColumns} FROM credit_codes WHERE id = ${creditCodeId}::uuid FOR UPDATE`);
    if (!rows[0]) throw notFound('Credit code');
    const current = toCreditCode(rows[0]);
    if (current.disabledAt !== null) return viewCreditCode(current, now);
    await tx.query(sql`UPDATE credit_codes SET disabled_at = ${now}::timestamptz WHERE id = ${creditCodeId}::uuid`);
    await recordAuditEvent(tx, caller, now, {
      organizationId: null,
      type: CREDIT_CODE_DISABLE,
      changes: { creditCodeId, code: current.code, disabledAt: { old: null, new: now } },
    });
    return viewCreditCode({ ...current, disabledAt: now }, now);
  });
}
