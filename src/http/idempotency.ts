/**
 * `Idempotency-Key` for POSTs that create or charge something: a retry with the same key and the same body gets the
 * first answer back (same status, same body, header `Idempotent-Replayed: true`) and runs nothing again; the same
 * key with another body answers 422 `idempotency_key_reused`. Keys are scoped per organization and per operation
 * (`scope`), and kept 24 hours.
 *
 * The row in `idempotency_keys` is the lock: a request first claims its key with an INSERT of its own (status 102,
 * "processing") committed at once, so a concurrent duplicate finds the claim and answers 409
 * `idempotency_request_in_progress` instead of running twice. Only successful (2xx) answers are stored: a request
 * that failed changed nothing, so its claim is released and a retry with the same key runs again. A claim left by a
 * crashed process is taken over after ten minutes.
 *
 * Retention costs no round trip of its own: a claim takes over an expired row of its own key in the claim statement
 * itself, and the other expired rows are deleted at most once an hour per process.
 *
 * The stored request hash is an HMAC of the body under a server key, so card numbers never sit there in clear.
 */
import { createHmac } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@fastify/type-provider-typebox';
import type { Role } from '../domain/actor.js';
import { checkAccess, rolesWith, type Permission } from '../billing/access/authorize.js';
import type { Queryable } from '../db/database.js';
import { BillingError, conflict } from '../errors.js';

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';

/** Add to a route's `headers` schema so that the header is validated and documented. */
export const IdempotencyKeyHeaders = Type.Object({
  [IDEMPOTENCY_KEY_HEADER]: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 255,
      description: 'Any unique string (a UUID): a retry with the same key and body answers the first response and does nothing twice. Kept 24 hours.',
    }),
  ),
});

/** What a handler answers; only a 2xx answer is stored and replayed. `body` must be plain JSON. */
export interface IdempotentAnswer {
  status: number;
  body: unknown;
}

export interface IdempotencyOptions {
  /** Who may use keys of this organization; checked before a claim is written (default `billing`). */
  permission?: Permission;
}

/** "Processing": the status of a claim whose request has not answered yet. */
const PENDING_STATUS = 102;
const STALE_CLAIM_MS = 10 * 60 * 1000;
const RETENTION_MS = 24 * 60 * 60 * 1000;
const CLEANUP_INTERVAL_MS = 60 * 60 * 1000;

/** When each database (each app) last deleted expired keys, by the business clock. */
const lastCleanupAt = new WeakMap<object, number>();

/** Deletes the expired keys of every organization, at most once per `CLEANUP_INTERVAL_MS` (a clock moved back runs it too). */
async function deleteExpiredKeysNowAndThen(database: Queryable, now: Date): Promise<void> {
  const last = lastCleanupAt.get(database);
  if (last !== undefined && now.getTime() >= last && now.getTime() - last < CLEANUP_INTERVAL_MS) return;
  lastCleanupAt.set(database, now.getTime());
  await database.query('DELETE FROM idempotency_keys WHERE created_at < $1', [new Date(now.getTime() - RETENTION_MS)]);
}

interface StoredKey {
  request_hash: string;
  response_status: number;
  response_body: unknown;
  created_at: Date;
}

/** JSON with object keys sorted, so that the same body in another key order hashes the same. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function requestHash(request: FastifyRequest, scope: string): string {
  const material = canonicalJson({ scope, method: request.method, params: request.params ?? null, body: request.body ?? null });
  return createHmac('sha256', request.bursar.secrets.linkSigningKey).update('bursar-idempotency-request\0').update(material).digest('hex');
}

function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  const header = request.headers[IDEMPOTENCY_KEY_HEADER];
  if (header === undefined) return undefined;
  const key = Array.isArray(header) ? header[0] : header;
  if (key === undefined || key.length < 1 || key.length > 255 || /[^\x20-\x7e]/.test(key)) {
    throw new BillingError('invalid_idempotency_key', 400, 'Idempotency-Key must be 1 to 255 printable ASCII characters');
  }
  return key;
}

/**
 * Runs `handler` at most once per (organization, scope, Idempotency-Key) and sends its answer; without the header it
 * simply runs `handler`. Errors thrown by `handler` propagate to the surface's error renderer unchanged.
 */
