import type { AppContext } from '../../app-context.js';
import { auditEventInsertFrom } from '../../audit/record-audit-event.js';
import type { Queryable } from '../../db/database.js';
import { invalidInput, isUniqueViolation, notFound } from '../../errors.js';
import { creditCodeRefusal, normalizeCreditCode } from '../../domain/credit-code.js';
import type { Actor, Caller, Role } from '../../domain/actor.js';
import { checkAccess } from '../access/authorize.js';
import { lockCreditBalance } from './credit-balance.js';
import {
  creditCodeAlreadyRedeemed,
  creditCodeColumns,
  creditCodeCurrencyMismatch,
  creditCodeNotFound,
  creditCodeRefused,
  toCreditCode,
  type CreditCode,
  type CreditCodeRow,
} from './credit-code.js';
import { ledgerEntryInsertFrom, type CreditLedgerEntry } from './credit-ledger.js';

export interface RedeemCreditCodeInput {
  organizationId: string;
  /** As the person typed it; matched without regard to case or surrounding blanks. */
  code: string | undefined;
}

export interface CreditCodeRedemption {
  creditCode: CreditCode;
  entry: CreditLedgerEntry;
  /** The organization's balance in its currency, after the redemption. */
  currency: string;
  balanceMinor: bigint;
}

export const CREDIT_CODE_REDEEM = 'CREDIT_CODE_REDEEM';

/**
 * Grants the code's amount to the organization, in one transaction of three statements: one read (the caller's
 * membership role, the organization's currency, the code, and whether the organization redeemed it already) that
 * decides the answer for every refusal; the organization's balance lock; then ONE statement that takes the code's
 * counter by a conditional UPDATE (so concurrent redemptions of the last use cannot both pass) and, only if it did,
 * writes the ledger row, the redemption row (whose primary key forbids a second redemption by the same
 * organization) and the audit event, and answers the new balance.
 */
export async function redeemCreditCode(
  context: AppContext,
  request: Caller,
  input: RedeemCreditCodeInput,
): Promise<CreditCodeRedemption> {
  if (input.code === undefined || input.code.trim() === '') {
    throw invalidInput([{ field: 'code', reason: 'required', message: 'is required' }]);
  }
  const normalizedCode = normalizeCreditCode(input.code);
  const { organizationId } = input;
  const now = context.clock.now();
  return context.database
    .transaction(async (tx) => {
      const { currency, code, alreadyRedeemed, memberRole } = await loadRedemptionState(tx, organizationId, normalizedCode, request.actor);
      checkAccess(request.actor, organizationId, memberRole, 'billing');
      if (code === null) throw creditCodeNotFound();
      if (alreadyRedeemed) throw creditCodeAlreadyRedeemed();
      const refusal = creditCodeRefusal(code, now);
      if (refusal !== null) throw creditCodeRefused(refusal);
      if (code.currency !== currency) throw creditCodeCurrencyMismatch(code.currency, currency);

      // Taken after the read and before the write: the write's snapshot then holds every committed balance change.
      await lockCreditBalance(tx, organizationId);
      const redeemed = await writeRedemption(tx, request, now, organizationId, code);
      if (redeemed === null) {
        // Someone else took the last use (or disabled the code, or this organization redeemed it) since the read
        // above: say which, as of now.
        const fresh = await loadRedemptionState(tx, organizationId, normalizedCode, request.actor);
        if (fresh.alreadyRedeemed) throw creditCodeAlreadyRedeemed();
        throw creditCodeRefused((fresh.code && creditCodeRefusal(fresh.code, now)) ?? 'exhausted');
      }
      return {
        creditCode: { ...code, redemptionCount: redeemed.redemptionCount },
        entry: redeemed.entry,
        currency,
        balanceMinor: redeemed.balanceMinor,
      };
    })
    .catch((error: unknown) => {
      // Two redemptions by the same organization that both passed the read: the primary key refuses the second.
      if (isUniqueViolation(error, 'credit_code_redemptions_pkey')) throw creditCodeAlreadyRedeemed();
      throw error;
    });
}

interface RedemptionState {
  currency: string;
  code: CreditCode | null;
  alreadyRedeemed: boolean;
  /** The acting user's role in the organization; undefined when not a member or not a user. */
  memberRole: Role | undefined;
}

