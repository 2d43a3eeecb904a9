/**
 * Operators: webhook endpoints (create, list, read, update, delete, rotate the secret). Every change is audited; the
 * secret is shown only by create and rotate.
 */
import { randomUUID } from 'node:crypto';
import sql, { empty, join, type Sql } from 'sql-template-tag';
import type { AppContext } from '../../app-context.js';
import { recordAuditEvent, type AuditChanges } from '../../audit/record-audit-event.js';
import type { Caller } from '../../domain/actor.js';
import { WEBHOOK_SECRET_OVERLAP_MS } from '../../domain/webhook-retry-schedule.js';
import { notFound } from '../../errors.js';
import type { Queryable } from '../../db/database.js';
import {
  toWebhookEndpoint,
  webhookEndpointColumns,
  type WebhookEndpoint,
  type WebhookEndpointRow,
} from '../../events/webhook-endpoint.js';
import { newWebhookSecret } from '../../events/webhook-signature.js';
import { requireOperator } from '../organizations/organization-access.js';
import { checkEndpointUrl, normalizeEventTypes } from './webhook-endpoint-input.js';

export const WEBHOOK_ENDPOINT_CREATE = 'WEBHOOK_ENDPOINT_CREATE';
export const WEBHOOK_ENDPOINT_UPDATE = 'WEBHOOK_ENDPOINT_UPDATE';
export const WEBHOOK_ENDPOINT_DELETE = 'WEBHOOK_ENDPOINT_DELETE';
export const WEBHOOK_ENDPOINT_ROTATE_SECRET = 'WEBHOOK_ENDPOINT_ROTATE_SECRET';

const what = 'Webhook endpoints';

export interface WebhookEndpointWithSecret extends WebhookEndpoint {
  secret: string;
}

export interface CreateWebhookEndpointInput {
  url: string;
  eventTypes?: string[] | null;
  description?: string | null;
}

export async function createWebhookEndpoint(context: AppContext, caller: Caller, input: CreateWebhookEndpointInput): Promise<WebhookEndpointWithSecret> {
  requireOperator(caller, what);
  const eventTypes = normalizeEventTypes(input.eventTypes ?? []);
  await checkEndpointUrl(input.url, context.config.webhookAllowPrivate);
  const now = context.clock.now();
  const id = randomUUID();
  const secret = newWebhookSecret();
  return context.database.transaction(async (tx) => {
    const { rows } = await tx.query<WebhookEndpointRow>(
      sql`INSERT INTO webhook_endpoints AS e (id, url, event_types, description, secret, created_at, updated_at)
          VALUES (${id}::uuid, ${input.url}, ${eventTypes}::text[], ${input.description ?? null}, ${secret}, ${now}::timestamptz, ${now}::timestamptz)
          RETURNING ${webhookEndpointColumns}`,
    );
    await recordAuditEvent(tx, caller, now, {
      organizationId: null,
      type: WEBHOOK_ENDPOINT_CREATE,
      changes: { endpointId: id, url: input.url, eventTypes, description: input.description ?? null },
    });
    return { ...toWebhookEndpoint(rows[0]!), secret };
  });
}

export async function listWebhookEndpoints(context: AppContext, caller: Caller): Promise<WebhookEndpoint[]> {
  requireOperator(caller, what);
  const { rows } = await context.database.query<WebhookEndpointRow>(
    sql`SELECT ${webhookEndpointColumns} FROM webhook_endpoints e ORDER BY e.created_at DESC, e.id DESC`,
  );
  return rows.map(toWebhookEndpoint);
}

async function loadEndpoint(db: Queryable, endpointId: string, lock: boolean): Promise<WebhookEndpoint> {
  const { rows } = await db.query<WebhookEndpointRow>(
    sql`SELECT ${webhookEndpointColumns} FROM webhook_endpoints e WHERE e.id = ${endpointId}::uuid ${lock ? sql`FOR UPDATE` : empty}`,
  );
  if (!rows[0]) throw notFound('Webhook endpoint');
  return toWebhookEndpoint(rows[0]);
}

export async function getWebhookEndpoint(context: AppContext, caller: Caller, endpointId: string): Promise<WebhookEndpoint> {
  requireOperator(caller, what);
  return loadEndpoint(context.database, endpointId, false);
}

