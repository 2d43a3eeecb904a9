/** The table `webhook_endpoints`: where the operator's webhooks go, which types, and the signing secrets. */
import { raw, type Sql } from 'sql-template-tag';

export interface WebhookEndpoint {
  id: string;
  url: string;
  /** Empty = every type. */
  eventTypes: string[];
  description: string | null;
  disabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** An endpoint with its secrets: only the delivery worker and rotation see these. */
export interface WebhookEndpointWithSecrets extends WebhookEndpoint {
  secret: string;
  previousSecret: string | null;
  previousSecretExpiresAt: Date | null;
}

export interface WebhookEndpointRow {
  id: string;
  url: string;
  event_types: string[];
  description: string | null;
  disabled: boolean;
  created_at: Date;
  updated_at: Date;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
}

/** The columns of a `WebhookEndpointRow` over `e`. */
export const webhookEndpointColumns: Sql = raw(
  'e.id, e.url, e.event_types, e.description, e.disabled, e.created_at, e.updated_at, e.secret, e.previous_secret, e.previous_secret_expires_at',
);

export function toWebhookEndpoint(row: WebhookEndpointRow): WebhookEndpoint {
  return {
    id: row.id,
    url: row.url,
    eventTypes: row.event_types,
    description: row.description,
    disabled: row.disabled,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function toWebhookEndpointWithSecrets(row: WebhookEndpointRow): WebhookEndpointWithSecrets {
  return {
    ...toWebhookEndpoint(row),
    secret: row.secret,
    previousSecret: row.previous_secret,
    previousSecretExpiresAt: row.previous_secret_expires_at,
  };
}
