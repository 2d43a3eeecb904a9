/**
 * Adds a card to an organization: checks the details, hands them to the payment provider once (outside any
 * transaction), then stores what the provider answered with its audit event in one transaction.
 * The same card (same provider fingerprint) added again answers the card already stored and detaches the duplicate.
 */
import { randomUUID } from 'node:crypto';
import type { AppContext } from '../../app-context.js';
import { recordAuditEvent } from '../../audit/record-audit-event.js';
import { validateCardDetails } from '../../domain/card.js';
import { invalidInput, type FieldError } from '../../errors.js';
import type { AttachedPaymentMethod, CardInput } from '../../providers/payments/payment-provider.js';
import type { RequestContext } from '../access/actor.js';
import { authorize } from '../access/authorize.js';
import {
  findSameCardAndDefault,
  insertCreditCard,
  lockOrganizationForCards,
  PAYMENT_METHOD_ADD,
  viewCreditCard,
  type CreditCard,
  type CreditCardView,
} from './credit-card.js';
import { enqueueDetachPaymentMethod } from './detach-payment-method.js';
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

export async function addCreditCard(context: AppContext, request: RequestContext, input: AddCreditCardInput): Promise<AddCreditCardResult> {
  const card = cardInputOf(input, context.clock.now());
  // Before anything reaches the provider: a stranger must not create customers or cards there.
  await authorize(context.database, request.actor, input.organizationId, 'billing');

  const customerReference = await ensureProviderCustomer(context, input.organizationId);
  const attached = await context.payments.attachPaymentMethod(customerReference, card);

  let result: AddCreditCardResult;
  try {
    result = await context.database.transaction(async (tx) => {
      await authorize(tx, request.actor, input.organizationId, 'billing');
      await lockOrganizationForCards(tx, input.organizationId);
      const now = context.clock.now();

      const { sameCard, hasDefault } = await findSameCardAndDefault(tx, input.organizationId, attached.fingerprint);
      if (sameCard) {
        await enqueueDetachPaymentMethod(context, tx, { provider: context.payments.name, providerReference: attached.providerReference });
        return { card: viewCreditCard(sameCard, now), created: false };
      }

      const stored = newCreditCard(context, input.organizationId, attached, !hasDefault, now);
      await insertCreditCard(tx, stored, attached.fingerprint);
      await recordAuditEvent(tx, request, now, {
        organizationId: input.organizationId,
        type: PAYMENT_METHOD_ADD,
        changes: {
          creditCardId: stored.id,
          brand: stored.brand,
          last4: stored.last4,
          expiryMonth: stored.expiryMonth,
          expiryYear: stored.expiryYear,
          isDefault: stored.isDefault,
        },
      });
      return { card: viewCreditCard(stored, now), created: true };
    });
  } catch (error) {
    await undoAttach(context, input.organizationId, attached.providerReference);
    throw error;
  }
  if (!result.created) context.jobs.nudge();
  return result;
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
