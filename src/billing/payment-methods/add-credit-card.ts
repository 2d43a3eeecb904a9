/**
 * Adds a card to an organization: checks the details, hands them to the payment provider once (outside any
 * transaction), then stores what the provider answered with its audit event in one transaction.
 * The same card (same provider fingerprint) added again answers the card already stored and detaches the duplicate.
 */
import { randomUUID } from 'node:crypto';
import type { AppContext } from '../../app-context.js';
import { auditEventInsertFrom } from '../../audit/record-audit-event.js';
import type { Queryable } from '../../db/database.js';
import { validateCardDetails } from '../../domain/card.js';
import { conflict, invalidInput, notFound, type FieldError } from '../../errors.js';
import { JobQueue } from '../../jobs/job-queue.js';
import { detachPaymentMethodQueue } from '../../jobs/queues.js';
import type { AttachedPaymentMethod, CardInput } from '../../providers/payments/payment-provider.js';
import type { Actor, Caller, Role } from '../../domain/actor.js';
import { checkAccess } from '../access/authorize.js';
import {
  creditCardColumns,
  creditCardInsertFrom,
  PAYMENT_METHOD_ADD,
  toCreditCard,
  viewCreditCard,
  type CreditCard,
  type CreditCardRow,
  type CreditCardView,
} from './credit-card.js';
import { enqueueDetachPaymentMethod, type DetachPaymentMethodPayload } from './detach-payment-method.js';
import { ensureProviderCustomer } from './ensure-provider-customer.js';

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

export async function addCreditCard(context: AppContext, request: Caller, input: AddCreditCardInput): Promise<AddCreditCardResult> {
  const card = cardInputOf(input, context.clock.now());
  const { organizationId } = input;
  // Before anything reaches the provider: a stranger must not create customers or cards there.
  const owner = await loadCardOwnerAs(context.database, organizationId, request.actor);
  checkAccess(request.actor, organizationId, owner.memberRole, 'billing');

  const customerReference = owner.customerReference ?? (await ensureProviderCustomer(context, organizationId));
  const attached = await context.payments.attachPaymentMethod(customerReference, card);

  let result: AddCreditCardResult;
  try {
    result = await context.database.transaction(async (tx) => {
      const memberRole = await lockOrganizationForCardsAs(tx, organizationId, request.actor);
      checkAccess(request.actor, organizationId, memberRole, 'billing');
      const now = context.clock.now();
      // The first card becomes the default: guessed from the read before the provider call, checked by the write.
      let isDefault = !owner.hasDefault;
      for (let attempt = 1; attempt <= 2; attempt += 1) {
        const stored = newCreditCard(context, organizationId, attached, isDefault, now);
        const written = await writeCreditCard(tx, request, stored, attached.fingerprint);
        if (written.outcome === 'created') return { card: viewCreditCard(stored, now), created: true };
        if (written.outcome === 'same_card') return { card: viewCreditCard(written.sameCard, now), created: false };
        isDefault = !written.hasDefault; // the organization's cards changed during the provider call
      }
      // Unreachable while every card write holds the organization lock.
      throw conflict('concurrent_update', "The organization's cards are being changed by others; try again");
    });
  } catch (error) {
    await undoAttach(context, organizationId, attached.providerReference);
    throw error;
  }
  if (!result.created) context.jobs.nudge();
  return result;
}

/** One read before the provider call: the caller's role, the provider customer, and whether a default card exists. */
async function loadCardOwnerAs(
  db: Queryable,
  organizationId: string,
  actor: Actor,
): Promise<{ memberRole: Role | undefined; customerReference: string | null; hasDefault: boolean }> {
  const { rows } = await db.query<{ member_role: Role | null; provider_customer_reference: string | null; has_default: boolean }>(
    `SELECT m.role AS member_role, o.provider_customer_reference,
            EXISTS (SELECT 1 FROM payment_methods p WHERE p.organization_id = o.id AND p.is_default) AS has_default
       FROM organizations o
       LEFT JOIN memberships m ON m.organization_id = o.id AND m.user_id = $2
      WHERE o.id = $1`,
    [organizationId, actor.type === 'user' ? actor.userId : null],
    { prepare: 'load_card_owner_as' },
  );
  const row = rows[0];
  // An unknown organization answers the same 404 as one the caller is not a member of.
  if (!row) throw notFound('Organization');
  return { memberRole: row.member_role ?? undefined, customerReference: row.provider_customer_reference, hasDefault: row.has_default };
}

