/**
 * Adds a card to an organization: checks the details, enters the organization once (the caller's role, the provider
 * customer, whether a default card exists), hands the card to the payment provider once (outside any transaction),
 * then stores what the provider answered with its audit event in ONE guarded statement.
 * The same card (same provider fingerprint) added again answers the card already stored and detaches the duplicate.
 * The first card becomes the default; a card added while the default one fails (its last charge was refused, or it
 * has expired) replaces it as the default. Either way, unpaid invoices are retried on the new default card.
 */
import { randomUUID } from 'node:crypto';
import sql, { empty, raw, type Sql } from 'sql-template-tag';
import type { AppContext } from '../../app-context.js';
import { ExpiringMap } from '../../expiring-map.js';
import { insertAuditEvent } from '../../audit/record-audit-event.js';
import { insertBillingEvent } from '../../events/billing-event.js';
import type { Queryable } from '../../db/database.js';
import { validateCardDetails } from '../../domain/card.js';
import { conflict, invalidInput, notFound, type FieldError } from '../../errors.js';
import { insertJob } from '../../jobs/job-queue.js';
import { detachPaymentMethodQueue } from '../../jobs/queues.js';
import type { AttachedPaymentMethod, CardInput } from '../../providers/payments/payment-provider.js';
import type { Caller, Role } from '../../domain/actor.js';
import type { Commit, StoredAnswerColumns } from '../idempotency/idempotency-keys.js';
import { checkAccess, enterOrganization, organizationEntryStatement, rolesParameter } from '../organizations/organization-access.js';
import {
  creditCardColumns,
  insertCreditCard,
  PAYMENT_METHOD_ADD,
  toCreditCard,
  viewCreditCard,
  type CreditCard,
  type CreditCardRow,
  type CreditCardView,
} from './credit-card.js';
import { enqueueDetachPaymentMethod, type DetachPaymentMethodPayload } from './detach-payment-method.js';
import { createProviderCustomer } from './ensure-provider-customer.js';
import { presentCreditCard } from './credit-card-body.js';
import { announceBillingStatus, lastAnnouncementColumns, type LastAnnouncementColumns } from '../status/billing-status-announcements.js';
import { defaultCardFailureOf, lastChargeFailed, replaceFailingDefaultCard } from './set-default-credit-card.js';
import { insertUnpaidInvoicesRetry } from './unpaid-invoices-retry.js';
import type { Nullable } from '../../domain/present.js';

/** Either a provider token (the card was tokenised in the browser), or the card details to hand to the provider. */
export interface AddCreditCardInput {
  organizationId: string;
  /** When present, the other fields are ignored: clients generated from the reference schema always send them. */
  token?: string | null;
  number?: string;
  cvv?: string;
  expiryMonth?: number;
  expiryYear?: number;
}

export interface AddCreditCardResult {
  card: CreditCardView;
  /** False when the card was already stored: nothing was added. */
  created: boolean;
}

const REQUIRED_WITHOUT_TOKEN = 'is required when no token is given';

/**
 * What a card write reads under its locks besides the card: the default card's health (a card added beside a default
 * that cannot be counted on replaces it) and whether a status other than NO_CREDIT_CARD was announced (then a new card
 * moves nothing: see `AnnounceOptions.announced`). Both statements take the default card `FOR SHARE` in a CTE named
 * `current_default`.
 */
interface WrittenState extends LastAnnouncementColumns {
  default_expiry_month: number | null;
  default_expiry_year: number | null;
  default_last_charge_failed: boolean | null;
}

const currentDefault = (organization: Sql) => sql`current_default AS (
          SELECT id, organization_id, expiry_month, expiry_year FROM payment_methods
           WHERE organization_id = ${organization} AND is_default FOR SHARE
        )`;

function writtenStateColumns(organizationId: string): Sql {
  return sql`(SELECT expiry_month FROM current_default) AS default_expiry_month,
             (SELECT expiry_year FROM current_default) AS default_expiry_year,
             (SELECT ${lastChargeFailed(raw('current_default'))} FROM current_default) AS default_last_charge_failed,
             ${lastAnnouncementColumns(organizationId)}`;
}

function defaultMayFail(entry: WrittenState, now: Date): boolean {
  if (entry.default_expiry_month === null || entry.default_expiry_year === null) return false;
  const card = { expiryMonth: entry.default_expiry_month, expiryYear: entry.default_expiry_year };
  return defaultCardFailureOf(card, entry.default_last_charge_failed === true, now) !== null;
}

