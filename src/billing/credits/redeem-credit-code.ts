import type { AppContext } from '../../app-context.js';
import { recordAuditEvent } from '../../audit/record-audit-event.js';
import type { Queryable } from '../../db/database.js';
import { invalidInput, isUniqueViolation, notFound } from '../../errors.js';
import { creditCodeRefusal, normalizeCreditCode } from '../../domain/credit-code.js';
import type { RequestContext } from '../access/actor.js';
import { authorize } from '../access/authorize.js';
import { getCreditBalance, lockCreditBalance } from './credit-balance.js';
import {
  creditCodeAlreadyRedeemed,
  creditCodeColumns,
  creditCodeCurrencyMismatch,
  creditCodeNotFound,
  creditCodeRefused,
  findCreditCodeByCode,
  toCreditCode,
  type CreditCode,
  type CreditCodeRow,
} from './credit-code.js';
import { appendLedgerEntry, type CreditLedgerEntry } from './credit-ledger.js';

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
 * Grants the code's amount to the organization: in one transaction, the code's counter is taken by a conditional
 * UPDATE (so concurrent redemptions of the last use cannot both pass), the ledger row and the redemption row
 * (whose primary key forbids a second redemption by the same organization) are written, and the audit event.
 */
export async function redeemCreditCode(
  context: AppContext,
  request: RequestContext,
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
      await authorize(tx, request.actor, organizationId, 'billing');
      await lockCreditBalance(tx, organizationId);
      const { currency, code, alreadyRedeemed } = await loadRedemptionState(tx, organizationId, normalizedCode);
      if (code === null) throw creditCodeNotFound();
      if (alreadyRedeemed) throw creditCodeAlreadyRedeemed();
      const refusal = creditCodeRefusal(code, now);
      if (refusal !== null) throw creditCodeRefused(refusal);
      if (code.currency !== currency) throw creditCodeCurrencyMismatch(code.currency, currency);

      const redemptionCount = await takeRedemption(tx, code.id, now);
      if (redemptionCount === null) {
        // Someone else took the last use (or disabled the code) since the read above: say which, as of now.
        const fresh = await findCreditCodeByCode(tx, code.code);
        throw creditCodeRefused((fresh && creditCodeRefusal(fresh, now)) ?? 'exhausted');
      }

      const entry = await appendLedgerEntry(tx, {
        organizationId,
        amountMinor: code.amountMinor,
        currency: code.currency,
        reason: 'credit_code',
        reference: code.id,
        description: `Credit code ${code.code}`,
        createdAt: now,
      });
      await tx.query(
        'INSERT INTO credit_code_redemptions (credit_code_id, organization_id, ledger_entry_id, redeemed_at) VALUES ($1, $2, $3, $4)',
        [code.id, organizationId, entry.id, now],
      );
      await recordAuditEvent(tx, request, now, {
        organizationId,
        type: CREDIT_CODE_REDEEM,
        changes: {
          creditCodeId: code.id,
          code: code.code,
          amountMinor: code.amountMinor,
          currency: code.currency,
          ledgerEntryId: entry.id,
        },
      });
      const balanceMinor = await getCreditBalance(tx, organizationId, currency);
      return { creditCode: { ...code, redemptionCount }, entry, currency, balanceMinor };
    })
    .catch((error: unknown) => {
      // Only reachable if the balance lock were bypassed: the primary key still refuses a second redemption.
      if (isUniqueViolation(error, 'credit_code_redemptions_pkey')) throw creditCodeAlreadyRedeemed();
      throw error;
    });
}

/** The organization's currency, the code, and whether the organization redeemed it already: one round trip. */
async function loadRedemptionState(
  tx: Queryable,
  organizationId: string,
  normalizedCode: string | null,
): Promise<{ currency: string; code: CreditCode | null; alreadyRedeemed: boolean }> {
  const { rows } = await tx.query<{ organization_currency: string; already_redeemed: boolean } & Nullable<CreditCodeRow>>(
    `SELECT o.currency AS organization_currency, ${prefixedCreditCodeColumns},
            EXISTS (SELECT 1 FROM credit_code_redemptions r WHERE r.credit_code_id = c.id AND r.organization_id = o.id) AS already_redeemed
       FROM organizations o
       LEFT JOIN credit_codes c ON c.code = $2
      WHERE o.id = $1`,
    [organizationId, normalizedCode],
  );
  const row = rows[0];
  if (!row) throw notFound('Organization');
  const code = isPresent(row) ? toCreditCode(row) : null;
  return { currency: row.organization_currency, code, alreadyRedeemed: row.already_redeemed };
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

/** The race-safe check: counts the use only if the code is still redeemable; `null` when it is not. */
async function takeRedemption(tx: Queryable, creditCodeId: string, now: Date): Promise<number | null> {
  const { rows } = await tx.query<{ redemption_count: number }>(
    `UPDATE credit_codes SET redemption_count = redemption_count + 1
      WHERE id = $1
        AND disabled_at IS NULL
        AND (max_redemptions IS NULL OR redemption_count < max_redemptions)
        AND (expires_at IS NULL OR expires_at > $2)
      RETURNING redemption_count`,
    [creditCodeId, now],
  );
  return rows[0]?.redemption_count ?? null;
}
