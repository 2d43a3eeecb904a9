/**
 * A card of an organization as Bursar keeps it (table `payment_methods`): the provider's reference and what a person
 * needs to recognise the card. Never the number or the CVV.
 */
import type { Queryable } from '../../db/database.js';
import { isCardExpired } from '../../domain/card.js';
import { notFound } from '../../errors.js';

export const PAYMENT_METHOD_ADD = 'PAYMENT_METHOD_ADD';
export const PAYMENT_METHOD_REMOVE = 'PAYMENT_METHOD_REMOVE';

export interface CreditCard {
  id: string;
  organizationId: string;
  provider: string;
  providerReference: string;
  /** The provider's brand name: `visa`, `mastercard`, `amex`, … */
  brand: string;
  last4: string;
  expiryMonth: number;
  expiryYear: number;
  isDefault: boolean;
  createdAt: Date;
}

/** A card as shown to the organization: whether it has expired is decided when it is read. */
export interface CreditCardView extends CreditCard {
  isExpired: boolean;
}

export interface CreditCardRow {
  id: string;
  organization_id: string;
  provider: string;
  provider_reference: string;
  brand: string;
  last4: string;
  expiry_month: number;
  expiry_year: number;
  is_default: boolean;
  created_at: Date;
}

export const creditCardColumns =
  'id, organization_id, provider, provider_reference, brand, last4, expiry_month, expiry_year, is_default, created_at';

export function toCreditCard(row: CreditCardRow): CreditCard {
  return {
    id: row.id,
    organizationId: row.organization_id,
    provider: row.provider,
    providerReference: row.provider_reference,
    brand: row.brand,
    last4: row.last4,
    expiryMonth: row.expiry_month,
    expiryYear: row.expiry_year,
    isDefault: row.is_default,
    createdAt: row.created_at,
  };
}

export function viewCreditCard(card: CreditCard, now: Date): CreditCardView {
  return { ...card, isExpired: isCardExpired(card.expiryMonth, card.expiryYear, now) };
}

/** Default card first, then the newest first: the order the organization sees. */
export async function listCreditCardRows(db: Queryable, organizationId: string): Promise<CreditCard[]> {
  const { rows } = await db.query<CreditCardRow>(
    `SELECT ${creditCardColumns} FROM payment_methods WHERE organization_id = $1
      ORDER BY is_default DESC, created_at DESC, id DESC`,
    [organizationId],
  );
  return rows.map(toCreditCard);
}

/** Another organization's card answers exactly like an unknown one. */
export async function loadCreditCard(db: Queryable, organizationId: string, creditCardId: string): Promise<CreditCard> {
  const { rows } = await db.query<CreditCardRow>(
    `SELECT ${creditCardColumns} FROM payment_methods WHERE organization_id = $1 AND id = $2`,
    [organizationId, creditCardId],
  );
  if (!rows[0]) throw notFound('Credit card');
  return toCreditCard(rows[0]);
}

/**
 * A card row as a part of a larger statement: inserted only if `source` (a CTE of that statement) yields a row. Placeholders start at `$firstParameter`; add `RETURNING …` as needed.
 */
export function creditCardInsertFrom(
  source: string,
  firstParameter: number,
  card: CreditCard,
  fingerprint: string,
): { sql: string; parameters: unknown[] } {
  const casts = ['uuid', 'uuid', 'text', 'text', 'text', 'text', 'int4', 'int4', 'text', 'boolean', 'timestamptz'];
  const placeholders = casts.map((cast, index) => `$${firstParameter + index}::${cast}`).join(', ');
  return {
    sql: `INSERT INTO payment_methods (id, organization_id, provider, provider_reference, brand, last4, expiry_month, expiry_year,
                                      fingerprint, is_default, created_at)
          SELECT ${placeholders} FROM ${source}`,
    parameters: [
      card.id,
      card.organizationId,
      card.provider,
      card.providerReference,
      card.brand,
      card.last4,
      card.expiryMonth,
      card.expiryYear,
      fingerprint,
      card.isDefault,
      card.createdAt,
    ],
  };
}

/** Serialises card changes of one organization (the default rule reads, then writes). */
export async function lockOrganizationForCards(db: Queryable, organizationId: string): Promise<void> {
  const { rows } = await db.query('SELECT id FROM organizations WHERE id = $1 FOR UPDATE', [organizationId]);
  if (rows.length === 0) throw notFound('Organization');
}
