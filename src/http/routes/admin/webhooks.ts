/**
 * Operator API: outgoing webhook endpoints, their deliveries, retries and test events. Secrets are answered only by
 * create and rotate-secret.
 */
import { Type, type FastifyPluginAsyncTypebox, type Static } from '@fastify/type-provider-typebox';
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  getWebhookEndpoint,
  listWebhookEndpoints,
  rotateWebhookSecret,
  updateWebhookEndpoint,
} from '../../../billing/webhooks/manage-webhook-endpoints.js';
import { listWebhookDeliveries, retryWebhookDelivery, sendTestWebhook } from '../../../billing/webhooks/webhook-deliveries.js';
import { billingEventTypes } from '../../../events/event-types.js';
import type { WebhookDelivery } from '../../../events/webhook-delivery.js';
import type { WebhookEndpoint } from '../../../events/webhook-endpoint.js';
import { errorResponses, ListSchema, nullable, PageSchema, toPageBody } from '../../schemas.js';
import { callerOf } from '../../surface.js';

const tags = ['Webhooks'];
const operatorOnly = { auth: 'operator' as const };

const EventTypes = Type.Array(Type.String({ maxLength: 100, examples: [...billingEventTypes] }), {
  maxItems: 50,
  description: `Event types to receive; empty or absent = every type. Known types: ${billingEventTypes.join(', ')}`,
});

const WebhookEndpointSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    url: Type.String(),
    event_types: Type.Array(Type.String()),
    description: nullable(Type.String()),
    disabled: Type.Boolean(),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  },
  { title: 'WebhookEndpoint' },
);

const WebhookEndpointWithSecretSchema = Type.Object(
  {
    ...WebhookEndpointSchema.properties,
    secret: Type.String({ description: '`whsec_` + base64 of 32 random bytes: shown only now; verify deliveries with it' }),
  },
  { title: 'WebhookEndpointWithSecret' },
);

const WebhookDeliverySchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    event_id: Type.String({ description: 'The `webhook-id` header of every attempt' }),
    event_type: Type.String(),
    state: Type.Union([Type.Literal('pending'), Type.Literal('sending'), Type.Literal('delivered'), Type.Literal('failed')]),
    attempts: Type.Integer(),
    last_status_code: nullable(Type.Integer()),
    last_error: nullable(Type.String()),
    last_attempt_at: nullable(Type.String({ format: 'date-time' })),
    next_attempt_at: nullable(Type.String({ format: 'date-time', description: 'Wall-clock time of the next attempt; null once delivered or failed' })),
    delivered_at: nullable(Type.String({ format: 'date-time' })),
    created_at: Type.String({ format: 'date-time' }),
  },
  { title: 'WebhookDelivery' },
);

const Url = Type.String({ minLength: 1, maxLength: 2000, description: 'https:// or http://; loopback, private and link-local addresses are refused' });
const Description = nullable(Type.String({ maxLength: 500 }));

const EndpointParams = Type.Object({ endpointId: Type.String({ format: 'uuid' }) });

function toEndpointBody(endpoint: WebhookEndpoint): Static<typeof WebhookEndpointSchema> {
  return {
    id: endpoint.id,
    url: endpoint.url,
    event_types: endpoint.eventTypes,
    description: endpoint.description,
    disabled: endpoint.disabled,
    created_at: endpoint.createdAt.toISOString(),
    updated_at: endpoint.updatedAt.toISOString(),
  };
}

function toDeliveryBody(delivery: WebhookDelivery): Static<typeof WebhookDeliverySchema> {
  return {
    id: delivery.id,
    event_id: delivery.eventId,
    event_type: delivery.eventType,
    state: delivery.state,
    attempts: delivery.attempts,
    last_status_code: delivery.lastStatusCode,
    last_error: delivery.lastError,
    last_attempt_at: delivery.lastAttemptAt?.toISOString() ?? null,
    next_attempt_at: delivery.nextAttemptAt?.toISOString() ?? null,
    delivered_at: delivery.deliveredAt?.toISOString() ?? null,
    created_at: delivery.createdAt.toISOString(),
  };
}

/** The page cursor of deliveries: `<created_at ISO>_<id>` of the last one seen. */
function parseCursor(cursor: string | undefined): { createdAt: Date; id: string } | null {
  if (!cursor) return null;
  const [at, id] = cursor.split('_');
  return at && id ? { createdAt: new Date(at), id } : null;
}

