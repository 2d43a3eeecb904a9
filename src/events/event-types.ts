/** Every type of billing event a webhook endpoint may receive, in one place (endpoints, OpenAPI, README agree on it). */
export const billingEventTypes = [
  'billing_status.updated',
  'invoice.created',
  'invoice.paid',
  'invoice.payment_failed',
  'invoice.voided',
  'payment_method.attached',
  'payment_method.detached',
  'credits.granted',
  'credits.depleted',
  'plan.changed',
  'billing_profile.updated',
  'webhook.test',
] as const;

export type BillingEventType = (typeof billingEventTypes)[number];

export function isBillingEventType(value: string): value is BillingEventType {
  return (billingEventTypes as readonly string[]).includes(value);
}
