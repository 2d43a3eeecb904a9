import sql, { raw, type Sql } from 'sql-template-tag';
import type { AppContext } from '../../app-context.js';
import { insertAuditEvent } from '../../audit/record-audit-event.js';
import { eventJson, insertBillingEvent } from '../../events/billing-event.js';
import { toSafeInteger } from '../../domain/money.js';
import { announceBillingStatusIn, lastAnnouncementColumns, type LastAnnouncementColumns } from '../status/billing-status-announcements.js';
import type { Queryable } from '../../db/database.js';
import { BillingError, invalidInput, isUniqueViolation } from '../../errors.js';
import { creditCodeRefusal, normalizeCreditCode } from '../../domain/credit-code.js';
import type { Caller } from '../../domain/actor.js';
import { hitsInWindow, recordHit, refuseWhenSpent } from '../../rate-limits/rate-limits.js';
import type { Commit } from '../idempotency/idempotency-keys.js';
import { enterOrganization } from '../organizations/organization-access.js';
import { creditBalanceLockColumn } from './credit-balance.js';
import {
  creditCodeAlreadyRedeemed,
  joinedCreditCodeColumns,
  creditCodeCurrencyMismatch,
  creditCodeNotFound,
  creditCodeRefused,
  toCreditCode,
  type CreditCode,
  type JoinedCreditCodeRow,
} from './credit-code.js';
import { insertLedgerEntry, newLedgerEntry, type CreditLedgerEntry } from './credit-ledger.js';
import type { Nullable } from '../../domain/present.js';

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
 * Failed redemptions per organization are limited (`config.rateLimits.creditCodeFailures`): each refusal of a code,
 * whether or not the code exists, counts once, after the transaction; the entry reads the count in its own
 * statement, so a member of an organization over the limit gets 429 before any code is looked at.
 *
 * Grants the code's amount to the organization, in one transaction of two statements: the entry into the
 * organization, which also reads its currency, the code, and whether the organization redeemed it already, and so
 * decides the answer for every refusal, and takes the organization's balance lock; then ONE statement that takes the code's
 * counter by a conditional UPDATE (so concurrent redemptions of the last use cannot both pass) and, only if it did,
 * writes the ledger row, the redemption row (whose primary key forbids a second redemption by the same
 * organization) and the audit event, and answers the new balance.
 *
 * Under an Idempotency-Key, `commit` runs that transaction with the key's claim before it and its answer after it.
 */
export async function redeemCreditCode(
  context: AppContext,
  caller: Caller,
  input: RedeemCreditCodeInput,
  commit: Commit<CreditCodeRedemption> = (work) => context.database.transaction(work),
): Promise<CreditCodeRedemption> {
  if (input.code === undefined || input.code.trim() === '') {
    throw invalidInput([{ field: 'code', reason: 'required', message: 'is required' }]);
  }
  const normalizedCode = normalizeCreditCode(input.code);
  const { organizationId } = input;
  const now = context.clock.now();
  // Wall-clock time for the limit: guessing happens in real time, whatever the business clock says.
  const attemptedAt = new Date();
  const failureLimit = context.config.rateLimits.creditCodeFailures;
  const failedAttempts = hitsInWindow(failureLimit, organizationId, attemptedAt);
  let codeLookedAt = false;
  return commit(async (tx) => {
    const entered = await enterForRedemption(tx, caller, organizationId, normalizedCode, failedAttempts);
    refuseWhenSpent(failureLimit, entered.failedAttempts, attemptedAt, 'failed credit-code redemptions');
    codeLookedAt = true;
    const { currency, code, alreadyRedeemed } = entered;
    if (code === null) throw creditCodeNotFound();
    if (alreadyRedeemed) throw creditCodeAlreadyRedeemed();
    const refusal = creditCodeRefusal(code, now);
    if (refusal !== null) throw creditCodeRefused(refusal);
    if (code.currency !== currency) throw creditCodeCurrencyMismatch(code.currency, currency);

    const redeemed = await writeRedemption(tx, caller, now, organizationId, code);
    if (redeemed === null) {
      // Someone else took the last use (or disabled the code, or this organization redeemed it) since the read
      // above: say which, as of now.
      const fresh = await enterForRedemption(tx, caller, organizationId, normalizedCode, failedAttempts);
      if (fresh.alreadyRedeemed) throw creditCodeAlreadyRedeemed();
      throw creditCodeRefused((fresh.code && creditCodeRefusal(fresh.code, now)) ?? 'exhausted');
    }
    await announceBillingStatusIn(tx, organizationId, now, { onlyFrom: ['NO_CREDIT_LEFT'], announced: redeemed.announced });
    return {
      creditCode: { ...code, redemptionCount: redeemed.redemptionCount },
      entry: redeemed.entry,
      currency,
      balanceMinor: redeemed.balanceMinor,
    };
  }).catch(async (error: unknown) => {
    // Two redemptions by the same organization that both passed the read: the primary key refuses the second.
    const refusal = isUniqueViolation(error, 'credit_code_redemptions_pkey') ? creditCodeAlreadyRedeemed() : error;
    if (codeLookedAt && refusal instanceof BillingError && refusal.status < 500) {
      await recordHit(context.database, failureLimit, organizationId, attemptedAt);
    }
    throw refusal;
  });
}