/** Checks the input and returns what goes to the provider. Error messages never contain the card data. */
function cardInputOf(input: AddCreditCardInput, now: Date): CardInput {
  if (input.token !== undefined && input.token !== null) return { kind: 'token', token: input.token };

  const missing: FieldError[] = [];
  if (input.number === undefined) missing.push({ field: 'number', message: REQUIRED_WITHOUT_TOKEN, reason: 'required' });
  if (input.cvv === undefined) missing.push({ field: 'cvv', message: REQUIRED_WITHOUT_TOKEN, reason: 'required' });
  if (input.expiryMonth === undefined) missing.push({ field: 'expiry_month', message: REQUIRED_WITHOUT_TOKEN, reason: 'required' });
  if (input.expiryYear === undefined) missing.push({ field: 'expiry_year', message: REQUIRED_WITHOUT_TOKEN, reason: 'required' });
  if (input.number === undefined || input.cvv === undefined || input.expiryMonth === undefined || input.expiryYear === undefined) {
    throw invalidInput(missing);
  }

  const details = { number: input.number, cvv: input.cvv, expiryMonth: input.expiryMonth, expiryYear: input.expiryYear };
  const checked = validateCardDetails(details, now);
  if (!checked.ok) {
    throw invalidInput(
      checked.errors.map((error) => ({ field: error.field, message: error.message, reason: 'invalid_card' })),
      'invalid_card',
    );
  }
  return { kind: 'card', number: checked.digits, cvv: details.cvv.trim(), expiryMonth: details.expiryMonth, expiryYear: details.expiryYear };
}

/**
 * Under an Idempotency-Key, `commit` runs the card's write in the transaction that claims the key and stores the
 * answer; the provider call stays before it, outside any transaction. A crash during the call or before that commit
 * stores neither the card nor the key (a retry runs again; the attach it left at the provider stays unused), after
 * it both. A write that fails (the key answered by a duplicate meanwhile included) undoes the attach.
 */
export async function addCreditCard(
  context: AppContext,
  caller: Caller,
  input: AddCreditCardInput,
  commit?: Commit<AddCreditCardResult>,
): Promise<AddCreditCardResult> {
  const card = cardInputOf(input, context.clock.now());
  const { organizationId } = input;
  // Before anything reaches the provider: a stranger must not create customers or cards there. Under a key, the same
  // statement reads the key's stored answer, so that a retry is answered without calling the provider again.
  const lookUp = commit?.lookUp;
  const recent = lookUp ? null : recentEntries.find(context, caller, organizationId);
  let customerReference: string;
  let hadDefault: boolean;
  if (recent !== null) {
    customerReference = recent;
    hadDefault = true; // the steady state; a wrong guess costs the write one more statement
  } else {
    type Entry = { provider_customer_reference: string | null; has_default: boolean } & StoredAnswerColumns;
    const organization = await enterOrganization<Entry>(
      context.database,
      caller,
      { id: organizationId },
      'billing.write',
      {
        select: sql`o.provider_customer_reference,
                    EXISTS (SELECT 1 FROM payment_methods d WHERE d.organization_id = o.id AND d.is_default) AS has_default
                    ${lookUp ? sql`, ${lookUp.select}` : empty}`,
        join: lookUp?.join,
        prepare: lookUp ? 'enter_organization_for_keyed_card' : 'enter_organization_for_card',
      },
    );
    lookUp?.check(organization);
    customerReference = organization.provider_customer_reference ?? (await createProviderCustomer(context, organizationId));
    hadDefault = organization.has_default;
  }
  const attached = await context.payments.attachPaymentMethod(customerReference, card);

  let stored: StoredCard;
  try {
    stored = await storeAttachedCard(context, caller, organizationId, attached, hadDefault, commit);
  } catch (error) {
    recentEntries.forget(context, caller, organizationId);
    await undoAttach(context, organizationId, attached.providerReference);
    throw error;
  }
  // The write checked the caller's role again: the entry can be skipped for another minute.
  if (!lookUp) recentEntries.remember(context, caller, organizationId, customerReference);
  let result = stored.result;
  if (result.created && !result.card.isDefault && defaultMayFail(stored.state, context.clock.now())) {
    result = await replaceFailingDefault(context, caller, result);
  }
  // A job may wait: the detach of a duplicate, or the retry of unpaid invoices on a new default card.
  if (!result.created || result.card.isDefault) context.jobs.nudge();
  // A new card can only move the status away from NO_CREDIT_CARD: when another status was announced (read by the
  // write, no extra round trip), there is nothing to announce.
  if (result.created) await announceBillingStatus(context, [organizationId], { onlyFrom: ['NO_CREDIT_CARD'], announced: stored.state });
  return result;
}

