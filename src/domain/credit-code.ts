/**
 * Credit code rules. Pure: the current instant is always passed in.
 * Codes are matched without regard to case and stored upper-case.
 */

/** What an operator may create: letters, digits, `_` and `-`, 3 to 64 characters. */
export const CREDIT_CODE_PATTERN = '^[A-Za-z0-9_-]{3,64}$';
const creditCodeExpression = new RegExp(CREDIT_CODE_PATTERN);

/** Largest `max_redemptions` the `integer` column holds. */
export const MAX_CREDIT_CODE_REDEMPTIONS = 2_147_483_647;

/**
 * The stored form of a code someone typed: surrounding blanks removed (people paste codes), upper-cased.
 * `null` when it cannot be a code at all, so it can never match one.
 */
export function normalizeCreditCode(input: string): string | null {
  const trimmed = input.trim();
  return creditCodeExpression.test(trimmed) ? trimmed.toUpperCase() : null;
}

export interface CreditCodeState {
  expiresAt: Date | null;
  maxRedemptions: number | null;
  redemptionCount: number;
  disabledAt: Date | null;
}

/** Why a code cannot be redeemed now; checked in this order, so a disabled expired code reads "disabled". */
export type CreditCodeRefusal = 'disabled' | 'expired' | 'exhausted';

export function creditCodeRefusal(code: CreditCodeState, now: Date): CreditCodeRefusal | null {
  // Disabling takes effect at once, whatever the clock says (the redemption UPDATE checks `disabled_at IS NULL`).
  if (code.disabledAt !== null) return 'disabled';
  // A code is valid up to, not including, its expiry instant (the redemption UPDATE uses `expires_at > now`).
  if (code.expiresAt !== null && code.expiresAt.getTime() <= now.getTime()) return 'expired';
  if (code.maxRedemptions !== null && code.redemptionCount >= code.maxRedemptions) return 'exhausted';
  return null;
}

export type CreditCodeStatus = 'active' | CreditCodeRefusal;

/** The status an operator sees in the list of codes. */
export function creditCodeStatus(code: CreditCodeState, now: Date): CreditCodeStatus {
  return creditCodeRefusal(code, now) ?? 'active';
}
