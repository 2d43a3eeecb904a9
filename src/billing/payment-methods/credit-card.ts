/**
 * A card of an organization as Bursar keeps it (table `payment_methods`): the provider's reference and what a person
 * needs to recognise the card. Never the number or the CVV.
 */
import sql, { empty, type Sql } from 'sql-template-tag';
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

export const creditCardColumns = sql`id, organization_id, provider, provider_reference, brand, last4, expiry_month, expiry_year, is_default, created_at`;

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
    sql`SELECT ${creditCardColumns} FROM payment_methods WHERE organization_id = ${organizationId}::uuid
         ORDER BY is_default DESC, created_at DESC, id DESC`,
  );
  return rows.map(toCreditCard);
}

/** Which of `organizationIds` have a default card (one query; none asked, none read). */
export async function organizationsWithDefaultCard(db: Queryable, organizationIds: readonly string[]): Promise<Set<string>> {
  if (organizationIds.length === 0) return new Set();
  const { rows } = await db.query<{ organization_id: string }>(
    sql`SELECT organization_id FROM payment_methods WHERE organization_id = ANY(${organizationIds}::uuid[]) AND is_default`,
  );
  return new Set(rows.map((row) => row.organization_id));
}

/** Another organization's card answers exactly like an unknown one. */
export async function loadCreditCard(db: Queryable, organizationId: string, creditCardId: string): Promise<CreditCard> {
  const { rows } = await db.query<CreditCardRow>(
    sql`SELECT ${creditCardColumns} FROM payment_methods WHERE organization_id = ${organizationId}::uuid AND id = ${creditCardId}::uuid`,
  );
  if (!rows[0]) throw notFound('Credit card');
  return toCreditCard(rows[0]);
}

/**
 * The one `INSERT INTO payment_methods`. With `from` (a CTE of a larger statement) the card is inserted only if that
 * CTE yields a row. Add `ON CONFLICT …` and `RETURNING …` as needed.
 */
export function insertCreditCard(card: CreditCard, fingerprint: string, from?: Sql): Sql {
  return sql`INSERT INTO payment_methods (id, organization_id, provider, provider_reference, brand, last4, expiry_month, expiry_year,
                                          fingerprint, is_default, created_at)
    SELECT ${card.id}::uuid, ${card.organizationId}::uuid, ${card.provider}::text, ${card.providerReference}::text, ${card.brand}::text,
           ${card.last4}::text, ${card.expiryMonth}::int4, ${card.expiryYear}::int4, ${fingerprint}::text, ${card.isDefault}::boolean,
           ${card.createdAt}::timestamptz
    ${from ? sql`FROM ${from}` : empty}`;
}