interface RedemptionState {
  /** Failed redemptions of the organization in the current rate-limit window. */
  failedAttempts: number;
  currency: string;
  code: CreditCode | null;
  alreadyRedeemed: boolean;
}


/**
 * Enters the organization (billing write) reading its currency, the code, and whether the organization redeemed it,
 * and takes the organization's balance lock: one round trip.
 */
async function enterForRedemption(
  tx: Queryable,
  caller: Caller,
  organizationId: string,
  normalizedCode: string | null,
  failedAttempts: Sql,
): Promise<RedemptionState> {
  const row = await enterOrganization<{ organization_currency: string; already_redeemed: boolean; failed_attempts: number } & Nullable<JoinedCreditCodeRow>>(
    tx,
    caller,
    { id: organizationId },
    'billing.write',
    {
      // The balance lock is taken here, before the write: the write's snapshot then holds every committed balance change.
      select: sql`o.currency AS organization_currency, ${joinedCreditCodeColumns('c')}, ${failedAttempts}::int4 AS failed_attempts,
                  ${creditBalanceLockColumn(sql`o.id`)} AS balance_locked,
                  EXISTS (SELECT 1 FROM credit_code_redemptions r WHERE r.credit_code_id = c.id AND r.organization_id = o.id) AS already_redeemed`,
      join: sql`LEFT JOIN credit_codes c ON c.code = ${normalizedCode}::text`,
      prepare: 'enter_organization_for_redemption',
    },
  );
  const code = isPresent(row) ? toCreditCode({ ...row, id: row.credit_code_id }) : null;
  return { failedAttempts: row.failed_attempts, currency: row.organization_currency, code, alreadyRedeemed: row.already_redeemed };
}

/** A LEFT JOIN that found the code has its (NOT NULL) id. */
function isPresent<Row extends Nullable<JoinedCreditCodeRow>>(row: Row): row is Row & JoinedCreditCodeRow {
  return row.credit_code_id !== null;
}

/**
 * One statement: counts the use only if the code is still redeemable (the race-safe check), and only then writes
 * the ledger row, the redemption row and the audit event. Answers the new count and the balance (the ledger as the
 * statement found it, under the balance lock, plus this entry, which the statement itself cannot see); `null` when
 * the code could not be taken (nothing was written).
 */
async function writeRedemption(
  tx: Queryable,
  caller: Caller,
  now: Date,
  organizationId: string,
  code: CreditCode,
): Promise<{ redemptionCount: number; entry: CreditLedgerEntry; balanceMinor: bigint; announced: LastAnnouncementColumns } | null> {
  const entry = newLedgerEntry({
    organizationId,
    amountMinor: code.amountMinor,
    currency: code.currency,
    reason: 'credit_code',
    reference: code.id,
    description: `Credit code ${code.code}`,
    createdAt: now,
  });
  const audit = insertAuditEvent(
    caller,
    now,
    {
      organizationId,
      type: CREDIT_CODE_REDEEM,
      changes: { creditCodeId: code.id, code: code.code, amountMinor: code.amountMinor, currency: code.currency, ledgerEntryId: entry.id },
    },
    raw('taken'),
  );
  const balanceAfter = sql`((SELECT COALESCE(SUM(l.amount_minor), 0) FROM credit_ledger_entries l
                  WHERE l.organization_id = ${organizationId}::uuid AND l.currency = ${code.currency}::text) + ${code.amountMinor}::int8)::int8`;
  const grantedEvent = insertBillingEvent(
    now,
    {
      type: 'credits.granted',
      organizationId,
      data: sql`${eventJson({
        amount_in_cents: toSafeInteger(code.amountMinor),
        currency: code.currency,
        source: 'credit_code',
        code: code.code,
        ledger_entry_id: entry.id,
      })}::jsonb || jsonb_build_object('balance_in_cents', ${balanceAfter})`,
    },
    raw('taken'),
  );
  const { rows } = await tx.query<{ redemption_count: number; balance: bigint } & LastAnnouncementColumns>(
    sql`WITH taken AS (
          UPDATE credit_codes SET redemption_count = redemption_count + 1
           WHERE id = ${code.id}::uuid
             AND disabled_at IS NULL
             AND (max_redemptions IS NULL OR redemption_count < max_redemptions)
             AND (expires_at IS NULL OR expires_at > ${now}::timestamptz)
          RETURNING redemption_count
        ), entry AS (
          ${insertLedgerEntry(entry, raw('taken'))}
        ), redemption AS (
          INSERT INTO credit_code_redemptions (credit_code_id, organization_id, ledger_entry_id, redeemed_at)
          SELECT ${code.id}::uuid, ${organizationId}::uuid, ${entry.id}::uuid, ${now}::timestamptz FROM taken
        ), audit AS (
          ${audit}
        ), granted_event AS (
          ${grantedEvent}
        )
        SELECT taken.redemption_count, ${balanceAfter} AS balance, ${lastAnnouncementColumns(organizationId)}
          FROM taken`,
    { prepare: 'write_credit_code_redemption' },
  );
  const row = rows[0];
  if (!row) return null;
  const announced = { last_announcement: row.last_announcement };
  return { redemptionCount: row.redemption_count, entry, balanceMinor: row.balance, announced };
}
