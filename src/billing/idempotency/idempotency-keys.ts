/**
 * The storage of `Idempotency-Key`s (table `idempotency_keys`): keys are scoped per organization and per operation
 * (`scope`), and kept 24 hours.
 *
 * The row is the lock: a request first claims its key with an INSERT of its own (status 102, "processing") committed
 * at once, so a concurrent duplicate finds the claim and answers 409 `idempotency_request_in_progress` instead of
 * running twice. Only successful (2xx) answers are stored: a request that failed changed nothing, so its claim is
 * released and a retry with the same key runs again. A claim left by a crashed process is taken over after ten
 * minutes.
 *
 * Retention costs no round trip of its own: a claim takes over an expired row of its own key in the claim statement
 * itself, and the other expired rows are deleted at most once an hour per process.
 */
import sql from 'sql-template-tag';
import type { Clock } from '../../clock.js';
import type { Queryable } from '../../db/database.js';
import type { Caller, Role } from '../../domain/actor.js';
import { BillingError, conflict, notFound } from '../../errors.js';
import { checkAccess, memberUserId, rolesParameter, type Permission } from '../organizations/organization-access.js';

/** A key of one operation of one organization. `requestHash` identifies the request that uses it (never the body in clear). */
export interface IdempotencyKey {
  organizationId: string;
  scope: string;
  key: string;
  requestHash: string;
}

/** A key this request holds: it runs the operation, then stores its answer or releases the claim. */
export interface IdempotencyClaim extends IdempotencyKey {
  claimedAt: Date;
}

/** What a claim finds: the key is ours to run with, or a stored answer to replay. */
export type ClaimOutcome = { outcome: 'claimed'; claim: IdempotencyClaim } | { outcome: 'replay'; status: number; body: unknown };

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
  await database.query(sql`DELETE FROM idempotency_keys WHERE created_at < ${new Date(now.getTime() - RETENTION_MS)}::timestamptz`);
}

interface StoredKey {
  request_hash: string;
  response_status: number;
  response_body: unknown;
  created_at: Date;
}

/** The primary key of a row, as a condition. */
function keyCondition(key: IdempotencyKey) {
  return sql`organization_id = ${key.organizationId}::uuid AND scope = ${key.scope}::text AND key = ${key.key}::text`;
}

/**
 * Claims `key` for this request, or finds the answer to replay. Nobody may claim or read keys of an organization they
 * cannot act on with `permission` (404 / 403, as for the operation itself): operators and API tokens are checked
 * first, a user's membership is read by the claim statement itself. The same key with another request answers 422
 * `idempotency_key_reused`; a claim still being processed, 409 `idempotency_request_in_progress`.
 */
