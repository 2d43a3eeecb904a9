/** The credit code record (table `credit_codes`), how it is read, and the errors of redeeming one. */
import { raw, type Sql } from 'sql-template-tag';
import { BillingError } from '../../errors.js';
import { creditCodeStatus, type CreditCodeRefusal, type CreditCodeStatus } from '../../domain/credit-code.js';

export interface CreditCode {
  id: string;
  /** Upper-case. */
  code: string;
  amountMinor: bigint;
  currency: string;
  expiresAt: Date | null;
  maxRedemptions: number | null;
  redemptionCount: number;
  disabledAt: Date | null;
  createdAt: Date;
}

/** A code as an operator sees it: with its status at a given instant. */
export interface CreditCodeView extends CreditCode {
  status: CreditCodeStatus;
}

export const viewCreditCode = (code: CreditCode, now: Date): CreditCodeView => ({ ...code, status: creditCodeStatus(code, now) });

export interface CreditCodeRow {
  id: string;
  code: string;
  amount_minor: bigint;
  currency: string;
  expires_at: Date | null;
  max_redemptions: number | null;
  redemption_count: number;
  disabled_at: Date | null;
  created_at: Date;
}

const columnNames = ['id', 'code', 'amount_minor', 'currency', 'expires_at', 'max_redemptions', 'redemption_count', 'disabled_at', 'created_at'];

export const creditCodeColumns: Sql = raw(columnNames.join(', '));

/** A code's columns joined to another table's row, through the code's table alias: its `id` is read as `credit_code_id`. */
export const joinedCreditCodeColumns = (alias: string): Sql =>
  raw(columnNames.map((column) => (column === 'id' ? `${alias}.id AS credit_code_id` : `${alias}.${column}`)).join(', '));

export type JoinedCreditCodeRow = Omit<CreditCodeRow, 'id'> & { credit_code_id: string };

export function toCreditCode(row: CreditCodeRow): CreditCode {
  return {
    id: row.id,
    code: row.code,
    amountMinor: row.amount_minor,
    currency: row.currency,
    expiresAt: row.expires_at,
    maxRedemptions: row.max_redemptions,
    redemptionCount: row.redemption_count,
    disabledAt: row.disabled_at,
    createdAt: row.created_at,
  };
}

/*
 * Redemption errors. The organization billing API documents 400 for a bad request, so a code that cannot be used
 * answers 400 with its own machine code; 404 stays "no such organization (or not yours)". Redeeming twice is 409.
 */
export const creditCodeNotFound = () => new BillingError('credit_code_not_found', 400, 'No credit code matches this code');

export const creditCodeAlreadyRedeemed = () =>
  new BillingError('credit_code_already_redeemed', 409, 'This organization has already redeemed this credit code');

export const creditCodeCurrencyMismatch = (codeCurrency: string, organizationCurrency: string) =>
  new BillingError(
    'credit_code_currency_mismatch',
    400,
    `This credit code is in ${codeCurrency}; the organization is billed in ${organizationCurrency}`,
  );

const refusalMessages: Record<CreditCodeRefusal, string> = {
  disabled: 'This credit code has been disabled',
  expired: 'This credit code has expired',
  exhausted: 'This credit code has been used the maximum number of times',
};

export const creditCodeRefused = (refusal: CreditCodeRefusal) =>
  new BillingError(`credit_code_${refusal}`, 400, refusalMessages[refusal]);