/**
 * Who entered an organization to add a card, recently, and its provider customer: their next card skips the entry, so
 * that the hot path is one statement. Only the guard before the provider call is skipped: the write checks the
 * caller's role again under the organization's lock, so a member removed meanwhile stores nothing (the provider-side
 * attach is undone and the answer is 404, and the next add enters again). Remembered after each stored card, for a
 * minute of wall-clock time; users only (one JWT per person); one table per app context.
 */
const recentEntries = (() => {
  const LIFETIME_MS = 60_000;
  const LIMIT = 10_000;
  const tables = new WeakMap<AppContext, ExpiringMap<string>>();
  const keyOf = (caller: Caller, organizationId: string) =>
    caller.actor.type === 'user' ? `${caller.actor.userId}\u0000${organizationId}` : null;
  return {
    find(context: AppContext, caller: Caller, organizationId: string): string | null {
      const key = keyOf(caller, organizationId);
      return (key === null ? undefined : tables.get(context)?.get(key)) ?? null;
    },
    remember(context: AppContext, caller: Caller, organizationId: string, customerReference: string): void {
      const key = keyOf(caller, organizationId);
      if (key === null) return;
      let table = tables.get(context);
      if (table === undefined) tables.set(context, (table = new ExpiringMap(LIMIT)));
      table.set(key, customerReference, Date.now() + LIFETIME_MS);
    },
    forget(context: AppContext, caller: Caller, organizationId: string): void {
      const key = keyOf(caller, organizationId);
      if (key !== null) tables.get(context)?.delete(key);
    },
  };
})();

/**
 * A card added while the default card cannot be counted on (its last charge was refused, or it has expired) becomes
 * the default, in a transaction of its own that checks again under the default card's lock and queues the retry of
 * unpaid invoices. Under an Idempotency-Key this runs after the key's answer was stored, so a replay of the request
 * still answers `is_default: false`; the card list tells the truth.
 */
async function replaceFailingDefault(context: AppContext, caller: Caller, added: AddCreditCardResult): Promise<AddCreditCardResult> {
  const replaced = await replaceFailingDefaultCard(context, caller, added.card);
  return replaced ? { ...added, card: { ...added.card, isDefault: true } } : added;
}

/**
 * Optimistic first: each write is one statement without a lock, and a concurrent change of the organization's cards
 * costs one more. Cards that keep changing under it are written under the organization's lock, where no other card
 * write runs: there the first write can only miss the default guess, and the second one fits.
 *
 * Given `commit` (an Idempotency-Key), the two optimistic writes run in its transaction, which keeps their row locks
 * to the end: taking the organization's lock after them could deadlock with a twin doing the same, so cards still
 * changing after two writes answer 409 `concurrent_update` there (nothing is stored; the retry runs again).
 */
async function storeAttachedCard(
  context: AppContext,
  caller: Caller,
  organizationId: string,
  attached: AttachedPaymentMethod,
  hadDefault: boolean,
  commit: Commit<AddCreditCardResult> | undefined,
): Promise<StoredCard> {
  // The first card becomes the default: guessed from the entry, checked by the write.
  let isDefault = !hadDefault;
  let first = true;
  // What the last write read under its locks (every write reads it: the one that stored the card is the last).
  let state: WrittenState | null = null;
  const attempt = async (db: Queryable): Promise<AddCreditCardResult | null> => {
    const now = context.clock.now();
    const card = newCreditCard(context, organizationId, attached, isDefault, now);
    if (first) {
      first = false;
      const lean = await insertNewCreditCard(db, caller, card, attached.fingerprint);
      state = lean;
      if (lean.created) return { card: viewCreditCard(card, now), created: true };
    }
    const written = await writeCreditCard(db, caller, card, attached.fingerprint);
    state = written.state;
    if (written.outcome === 'created') return { card: viewCreditCard(card, now), created: true };
    if (written.outcome === 'same_card') return { card: viewCreditCard(written.sameCard, now), created: false };
    isDefault = written.nextGuess;
    return null;
  };
  const changedByOthers = () => conflict('concurrent_update', "The organization's cards are being changed by others; try again");
  const withState = (result: AddCreditCardResult): StoredCard => ({ result, state: state! });
  if (commit) return withState(await commit(async (tx) => (await attempt(tx)) ?? (await attempt(tx)) ?? Promise.reject(changedByOthers())));
  const stored = (await attempt(context.database)) ?? (await attempt(context.database));
  if (stored) return withState(stored);
  return withState(
    await context.database.transaction(async (tx) => {
      await enterOrganization(tx, caller, { id: organizationId }, 'billing.write', { lock: 'update' });
      const underLock = (await attempt(tx)) ?? (await attempt(tx));
      if (underLock) return underLock;
      throw changedByOthers(); // unreachable under the lock
    }),
  );
}