/**
 * Serialises card changes of one organization (as `lockOrganizationForCards`) and reads the caller's role again in
 * the same statement: the membership may have changed during the provider call.
 */
async function lockOrganizationForCardsAs(tx: Queryable, organizationId: string, actor: Actor): Promise<Role | undefined> {
  const { rows } = await tx.query<{ member_role: Role | null }>(
    `SELECT m.role AS member_role
       FROM organizations o
       LEFT JOIN memberships m ON m.organization_id = o.id AND m.user_id = $2
      WHERE o.id = $1
        FOR UPDATE OF o`,
    [organizationId, actor.type === 'user' ? actor.userId : null],
    { prepare: 'lock_organization_for_cards_as' },
  );
  const row = rows[0];
  if (!row) throw notFound('Organization');
  return row.member_role ?? undefined;
}

type WriteOutcome =
  | { outcome: 'created' }
  | { outcome: 'same_card'; sameCard: CreditCard }
  /** `card.isDefault` was a wrong guess: nothing was written. */
  | { outcome: 'default_changed'; hasDefault: boolean };

type Nullable<T> = { [K in keyof T]: T[K] | null };

/**
 * One statement, under the organization lock: when the same card (same fingerprint) is stored already, queues the
 * detach of the duplicate and answers the stored card; otherwise inserts `card` with its audit event, provided that
 * `card.isDefault` is right (no default card yet); otherwise writes nothing and says whether a default exists.
 */
async function writeCreditCard(tx: Queryable, request: Caller, card: CreditCard, fingerprint: string): Promise<WriteOutcome> {
  const parameters: unknown[] = [card.organizationId, fingerprint, card.isDefault];
  const insert = creditCardInsertFrom('fits', parameters.length + 1, card, fingerprint);
  parameters.push(...insert.parameters);
  const audit = auditEventInsertFrom('inserted', parameters.length + 1, request, card.createdAt, {
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
  });
  parameters.push(...audit.parameters);
  const detachPayload: DetachPaymentMethodPayload = { provider: card.provider, providerReference: card.providerReference };
  const detach = JobQueue.insertFrom('same', parameters.length + 1, detachPaymentMethodQueue, detachPayload);
  parameters.push(...detach.parameters);

  const { rows } = await tx.query<{ created: boolean; has_default: boolean } & Nullable<CreditCardRow>>(
    `WITH same AS (
       SELECT ${creditCardColumns} FROM payment_methods WHERE organization_id = $1::uuid AND fingerprint = $2::text
     ), has_default AS (
       SELECT EXISTS (SELECT 1 FROM payment_methods WHERE organization_id = $1::uuid AND is_default) AS value
     ), fits AS (
       SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM same) AND $3::boolean <> (SELECT value FROM has_default)
     ), inserted AS (
       ${insert.sql}
       RETURNING id
     ), audit AS (
       ${audit.sql}
     ), detach AS (
       ${detach.sql}
     )
     SELECT EXISTS (SELECT 1 FROM inserted) AS created, (SELECT value FROM has_default) AS has_default, same.*
       FROM (VALUES (1)) AS one
       LEFT JOIN same ON true`,
    parameters,
    { prepare: 'write_credit_card' },
  );
  const row = rows[0];
  if (!row) throw new Error('the card write answered no row');
  if (row.created) return { outcome: 'created' };
  if (isPresent(row)) return { outcome: 'same_card', sameCard: toCreditCard(row) };
  return { outcome: 'default_changed', hasDefault: row.has_default };
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
