/**
 * Job of `detachPaymentMethodQueue`: detaches a card at the provider after its row was deleted (or after a duplicate
 * or failed add). The database no longer knows the card, so a failure here is retried and never brings the row back.
 */
import type { AppContext } from '../../app-context.js';
import type { Queryable } from '../../db/database.js';
import { detachPaymentMethodQueue } from '../../jobs/queues.js';
import { stringField } from '../../jobs/job-payload.js';

export interface DetachPaymentMethodPayload {
  provider: string;
  providerReference: string;
}

export function isDetachPaymentMethodPayload(payload: unknown): payload is DetachPaymentMethodPayload {
  return stringField(payload, 'provider') !== undefined && stringField(payload, 'providerReference') !== undefined;
}

/** Queues the detach in `tx` (the transaction that decided it), so it happens exactly when that commits. */
export async function enqueueDetachPaymentMethod(context: AppContext, tx: Queryable, payload: DetachPaymentMethodPayload): Promise<void> {
  await context.jobs.enqueue(tx, detachPaymentMethodQueue, payload);
}

export async function detachPaymentMethod(context: AppContext, payload: DetachPaymentMethodPayload): Promise<'detached' | 'other_provider'> {
  // A card attached through another provider (the configuration changed since) is not this adapter's to detach.
  if (payload.provider !== context.payments.name) return 'other_provider';
  await context.payments.detachPaymentMethod(payload.providerReference);
  return 'detached';
}
