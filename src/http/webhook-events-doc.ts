/**
 * The outgoing webhook events in the OpenAPI document (its `webhooks` section): one entry per event type with an
 * example body. The README shows the same examples.
 */
import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import { billingEventTypes, type BillingEventType } from '../events/event-types.js';

const organizationId = '3f1c7a52-6f0e-4c2a-9d43-2b8e1f0a9c11';

const invoice = {
  id: '8d2e4b7a-1c3f-4e5d-9a6b-7c8d9e0f1a2b',
  created_at: '2026-04-01T00:00:05.000Z',
  status: 'PENDING',
  total_in_cents: 4900,
  total: 49,
  currency_code: 'USD',
  number: 'INV-000042',
  period_start: '2026-03-01T00:00:00.000Z',
  period_end: '2026-04-01T00:00:00.000Z',
  due_at: '2026-04-08T00:00:05.000Z',
  paid_at: null,
  subtotal_in_cents: 4900,
  credits_applied_in_cents: 0,
  lines: [{ kind: 'plan', description: 'PRO plan (Mar 1 – Mar 31, 2026)', quantity: null, amount_in_cents: 4900, amount: 49 }],
};

const card = {
  id: '5b6c7d8e-9f0a-4b1c-8d2e-3f4a5b6c7d8e',
  created_at: '2026-03-01T10:00:00.000Z',
  expiry_month: 12,
  expiry_year: 2030,
  last_digit: '4242',
  is_expired: false,
  brand: 'visa',
};

/** The `data` of each event type, as an example (every `data` carries `organization_id`, null for `webhook.test`). */
export const billingEventExamples: Record<BillingEventType, Record<string, unknown>> = {
  'billing_status.updated': {
    organization_id: organizationId,
    is_valid: false,
    message: 'Invoice INV-000042 of $49.00 has been unpaid since Apr 1, 2026. Pay it or update your credit card to keep deploying.',
    restriction: 'INVOICE_UNPAID',
  },
  'invoice.created': { organization_id: organizationId, invoice },
  'invoice.paid': { organization_id: organizationId, invoice: { ...invoice, status: 'PAID', paid_at: '2026-04-01T00:00:07.000Z' } },
  'invoice.payment_failed': {
    organization_id: organizationId,
    invoice: { ...invoice, status: 'NOT_PAID' },
    attempt: 1,
    failure_code: 'card_declined',
    failure_message: 'Your card was declined.',
    next_payment_attempt_at: '2026-04-04T00:00:05.000Z',
  },
  'invoice.voided': { organization_id: organizationId, invoice: { ...invoice, status: 'VOIDED' } },
  'payment_method.attached': { organization_id: organizationId, payment_method: card },
  'payment_method.detached': { organization_id: organizationId, payment_method: card, promoted_payment_method_id: null },
  'credits.granted': {
    organization_id: organizationId,
    amount_in_cents: 5000,
    currency: 'USD',
    source: 'credit_code',
    code: 'WELCOME50',
    ledger_entry_id: '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
    balance_in_cents: 5000,
  },
  'credits.depleted': { organization_id: organizationId, balance_in_cents: 0, currency: 'USD', invoice_id: invoice.id },
  'plan.changed': { organization_id: organizationId, plan: 'PRO', previous_plan: 'FREE', plan_kind: 'invoiced', currency: 'USD', trial_ends_at: null },
  'billing_profile.updated': { organization_id: organizationId, changed_fields: ['city', 'postalCode'], surface: 'organization' },
  'webhook.test': { organization_id: null, message: 'A test event sent by the operator', endpoint_id: '6e7f8a9b-0c1d-4e2f-9a3b-4c5d6e7f8a9b' },
};

const headerDescriptions: Record<string, string> = {
  'webhook-id': 'The event id: the same on every attempt and at every endpoint',
  'webhook-timestamp': 'Seconds since the epoch when this attempt was signed (wall clock)',
  'webhook-signature':
    '`v1,<base64 HMAC-SHA256>`, space-separated when two secrets sign (24 hours after a rotation); verify with the `standardwebhooks` library',
};

/** OpenAPI 3.1 `webhooks`: one POST per event type, with its example body. */
type OpenApiWebhooks = NonNullable<Extract<NonNullable<FastifyDynamicSwaggerOptions['openapi']>, { webhooks?: unknown }>['webhooks']>;

export function webhooksDocument(): OpenApiWebhooks {
  const webhooks: OpenApiWebhooks = {};
  for (const type of billingEventTypes) {
    webhooks[type] = {
      post: {
        summary: `${type} (outgoing webhook)`,
        tags: ['Webhooks'],
        parameters: Object.entries(headerDescriptions).map(([name, description]) => ({
          name,
          in: 'header',
          required: true,
          schema: { type: 'string' },
          description,
        })),
        requestBody: {
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['type', 'timestamp', 'data'],
                properties: {
                  type: { type: 'string', const: type },
                  timestamp: { type: 'string', format: 'date-time', description: 'Business time of the event' },
                  data: { type: 'object' },
                },
              },
              example: { type, timestamp: '2026-04-08T00:00:06.000Z', data: billingEventExamples[type] },
            },
          },
        },
        responses: { '200': { description: 'Received (any 2xx); any other answer (a redirect included) or none within 10 s is retried' } },
      },
    };
  }
  return webhooks;
}