/** A stored card (or the same card, stored before) and what its write read under its locks. */
interface StoredCard {
  result: AddCreditCardResult;
  state: WrittenState;
}

type WriteOutcome = { state: WrittenState } & (
  | { outcome: 'created' }
  | { outcome: 'same_card'; sameCard: CreditCard }
  /** Nothing was written: `card.isDefault` was a wrong guess, or a card written meanwhile took its place. */
  | { outcome: 'retry'; nextGuess: boolean }
);


interface WriteAnswer extends WrittenState {
  organization_found: boolean;
  member_role: Role | null;
  attempted: boolean;
  created: boolean;
  has_default: boolean;
}

/** The card's insert with what is written with it: the retry a new default queues, the audit event, the webhook event. */
function cardInsertWrites(caller: Caller, card: CreditCard, fingerprint: string, guard: Sql): Sql {
  const audit = insertAuditEvent(
    caller,
    card.createdAt,
    {
      organizationId: card.organizationId,
      type: PAYMENT_METHOD_ADD,
      changes: {
        creditCardId: card.id,
        brand: card.brand,
        last4: card.last4,
        expiryMonth: card.expiryMonth,
        expiryYear: card.expiryYear,
        isDefault: card.isDefault,
      },
    },
    raw('inserted'),
  );
  const attachedEvent = insertBillingEvent(
    card.createdAt,
    {
      type: 'payment_method.attached',
      organizationId: card.organizationId,
      data: { payment_method: presentCreditCard(viewCreditCard(card, card.createdAt)) },
    },
    raw('inserted'),
  );
  // Only a default card can have unpaid invoices to retry: a card added beside one has no such part.
  const retry = card.isDefault ? sql`, retry AS (${insertUnpaidInvoicesRetry(card.organizationId, raw('inserted'))})` : empty;
  return sql`inserted AS (
          ${insertCreditCard(card, fingerprint, guard)}
          ON CONFLICT DO NOTHING
          RETURNING id
        )${retry}, audit AS (
          ${audit}
        ), attached_event AS (
          ${attachedEvent}
        )`;
}

/**
 * The common case in one lean statement: a new card, the caller still allowed, the default guess right. The
 * organization row is taken `FOR KEY SHARE` first, then the default card `FOR SHARE` (the order of `writeCreditCard`).
 * Answers whether the card was written; when not (the same card is stored, the guess was wrong, the caller lost
 * access meanwhile), nothing was, and `writeCreditCard` finds out why.
 */
async function insertNewCreditCard(
  db: Queryable,
  caller: Caller,
  card: CreditCard,
  fingerprint: string,
): Promise<{ created: boolean } & WrittenState> {
  const trusted = caller.actor.type !== 'user';
  const { rows } = await db.query<{ created: boolean } & WrittenState>(
    sql`WITH entry AS (
          ${organizationEntryStatement(caller, { id: card.organizationId }, { lock: 'key share' })}
        ), ${currentDefault(sql`(SELECT id FROM entry)`)}, fits AS (
          SELECT 1 FROM entry
           WHERE (${trusted}::boolean OR entry.member_role = ANY(${rolesParameter('billing.write')}))
             AND ${card.isDefault}::boolean <> EXISTS (SELECT 1 FROM current_default)
        ), ${cardInsertWrites(caller, card, fingerprint, raw('fits'))}
        SELECT EXISTS (SELECT 1 FROM inserted) AS created, ${writtenStateColumns(card.organizationId)}`,
    { prepare: card.isDefault ? 'insert_new_default_credit_card' : 'insert_new_credit_card' },
  );
  const row = rows[0];
  if (!row) throw new Error('the card write answered no row');
  return row;
}

/**
 * One statement, no transaction. It enters the organization again (a key-share lock on its row, and the caller's
 * role: a membership removed during the provider call writes nothing), then:
 * - when the same card (same fingerprint) is stored already, queues the detach of the duplicate and answers it;
 * - otherwise inserts `card` with its audit event, provided that `card.isDefault` is right (no default card yet);
 * - otherwise writes nothing and says whether a default exists.
 *
 * The unique indexes keep the rules (one default per organization, one row per card), so concurrent writes need no
 * organization-wide lock: the insert skips a row that a concurrent write committed first (`ON CONFLICT DO NOTHING`)
 * and the next attempt, with a fresh snapshot, sees it. The default card is read `FOR SHARE`, after the organization
 * row (the order `deleteCreditCard` takes them in, so neither waits for the other in a circle): a default being
 * deleted meanwhile makes this write wait, then find it gone, so that a card is never added beside a default that no
 * longer exists.
 */