export async function claimIdempotencyKey(
  database: Queryable,
  clock: Clock,
  caller: Caller,
  key: IdempotencyKey,
  permission: Permission,
): Promise<ClaimOutcome> {
  const { actor } = caller;
  if (actor.type !== 'user') checkAccess(actor, key.organizationId, undefined, permission);
  await deleteExpiredKeysNowAndThen(database, clock.now());

  for (let attempt = 0; attempt < 3; attempt++) {
    const now = clock.now();
    // A row of this key older than the retention is forgotten: the claim replaces it. The claim is written only for
    // a caller the access rule admits (the same rule, checked again on the role read here), and only for an
    // organization that exists (an operator may name any id).
    const { rows: claims } = await database.query<{ member_role: Role | null; organization_exists: boolean; claimed: boolean }>(
      sql`WITH organization AS (
            SELECT 1 FROM organizations WHERE id = ${key.organizationId}::uuid
          ), member AS (
            SELECT role FROM memberships WHERE organization_id = ${key.organizationId}::uuid AND user_id = ${memberUserId(actor)}::text
          ), claim AS (
            INSERT INTO idempotency_keys (organization_id, scope, key, request_hash, response_status, response_body, created_at)
            SELECT ${key.organizationId}::uuid, ${key.scope}::text, ${key.key}::text, ${key.requestHash}::text, ${PENDING_STATUS}::integer,
                   NULL, ${now}::timestamptz
             WHERE EXISTS (SELECT 1 FROM organization)
               AND (${actor.type !== 'user'}::boolean OR EXISTS (SELECT 1 FROM member WHERE role = ANY(${rolesParameter(permission)})))
            ON CONFLICT (organization_id, scope, key) DO UPDATE
              SET request_hash = EXCLUDED.request_hash, response_status = EXCLUDED.response_status, response_body = NULL,
                  created_at = EXCLUDED.created_at
              WHERE idempotency_keys.created_at < ${new Date(now.getTime() - RETENTION_MS)}::timestamptz
            RETURNING key
          )
          SELECT (SELECT role FROM member) AS member_role, EXISTS (SELECT 1 FROM organization) AS organization_exists,
                 EXISTS (SELECT 1 FROM claim) AS claimed`,
      { prepare: 'claim_idempotency_key' },
    );
    if (actor.type === 'user') checkAccess(actor, key.organizationId, claims[0]?.member_role ?? undefined, permission);
    if (!claims[0]?.organization_exists) throw notFound('Organization');
    if (claims[0]?.claimed) return { outcome: 'claimed', claim: { ...key, claimedAt: now } };

    const { rows } = await database.query<StoredKey>(
      sql`SELECT request_hash, response_status, response_body, created_at FROM idempotency_keys WHERE ${keyCondition(key)}`,
      { prepare: 'read_idempotency_key' },
    );
    const stored = rows[0];
    if (!stored) continue; // the first request failed and released its claim meanwhile: claim again
    if (stored.request_hash !== key.requestHash) {
      throw new BillingError('idempotency_key_reused', 422, 'This Idempotency-Key was already used with another request body');
    }
    if (stored.response_status !== PENDING_STATUS) return { outcome: 'replay', status: stored.response_status, body: stored.response_body };
    if (now.getTime() - stored.created_at.getTime() < STALE_CLAIM_MS) break;
    // The claim's process died before answering: take it over (only one taker wins the compare-and-set).
    const takenOver = await database.query(
      sql`UPDATE idempotency_keys SET created_at = ${now}::timestamptz
           WHERE ${keyCondition(key)} AND response_status = ${PENDING_STATUS}::integer AND created_at = ${stored.created_at}::timestamptz`,
    );
    if (takenOver.rowCount > 0) return { outcome: 'claimed', claim: { ...key, claimedAt: now } };
  }
  throw conflict('idempotency_request_in_progress', 'A request with this Idempotency-Key is still being processed; retry later');
}

/** The claim's request failed (it changed nothing): a retry with the same key runs again. */
export async function releaseIdempotencyClaim(database: Queryable, claim: IdempotencyClaim): Promise<void> {
  await database.query(
    sql`DELETE FROM idempotency_keys
         WHERE ${keyCondition(claim)} AND response_status = ${PENDING_STATUS}::integer AND created_at = ${claim.claimedAt}::timestamptz`,
    { prepare: 'release_idempotency_claim' },
  );
}

/**
 * The claim's request answered: a successful (2xx) answer is stored, to be replayed to every retry with the same key
 * (`body` is plain JSON); any other answer changed nothing, so the claim is released and a retry runs again.
 */
export async function settleIdempotencyClaim(database: Queryable, claim: IdempotencyClaim, status: number, body: unknown): Promise<void> {
  if (status < 200 || status >= 300) {
    await releaseIdempotencyClaim(database, claim);
    return;
  }
  await database.query(
    sql`UPDATE idempotency_keys SET response_status = ${status}::integer, response_body = ${JSON.stringify(body ?? null)}::jsonb
         WHERE ${keyCondition(claim)} AND response_status = ${PENDING_STATUS}::integer AND created_at = ${claim.claimedAt}::timestamptz`,
    { prepare: 'store_idempotent_answer' },
  );
}