export const adminWebhookRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/admin/webhook-endpoints',
    {
      config: operatorOnly,
      schema: {
        operationId: 'adminCreateWebhookEndpoint',
        summary: 'Create a webhook endpoint',
        description: 'The answer carries the signing secret, shown only here and on rotation. An unknown event type is a 400 naming it.',
        tags,
        body: Type.Object({ url: Url, event_types: Type.Optional(nullable(EventTypes)), description: Type.Optional(Description) }, { additionalProperties: false }),
        response: { 201: WebhookEndpointWithSecretSchema, ...errorResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const endpoint = await createWebhookEndpoint(request.bursar, callerOf(request), {
        url: body.url,
        eventTypes: body.event_types ?? null,
        description: body.description ?? null,
      });
      return reply.status(201).send({ ...toEndpointBody(endpoint), secret: endpoint.secret });
    },
  );

  app.get(
    '/admin/webhook-endpoints',
    {
      config: operatorOnly,
      schema: {
        operationId: 'adminListWebhookEndpoints',
        summary: 'List webhook endpoints (without secrets), newest first',
        tags,
        response: { 200: ListSchema(WebhookEndpointSchema), ...errorResponses(401, 403) },
      },
    },
    async (request) => ({ results: (await listWebhookEndpoints(request.bursar, callerOf(request))).map(toEndpointBody) }),
  );

  app.get(
    '/admin/webhook-endpoints/:endpointId',
    {
      config: operatorOnly,
      schema: {
        operationId: 'adminGetWebhookEndpoint',
        summary: 'Get a webhook endpoint (without its secret)',
        tags,
        params: EndpointParams,
        response: { 200: WebhookEndpointSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => toEndpointBody(await getWebhookEndpoint(request.bursar, callerOf(request), request.params.endpointId)),
  );

  app.patch(
    '/admin/webhook-endpoints/:endpointId',
    {
      config: operatorOnly,
      schema: {
        operationId: 'adminUpdateWebhookEndpoint',
        summary: 'Change a webhook endpoint',
        description: 'Only the fields sent change. `disabled: false` re-enables an endpoint disabled after three days of failures.',
        tags,
        params: EndpointParams,
        body: Type.Object(
          { url: Type.Optional(Url), event_types: Type.Optional(nullable(EventTypes)), description: Type.Optional(Description), disabled: Type.Optional(Type.Boolean()) },
          { additionalProperties: false },
        ),
        response: { 200: WebhookEndpointSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const body = request.body;
      const endpoint = await updateWebhookEndpoint(request.bursar, callerOf(request), request.params.endpointId, {
        url: body.url,
        eventTypes: body.event_types,
        description: body.description,
        disabled: body.disabled,
      });
      return toEndpointBody(endpoint);
    },
  );

  app.delete(
    '/admin/webhook-endpoints/:endpointId',
    {
      config: operatorOnly,
      schema: {
        operationId: 'adminDeleteWebhookEndpoint',
        summary: 'Delete a webhook endpoint and its deliveries',
        tags,
        params: EndpointParams,
        response: { 204: Type.Null(), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await deleteWebhookEndpoint(request.bursar, callerOf(request), request.params.endpointId);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/admin/webhook-endpoints/:endpointId/rotate-secret',
    {
      config: operatorOnly,
      schema: {
        operationId: 'adminRotateWebhookSecret',
        summary: 'Rotate the signing secret of a webhook endpoint',
        description: 'Answers the new secret, once. For 24 hours every delivery is signed with both the new and the old secret.',
        tags,
        params: EndpointParams,
        response: { 200: WebhookEndpointWithSecretSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const endpoint = await rotateWebhookSecret(request.bursar, callerOf(request), request.params.endpointId);
      return { ...toEndpointBody(endpoint), secret: endpoint.secret };
    },
  );

  app.get(
    '/admin/webhook-endpoints/:endpointId/deliveries',
    {
      config: operatorOnly,
      schema: {
        operationId: 'adminListWebhookDeliveries',
        summary: 'Deliveries of a webhook endpoint, newest first',
        tags,
        params: EndpointParams,
        querystring: Type.Object(
          {
            limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$', description: '1 to 500, default 100' })),
            cursor: Type.Optional(Type.String({ maxLength: 100, description: '`next_cursor` of the previous page' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: PageSchema(WebhookDeliverySchema), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const limit = Math.min(500, Math.max(1, Number(request.query.limit ?? 100)));
      const deliveries = await listWebhookDeliveries(request.bursar, callerOf(request), request.params.endpointId, {
        limit,
        before: parseCursor(request.query.cursor),
      });
      const last = deliveries.length === limit ? deliveries[deliveries.length - 1] : undefined;
      return toPageBody({ items: deliveries, nextCursor: last ? `${last.createdAt.toISOString()}_${last.id}` : null }, toDeliveryBody);
    },
  );

  app.post(
    '/admin/webhook-deliveries/:deliveryId/retry',
    {
      config: operatorOnly,
      schema: {
        operationId: 'adminRetryWebhookDelivery',
        summary: 'Send a delivery again now',
        description: 'The same event (same `webhook-id`), due now with a full schedule of attempts.',
        tags,
        params: Type.Object({ deliveryId: Type.String({ format: 'uuid' }) }),
        response: { 200: WebhookDeliverySchema, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => toDeliveryBody(await retryWebhookDelivery(request.bursar, callerOf(request), request.params.deliveryId)),
  );

  app.post(
    '/admin/webhook-endpoints/:endpointId/test',
    {
      config: operatorOnly,
      schema: {
        operationId: 'adminTestWebhookEndpoint',
        summary: 'Send a webhook.test event to this endpoint now',
        tags,
        params: EndpointParams,
        response: { 202: Type.Object({ event_id: Type.String() }), ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const { eventId } = await sendTestWebhook(request.bursar, callerOf(request), request.params.endpointId);
      return reply.status(202).send({ event_id: eventId });
    },
  );
};