async function writeCreditCard(db: Queryable, caller: Caller, card: CreditCard, fingerprint: string): Promise<WriteOutcome> {
  const detachPayload: DetachPaymentMethodPayload = { provider: card.provider, providerReference: card.providerReference };
  const trusted = caller.actor.type !== 'user'; // tokens, operators, the system: checked without a membership

  const { rows } = await db.query<WriteAnswer & Nullable<CreditCardRow>>(
    sql`WITH entry AS (
          ${organizationEntryStatement(caller, { id: card.organizationId }, { lock: 'key share' })}
        ), allowed AS (
          SELECT 1 FROM entry WHERE ${trusted}::boolean OR entry.member_role = ANY(${rolesParameter('billing.write')})
        ), same AS (
          SELECT ${creditCardColumns} FROM payment_methods WHERE organization_id = ${card.organizationId}::uuid AND fingerprint = ${fingerprint}::text
        ), ${currentDefault(sql`(SELECT id FROM entry)`)}, has_default AS (
          SELECT EXISTS (SELECT 1 FROM current_default) AS value
        ), fits AS (
          SELECT 1 FROM allowed
           WHERE NOT EXISTS (SELECT 1 FROM same) AND ${card.isDefault}::boolean <> (SELECT value FROM has_default)
        ), ${cardInsertWrites(caller, card, fingerprint, raw('fits'))}, duplicate AS (
          SELECT 1 FROM same, allowed
        ), detach AS (
          ${insertJob(detachPaymentMethodQueue, detachPayload, {}, raw('duplicate'))}
        )
        SELECT EXISTS (SELECT 1 FROM entry) AS organization_found, (SELECT member_role FROM entry) AS member_role,
               EXISTS (SELECT 1 FROM fits) AS attempted, EXISTS (SELECT 1 FROM inserted) AS created,
               (SELECT value FROM has_default) AS has_default, ${writtenStateColumns(card.organizationId)}, same.*
          FROM (VALUES (1)) AS one
          LEFT JOIN same ON true`,
    { prepare: card.isDefault ? 'write_default_credit_card' : 'write_credit_card' },
  );
  const row = rows[0];
  if (!row) throw new Error('the card write answered no row');
  if (!row.organization_found) throw notFound('Organization'); // deleted during the provider call
  checkAccess(caller.actor, card.organizationId, row.member_role ?? undefined, 'billing.write');
  const state: WrittenState = {
    default_expiry_month: row.default_expiry_month,
    default_expiry_year: row.default_expiry_year,
    default_last_charge_failed: row.default_last_charge_failed,
    last_announcement: row.last_announcement,
  };
  if (row.created) return { outcome: 'created', state };
  if (isPresent(row)) return { outcome: 'same_card', sameCard: toCreditCard(row), state };
  // A conflict: a card written meanwhile is the same card (the next attempt answers it) or the new default.
  if (row.attempted) return { outcome: 'retry', nextGuess: false, state };
  return { outcome: 'retry', nextGuess: !row.has_default, state };
}

/** A LEFT JOIN that found the card has its (NOT NULL) id. */
function isPresent<Row extends Nullable<CreditCardRow>>(row: Row): row is Row & CreditCardRow {
  return row.id !== null;
}

function newCreditCard(context: AppContext, organizationId: string, attached: AttachedPaymentMethod, isDefault: boolean, now: Date): CreditCard {
  return {
    id: randomUUID(),
    organizationId,
    provider: context.payments.name,
    providerReference: attached.providerReference,
    brand: attached.brand,
    last4: attached.last4,
    expiryMonth: attached.expiryMonth,
    expiryYear: attached.expiryYear,
    isDefault,
    createdAt: now,
  };
}

/** The local write failed after the provider attached the card: detach it now, or through the job queue if that fails too. */
async function undoAttach(context: AppContext, organizationId: string, providerReference: string): Promise<void> {
  const payload = { provider: context.payments.name, providerReference };
  try {
    await context.payments.detachPaymentMethod(providerReference);
  } catch (detachError) {
    context.logger.warn(
      { organizationId, error: detachError instanceof Error ? detachError.message : String(detachError) },
      'undo of a card attach failed; retrying through the job queue',
    );
    try {
      await enqueueDetachPaymentMethod(context, context.database, payload);
      context.jobs.nudge();
    } catch (enqueueError) {
      context.logger.error(
        { organizationId, providerReference, error: enqueueError instanceof Error ? enqueueError.message : String(enqueueError) },
        'could not queue the undo of a card attach; a card stays attached at the provider',
      );
    }
  }
}
