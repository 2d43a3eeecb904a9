/** Operators: the deliveries of an endpoint, retrying one, and a test event sent at once. */
import type { AppContext } from '../../app-context.js';
import { recordAuditEvent } from '../../audit/record-audit-event.js';
import type { Caller } from '../../domain/actor.js';
import { conflict, notFound } from '../../errors.js';
import { recordBillingEvent } from '../../events/billing-event.js';
import { findWebhookDeliveries, loadWebhookDelivery, requeueWebhookDelivery, type WebhookDelivery } from '../../events/webhook-delivery.js';
import { requireOperator } from '../organizations/organization-access.js';
import { getWebhookEndpoint } from './manage-webhook-endpoints.js';

export const WEBHOOK_DELIVERY_RETRY = 'WEBHOOK_DELIVERY_RETRY';
export const WEBHOOK_ENDPOINT_TEST = 'WEBHOOK_ENDPOINT_TEST';

export async function listWebhookDeliveries(
  context: AppContext,
  caller: Caller,
  endpointId: string,
  options: { limit: number; before: { createdAt: Date; id: string } | null },
): Promise<WebhookDelivery[]> {
  await getWebhookEndpoint(context, caller, endpointId);
  return findWebhookDeliveries(context.database, endpointId, options);
}

/** Due now again, with a full schedule of attempts (the same event, so the same `webhook-id`). */
export async function retryWebhookDelivery(context: AppContext, caller: Caller, deliveryId: string): Promise<WebhookDelivery> {
  requireOperator(caller, 'Webhook deliveries');
  const now = context.clock.now();
  return context.database.transaction(async (tx) => {
    const current = await loadWebhookDelivery(tx, deliveryId);
    if (!current) throw notFound('Webhook delivery');
    if (current.state === 'sending') throw conflict('delivery_in_progress', 'The delivery is being sent right now');
    const retried = (await requeueWebhookDelivery(tx, deliveryId))!;
    await recordAuditEvent(tx, caller, now, {
      organizationId: null,
      type: WEBHOOK_DELIVERY_RETRY,
      changes: { deliveryId, endpointId: current.endpointId, eventId: current.eventId, state: { old: current.state, new: retried.state } },
    });
    return retried;
  });
}

/** A `webhook.test` event for this endpoint only (whatever types it subscribes to), sent at once. */
export async function sendTestWebhook(context: AppContext, caller: Caller, endpointId: string): Promise<{ eventId: string }> {
  const endpoint = await getWebhookEndpoint(context, caller, endpointId);
  if (endpoint.disabled) throw conflict('endpoint_disabled', 'The endpoint is disabled; enable it first');
  const now = context.clock.now();
  const eventId = await context.database.transaction(async (tx) => {
    const id = await recordBillingEvent(tx, now, {
      type: 'webhook.test',
      organizationId: null,
      endpointId,
      data: { message: 'A test event sent by the operator', endpoint_id: endpointId },
    });
    await recordAuditEvent(tx, caller, now, { organizationId: null, type: WEBHOOK_ENDPOINT_TEST, changes: { endpointId, eventId: id } });
    return id;
  });
  return { eventId };
}