/** The caller's role, the organization's currency, the code, and whether the organization redeemed it: one round trip. */
async function loadRedemptionState(tx: Queryable, organizationId: string, normalizedCode: string | null, actor: Actor): Promise<RedemptionState> {
  const userId = actor.type === 'user' ? actor.userId : null;
  const { rows } = await tx.query<{ organization_currency: string; member_role: Role | null; already_redeemed: boolean } & Nullable<CreditCodeRow>>(
    `SELECT o.currency AS organization_currency, m.role AS member_role, ${prefixedCreditCodeColumns},
            EXISTS (SELECT 1 FROM credit_code_redemptions r WHERE r.credit_code_id = c.id AND r.organization_id = o.id) AS already_redeemed
       FROM organizations o
       LEFT JOIN memberships m ON m.organization_id = o.id AND m.user_id = $3
       LEFT JOIN credit_codes c ON c.code = $2
      WHERE o.id = $1`,
    [organizationId, normalizedCode, userId],
    { prepare: 'load_credit_code_redemption_as' },
  );
  const row = rows[0];
  // An unknown organization answers the same 404 as one the caller is not a member of.
  if (!row) throw notFound('Organization');
  const code = isPresent(row) ? toCreditCode(row) : null;
  return { currency: row.organization_currency, code, alreadyRedeemed: row.already_redeemed, memberRole: row.member_role ?? undefined };
}

type Nullable<T> = { [K in keyof T]: T[K] | null };
const prefixedCreditCodeColumns = creditCodeColumns
  .split(',')
  .map((column) => `c.${column.trim()}`)
  .join(', ');

/** A LEFT JOIN that found the code has its (NOT NULL) id. */
function isPresent(row: Nullable<CreditCodeRow>): row is CreditCodeRow {
  return row.id !== null;
}

/**
 * One statement: counts the use only if the code is still redeemable (the race-safe check), and only then writes
 * the ledger row, the redemption row and the audit event. Answers the new count and the balance (the ledger as the
 * statement found it, under the balance lock, plus this entry, which the statement itself cannot see); `null` when
 * the code could not be taken (nothing was written).
 */
async function writeRedemption(
  tx: Queryable,
  request: Caller,
  now: Date,
  organizationId: string,
  code: CreditCode,
): Promise<{ redemptionCount: number; entry: CreditLedgerEntry; balanceMinor: bigint } | null> {
  const parameters: unknown[] = [code.id, now, organizationId, code.currency, code.amountMinor];
  const ledger = ledgerEntryInsertFrom('taken', parameters.length + 1, {
    organizationId,
    amountMinor: code.amountMinor,
    currency: code.currency,
    reason: 'credit_code',
    reference: code.id,
    description: `Credit code ${code.code}`,
    createdAt: now,
  });
  parameters.push(...ledger.parameters);
  const entryId = `$${parameters.length - ledger.parameters.length + 1}::uuid`;
  const audit = auditEventInsertFrom('taken', parameters.length + 1, request, now, {
    organizationId,
    type: CREDIT_CODE_REDEEM,
    changes: {
      creditCodeId: code.id,
      code: code.code,
      amountMinor: code.amountMinor,
      currency: code.currency,
      ledgerEntryId: ledger.entry.id,
    },
  });
  parameters.push(...audit.parameters);
  const { rows } = await tx.query<{ redemption_count: number; balance: bigint }>(
    `WITH taken AS (
       UPDATE credit_codes SET redemption_count = redemption_count + 1
        WHERE id = $1::uuid
          AND disabled_at IS NULL
          AND (max_redemptions IS NULL OR redemption_count < max_redemptions)
          AND (expires_at IS NULL OR expires_at > $2::timestamptz)
       RETURNING redemption_count
     ), entry AS (
       ${ledger.sql}
     ), redemption AS (
       INSERT INTO credit_code_redemptions (credit_code_id, organization_id, ledger_entry_id, redeemed_at)
       SELECT $1::uuid, $3::uuid, ${entryId}, $2::timestamptz FROM taken
     ), audit AS (
       ${audit.sql}
     )
     SELECT taken.redemption_count,
            ((SELECT COALESCE(SUM(l.amount_minor), 0) FROM credit_ledger_entries l
               WHERE l.organization_id = $3::uuid AND l.currency = $4::text) + $5::int8)::int8 AS balance
       FROM taken`,
    parameters,
    { prepare: 'write_credit_code_redemption' },
  );
  const row = rows[0];
  if (!row) return null;
  return { redemptionCount: row.redemption_count, entry: ledger.entry, balanceMinor: row.balance };
}
