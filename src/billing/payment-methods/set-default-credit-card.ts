/**
 * The default card: the one every charge goes to. The organization chooses it; a card added while the default one
 * fails (its last charge was refused, or it has expired) takes its place by itself. Whenever the default changes and
 * an invoice waits for its money, the retry is queued in the same transaction (see `insertUnpaidInvoicesRetry`).
 */
import sql, { raw, type Sql } from 'sql-template-tag';
import type { AppContext } from '../../app-context.js';
import { recordAuditEvent } from '../../audit/record-audit-event.js';
import type { Queryable } from '../../db/database.js';
import type { Caller } from '../../domain/actor.js';
import { isCardExpired } from '../../domain/card.js';
import { enterOrganization } from '../organizations/organization-access.js';
import { creditCardColumns, loadCreditCard, toCreditCard, viewCreditCard, type CreditCard, type CreditCardRow, type CreditCardView } from './credit-card.js';
import { insertUnpaidInvoicesRetry } from './unpaid-invoices-retry.js';

export const PAYMENT_METHOD_DEFAULT = 'PAYMENT_METHOD_DEFAULT';

/** Why a card other than the default took its place by itself (the audit event says it). */
export type DefaultChangeReason = 'chosen' | 'default_card_failed' | 'default_card_expired';

/**
 * Makes `card` the default in place of `previous` (null: there was none), records the audit event and queues the
 * retry of unpaid invoices, all in the caller's transaction. The old default is unset first: one default per
 * organization is a unique index.
 */
export async function switchDefaultCard(
  tx: Queryable,
  caller: Caller,
  now: Date,
  card: CreditCard,
  previous: CreditCard | null,
  reason: DefaultChangeReason,
): Promise<void> {
  if (previous !== null) {
    await tx.query(sql`UPDATE payment_methods SET is_default = false WHERE organization_id = ${card.organizationId}::uuid AND id = ${previous.id}::uuid`);
  }
  await tx.query(sql`UPDATE payment_methods SET is_default = true WHERE organization_id = ${card.organizationId}::uuid AND id = ${card.id}::uuid`);
  await recordAuditEvent(tx, caller, now, {
    organizationId: card.organizationId,
    type: PAYMENT_METHOD_DEFAULT,
    changes: { creditCardId: card.id, brand: card.brand, last4: card.last4, previousCreditCardId: previous?.id ?? null, reason },
  });
  await tx.query(insertUnpaidInvoicesRetry(card.organizationId));
}

/** The organization's default card, locked until the end of the transaction; null when it has none. */
export async function lockDefaultCard(tx: Queryable, organizationId: string): Promise<CreditCard | null> {
  const { rows } = await tx.query<CreditCardRow>(
    sql`SELECT ${creditCardColumns} FROM payment_methods WHERE organization_id = ${organizationId}::uuid AND is_default FOR UPDATE`,
  );
  return rows[0] ? toCreditCard(rows[0]) : null;
}

/**
 * Whether the last charge made with a card was refused (an SQL boolean; `card` is the card row's alias). The last
 * charge is the latest attempt of any invoice made with that card; a paid attempt clears the invoice's error.
 */
export function lastChargeFailed(card: Sql): Sql {
  return sql`COALESCE((SELECT i.last_payment_error IS NOT NULL FROM invoices i
                        WHERE i.organization_id = ${card}.organization_id AND i.last_payment_method_id = ${card}.id
                        ORDER BY i.last_payment_attempt_at DESC NULLS LAST, i.id DESC
                        LIMIT 1), false)`;
}

/** Why the default card cannot be counted on (expired, or its last charge refused), or null when it can. */
export function defaultCardFailureOf(
  card: { expiryMonth: number; expiryYear: number },
  lastChargeRefused: boolean,
  now: Date,
): Exclude<DefaultChangeReason, 'chosen'> | null {
  if (isCardExpired(card.expiryMonth, card.expiryYear, now)) return 'default_card_expired';
  return lastChargeRefused ? 'default_card_failed' : null;
}

async function defaultCardFailure(db: Queryable, card: CreditCard, now: Date): Promise<Exclude<DefaultChangeReason, 'chosen'> | null> {
  const { rows } = await db.query<{ failed: boolean }>(
    sql`SELECT ${lastChargeFailed(raw('pm'))} AS failed FROM payment_methods pm
         WHERE pm.organization_id = ${card.organizationId}::uuid AND pm.id = ${card.id}::uuid`,
  );
  return defaultCardFailureOf(card, rows[0]?.failed === true, now);
}

/**
 * After a card was added beside a default card that looked unreliable when the add began: in a transaction of its
 * own, with the default card locked, checks again and makes the added card the default (with the retry of unpaid
 * invoices). Answers whether it did.
 */
export async function replaceFailingDefaultCard(context: AppContext, caller: Caller, added: CreditCard): Promise<boolean> {
  const now = context.clock.now();
  return context.database.transaction(async (tx) => {
    const previous = await lockDefaultCard(tx, added.organizationId);
    if (previous === null || previous.id === added.id) return false;
    const failure = await defaultCardFailure(tx, previous, now);
    if (failure === null) return false;
    const { rows } = await tx.query<{ id: string }>(
      sql`SELECT id FROM payment_methods WHERE organization_id = ${added.organizationId}::uuid AND id = ${added.id}::uuid FOR UPDATE`,
    );
    if (rows.length === 0) return false; // deleted meanwhile
    await switchDefaultCard(tx, caller, now, added, previous, failure);
    return true;
  });
}

/**
 * `POST …/creditCard/{creditCardId}/default`: makes one of the organization's cards the default (billing.write).
 * Another organization's card answers 404 like an unknown one; choosing the default card again changes nothing.
 */
export async function setDefaultCreditCard(
  context: AppContext,
  caller: Caller,
  organizationId: string,
  creditCardId: string,
): Promise<CreditCardView> {
  const now = context.clock.now();
  const { card, changed } = await context.database.transaction(async (tx) => {
    // The organization's lock serialises card writes (as deleteCreditCard does); the card is read under it.
    await enterOrganization(tx, caller, { id: organizationId }, 'billing.write', { lock: 'update' });
    const chosen = await loadCreditCard(tx, organizationId, creditCardId);
    if (chosen.isDefault) return { card: chosen, changed: false };
    const previous = await lockDefaultCard(tx, organizationId);
    await switchDefaultCard(tx, caller, now, chosen, previous, 'chosen');
    return { card: { ...chosen, isDefault: true }, changed: true };
  });
  if (changed) context.jobs.nudge();
  return viewCreditCard(card, now);
}