export interface UpdateWebhookEndpointInput {
  url?: string;
  eventTypes?: string[] | null;
  description?: string | null;
  disabled?: boolean;
}

/** A partial update; only what changes is written and audited. Re-enabling an endpoint forgets its failing streak. */
export async function updateWebhookEndpoint(
  context: AppContext,
  caller: Caller,
  endpointId: string,
  input: UpdateWebhookEndpointInput,
): Promise<WebhookEndpoint> {
  requireOperator(caller, what);
  const eventTypes = input.eventTypes === undefined ? undefined : normalizeEventTypes(input.eventTypes ?? []);
  if (input.url !== undefined) await checkEndpointUrl(input.url, context.config.webhookAllowPrivate);
  const now = context.clock.now();
  return context.database.transaction(async (tx) => {
    const current = await loadEndpoint(tx, endpointId, true);
    const changes: AuditChanges = {};
    const sets: Sql[] = [];
    if (input.url !== undefined && input.url !== current.url) {
      changes.url = { old: current.url, new: input.url };
      sets.push(sql`url = ${input.url}`);
    }
    if (eventTypes !== undefined && eventTypes.join('\n') !== current.eventTypes.join('\n')) {
      changes.eventTypes = { old: current.eventTypes, new: eventTypes };
      sets.push(sql`event_types = ${eventTypes}::text[]`);
    }
    if (input.description !== undefined && input.description !== current.description) {
      changes.description = { old: current.description, new: input.description };
      sets.push(sql`description = ${input.description}`);
    }
    if (input.disabled !== undefined && input.disabled !== current.disabled) {
      changes.disabled = { old: current.disabled, new: input.disabled };
      sets.push(sql`disabled = ${input.disabled}`, sql`failing_since = NULL`);
    }
    if (sets.length === 0) return current;
    const { rows } = await tx.query<WebhookEndpointRow>(
      sql`UPDATE webhook_endpoints e SET ${join(sets, ', ')}, updated_at = ${now}::timestamptz
           WHERE e.id = ${endpointId}::uuid RETURNING ${webhookEndpointColumns}`,
    );
    await recordAuditEvent(tx, caller, now, { organizationId: null, type: WEBHOOK_ENDPOINT_UPDATE, changes: { endpointId, ...changes } });
    return toWebhookEndpoint(rows[0]!);
  });
}

/** Deletes the endpoint and its deliveries (the events stay). */
export async function deleteWebhookEndpoint(context: AppContext, caller: Caller, endpointId: string): Promise<void> {
  requireOperator(caller, what);
  const now = context.clock.now();
  await context.database.transaction(async (tx) => {
    const current = await loadEndpoint(tx, endpointId, true);
    await tx.query(sql`DELETE FROM webhook_endpoints WHERE id = ${endpointId}::uuid`);
    await recordAuditEvent(tx, caller, now, {
      organizationId: null,
      type: WEBHOOK_ENDPOINT_DELETE,
      changes: { endpointId, url: current.url },
    });
  });
}

/**
 * A new secret, returned once. The old one keeps signing beside it for 24 hours (wall clock: receivers' clocks), so
 * that the receiver can switch without losing a delivery.
 */
export async function rotateWebhookSecret(context: AppContext, caller: Caller, endpointId: string): Promise<WebhookEndpointWithSecret> {
  requireOperator(caller, what);
  const now = context.clock.now();
  const secret = newWebhookSecret();
  return context.database.transaction(async (tx) => {
    await loadEndpoint(tx, endpointId, true);
    const { rows } = await tx.query<WebhookEndpointRow & { previous_secret_expires_at: Date }>(
      sql`UPDATE webhook_endpoints e SET previous_secret = e.secret, secret = ${secret},
                 previous_secret_expires_at = now() + make_interval(secs => ${WEBHOOK_SECRET_OVERLAP_MS / 1000}), updated_at = ${now}::timestamptz
           WHERE e.id = ${endpointId}::uuid RETURNING ${webhookEndpointColumns}`,
    );
    const row = rows[0]!;
    await recordAuditEvent(tx, caller, now, {
      organizationId: null,
      type: WEBHOOK_ENDPOINT_ROTATE_SECRET,
      changes: { endpointId, previousSecretExpiresAt: row.previous_secret_expires_at },
    });
    return { ...toWebhookEndpoint(row), secret };
  });
}
