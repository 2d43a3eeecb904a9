import { randomUUID } from 'node:crypto';
import sql from 'sql-template-tag';
import type { AppContext } from '../../app-context.js';
import { recordAuditEvent } from '../../audit/record-audit-event.js';
import { conflict, invalidInput, isUniqueViolation, type FieldError } from '../../errors.js';
import { MAX_CREDIT_CODE_REDEMPTIONS, normalizeCreditCode } from '../../domain/credit-code.js';
import { isKnownCurrency } from '../../domain/money.js';
import type { Caller } from '../../domain/actor.js';
import { requireOperator } from '../organizations/organization-access.js';
import { viewCreditCode, type CreditCode, type CreditCodeView } from './credit-code.js';

export interface CreateCreditCodeInput {
  code: string;
  amountMinor: bigint;
  currency: string;
  expiresAt?: Date | null;
  maxRedemptions?: number | null;
}

export const CREDIT_CODE_CREATE = 'CREDIT_CODE_CREATE';

/** An operator creates a code; a code already taken (in any case) is a 409. */
export async function createCreditCode(context: AppContext, caller: Caller, input: CreateCreditCodeInput): Promise<CreditCodeView> {
  requireOperator(caller, 'Credit codes');
  const now = context.clock.now();
  // Field names are the operator API's: it is the only door to this use case, and its error renderer maps no names.
  const errors: FieldError[] = [];
  // Exactly the operator's characters (no trimming): what is printed on a voucher must be what is stored.
  const code = input.code.trim() === input.code ? normalizeCreditCode(input.code) : null;
  if (code === null) errors.push({ field: 'code', reason: 'pattern', message: 'must be 3 to 64 letters, digits, "_" or "-"' });
  if (input.amountMinor <= 0n) errors.push({ field: 'amount_in_cents', reason: 'minimum', message: 'must be a positive number of minor units' });
  if (!isKnownCurrency(input.currency)) errors.push({ field: 'currency', reason: 'invalid_currency', message: 'must be an ISO 4217 currency code' });
  const expiresAt = input.expiresAt ?? null;
  if (expiresAt !== null && expiresAt.getTime() <= now.getTime()) {
    errors.push({ field: 'expires_at', reason: 'past', message: 'must be in the future' });
  }
  const maxRedemptions = input.maxRedemptions ?? null;
  if (maxRedemptions !== null && (!Number.isInteger(maxRedemptions) || maxRedemptions < 1 || maxRedemptions > MAX_CREDIT_CODE_REDEMPTIONS)) {
    errors.push({ field: 'max_redemptions', reason: 'range', message: `must be a whole number from 1 to ${MAX_CREDIT_CODE_REDEMPTIONS}` });
  }
  if (code === null || errors.length > 0) throw invalidInput(errors);

  const record: CreditCode = {
    id: randomUUID(),
    code,
    amountMinor: input.amountMinor,
    currency: input.currency,
    expiresAt,
    maxRedemptions,
    redemptionCount: 0,
    disabledAt: null,
    createdAt: now,
  };
  await context.database
    .transaction(async (tx) => {
      await tx.query(
        sql`INSERT INTO credit_codes (id, code, amount_minor, currency, expires_at, max_redemptions, created_at)
            VALUES (${record.id}::uuid, ${record.code}::text, ${record.amountMinor}::int8, ${record.currency}::text,
                    ${record.expiresAt}::timestamptz, ${record.maxRedemptions}::int, ${now}::timestamptz)`,
      );
      await recordAuditEvent(tx, caller, now, {
        organizationId: null,
        type: CREDIT_CODE_CREATE,
        changes: {
          creditCodeId: record.id,
          code: record.code,
          amountMinor: record.amountMinor,
          currency: record.currency,
          expiresAt: record.expiresAt,
          maxRedemptions: record.maxRedemptions,
        },
      });
    })
    .catch((error: unknown) => {
      if (isUniqueViolation(error, 'credit_codes_code_key')) throw conflict('credit_code_taken', 'A credit code with this code already exists');
      throw error;
    });
  return viewCreditCode(record, now);
}