export async function withIdempotency(
  request: FastifyRequest,
  reply: FastifyReply,
  scope: string,
  organizationId: string,
  handler: () => Promise<IdempotentAnswer>,
  options: IdempotencyOptions = {},
): Promise<FastifyReply> {
  const key = idempotencyKeyOf(request);
  if (key === undefined) {
    const answer = await handler();
    return reply.status(answer.status).send(answer.body);
  }

  const context = request.bursar;
  const database = context.database;
  // Nobody may claim or read keys of an organization they cannot act on (404 / 403 as for the operation itself).
  // Operators and API tokens are checked here; a user's membership is read by the claim statement itself.
  const actor = request.actor;
  const permission = options.permission ?? 'billing';
  if (actor.type !== 'user') checkAccess(actor, organizationId, undefined, permission);
  const hash = requestHash(request, scope);

  await deleteExpiredKeysNowAndThen(database, context.clock.now());

  let claimedAt: Date | null = null;
  for (let attempt = 0; attempt < 3 && claimedAt === null; attempt++) {
    const now = context.clock.now();
    // A row of this key older than the retention is forgotten: the claim replaces it. The claim is written only for
    // a caller the access rule admits (the same rule, checked again on the role read here).
    const { rows: claims } = await database.query<{ member_role: Role | null; claimed: boolean }>(
      `WITH member AS (
         SELECT role FROM memberships WHERE organization_id = $1 AND user_id = $8
       ), claim AS (
         INSERT INTO idempotency_keys (organization_id, scope, key, request_hash, response_status, response_body, created_at)
         SELECT $1::uuid, $2::text, $3::text, $4::text, $5::integer, NULL, $6::timestamptz
          WHERE $9::boolean OR EXISTS (SELECT 1 FROM member WHERE role = ANY($10::text[]))
         ON CONFLICT (organization_id, scope, key) DO UPDATE
           SET request_hash = EXCLUDED.request_hash, response_status = EXCLUDED.response_status, response_body = NULL,
               created_at = EXCLUDED.created_at
           WHERE idempotency_keys.created_at < $7
         RETURNING key
       )
       SELECT (SELECT role FROM member) AS member_role, EXISTS (SELECT 1 FROM claim) AS claimed`,
      [
        organizationId,
        scope,
        key,
        hash,
        PENDING_STATUS,
        now,
        new Date(now.getTime() - RETENTION_MS),
        actor.type === 'user' ? actor.userId : null,
        actor.type !== 'user',
        rolesWith(permission),
      ],
      { prepare: 'claim_idempotency_key' },
    );
    if (actor.type === 'user') checkAccess(actor, organizationId, claims[0]?.member_role ?? undefined, permission);
    if (claims[0]?.claimed) {
      claimedAt = now;
      break;
    }

    const { rows } = await database.query<StoredKey>(
      `SELECT request_hash, response_status, response_body, created_at FROM idempotency_keys
        WHERE organization_id = $1 AND scope = $2 AND key = $3`,
      [organizationId, scope, key],
      { prepare: 'read_idempotency_key' },
    );
    const stored = rows[0];
    if (!stored) continue; // the first request failed and released its claim meanwhile: claim again
    if (stored.request_hash !== hash) {
      throw new BillingError('idempotency_key_reused', 422, 'This Idempotency-Key was already used with another request body');
    }
    if (stored.response_status !== PENDING_STATUS) {
      return reply.header('idempotent-replayed', 'true').status(stored.response_status).send(stored.response_body);
    }
    if (now.getTime() - stored.created_at.getTime() < STALE_CLAIM_MS) break;
    // The claim's process died before answering: take it over (only one taker wins the compare-and-set).
    const takenOver = await database.query(
      `UPDATE idempotency_keys SET created_at = $4
        WHERE organization_id = $1 AND scope = $2 AND key = $3 AND response_status = $5 AND created_at = $6`,
      [organizationId, scope, key, now, PENDING_STATUS, stored.created_at],
    );
    if (takenOver.rowCount > 0) claimedAt = now;
  }
  if (claimedAt === null) {
    throw conflict('idempotency_request_in_progress', 'A request with this Idempotency-Key is still being processed; retry later');
  }

  const releaseClaim = () =>
    database.query(
      `DELETE FROM idempotency_keys
        WHERE organization_id = $1 AND scope = $2 AND key = $3 AND response_status = $4 AND created_at = $5`,
      [organizationId, scope, key, PENDING_STATUS, claimedAt],
      { prepare: 'release_idempotency_claim' },
    );

  let answer: IdempotentAnswer;
  try {
    answer = await handler();
  } catch (error) {
    await releaseClaim().catch((releaseError: unknown) => {
      request.log.warn({ error: releaseError instanceof Error ? releaseError.message : String(releaseError) }, 'could not release an idempotency claim');
    });
    throw error;
  }

  try {
    if (answer.status >= 200 && answer.status < 300) {
      await database.query(
        `UPDATE idempotency_keys SET response_status = $4, response_body = $5
          WHERE organization_id = $1 AND scope = $2 AND key = $3 AND response_status = $6 AND created_at = $7`,
        [organizationId, scope, key, answer.status, JSON.stringify(answer.body ?? null), PENDING_STATUS, claimedAt],
        { prepare: 'store_idempotent_answer' },
      );
    } else {
      await releaseClaim();
    }
  } catch (error) {
    // The operation itself committed: answer it. A retry meets the claim (409) until it goes stale.
    request.log.warn({ error: error instanceof Error ? error.message : String(error) }, 'could not store an idempotent answer');
  }
  return reply.status(answer.status).send(answer.body);
}
