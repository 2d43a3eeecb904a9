/**
 * The storage of `Idempotency-Key`s (table `idempotency_keys`): keys are scoped per organization and per operation
 * (`scope`), and kept 24 hours.
 *
 * The key is claimed, the use case's writes are made and the answer is stored in ONE database transaction
 * (`answerOnce`). A crash, a lost connection or a failure anywhere before the commit therefore leaves nothing behind
 * (a retry runs the operation), and after it the stored answer (a retry replays it): there is no "claimed but never
 * answered" row any more, so no 409 for minutes after a crash and no second run once such a claim went stale.
 *
 * A concurrent duplicate must neither run twice nor wait for the first request: the claim statement first tries a
 * transaction-scoped advisory lock on a hash of the key, without waiting (`pg_try_advisory_xact_lock`). Whoever holds
 * it is running the key right now, so the duplicate answers 409 `idempotency_request_in_progress` at once. Only the
 * lock holder inserts the key's row (`ON CONFLICT DO NOTHING` against an answer committed meanwhile), so that insert
 * never waits for another transaction's uncommitted row either. On PGlite's single connection the transactions of
 * one process run one after the other; the in-process registry below gives a duplicate the same immediate 409 there.
 *
 * Use cases that call a provider before they write (a card attach) must not hold a transaction open during the
 * call. They look the key up in their own entry statement (`Commit.lookUp`: a stored answer is replayed without
 * calling anyone, at no round trip of its own), then call out; `answerOnce` claims the key only in the transaction
 * that writes the result, together with its answer, in one statement after the writes. A crash during the call leaves
 * no row, and a duplicate that another process ran meanwhile is found by the claim (its lock held, or its answer
 * committed), which rolls the write back (the use case then undoes its provider call) and answers 409 or replays.
 *
 * Only successful (2xx) answers are stored: a failed request rolls back, and a retry with the same key runs again.
 * Retention costs no round trip of its own: a claim takes over an expired row of its own key in the claim statement,
 * and the other expired rows are deleted at most once an hour per process.
 */
import sql, { raw, type Sql } from 'sql-template-tag';
import type { Clock } from '../../clock.js';
import type { Database, Queryable } from '../../db/database.js';
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

/** What a keyed request answers; only a 2xx answer is stored and replayed. `body` must be plain JSON. */
export interface IdempotentAnswer {
  status: number;
  body: unknown;
}

/**
 * How a use case commits its writes when it runs under a key: it passes its transaction's work, which runs in the
 * transaction that also claims the key and stores the answer. A use case given one calls it exactly once, and
 * undoes what it did outside the database (a provider call) when it throws.
 */
export interface Commit<Result> {
  (work: (tx: Queryable) => Promise<Result>): Promise<Result>;
  /** Given to a use case that calls out first: it must look the key up (in its entry statement) before calling out. */
  readonly lookUp?: StoredAnswerLookUp;
}

/** The key's stored answer, read by a use case's own entry statement (no round trip of its own). */
export interface StoredAnswerLookUp {
  /** A join and select-list columns for the entry statement (`enterOrganization`'s `join` and `select`). */
  join: Sql;
  select: Sql;
  /** After the entry (which checked the caller's access): throws when the key is answered, reused or in progress. */
  check(row: StoredAnswerColumns): void;
}

/** The columns `StoredAnswerLookUp.select` adds to a row. */
export interface StoredAnswerColumns {
  idempotency_request_hash: string | null;
  idempotency_response_status: number | null;
  idempotency_response_body: unknown;
  idempotency_created_at: Date | null;
}

export interface AnswerOnceOptions<Result> {
  /** Runs the use case; it commits through `commit`. */
  run: (commit: Commit<Result>) => Promise<Result>;
  /** The answer to send (and store) for the use case's result; called inside the transaction. */
  answerOf: (result: Result) => IdempotentAnswer;
  /** The use case calls out (a provider) before it commits: it looks the key up first (`Commit.lookUp`), so that a replay calls nobody. */
  callsOutFirst?: boolean;
}

/**
 * "Processing": the status of a claim row inside its transaction (never committed). A committed row with it is left
 * by the previous way of storing keys (claim committed first), taken over once `STALE_CLAIM_MS` old.
 */
const PENDING_STATUS = 102;
const STALE_CLAIM_MS = 10 * 60 * 1000;
const RETENTION_MS = 24 * 60 * 60 * 1000;
const CLEANUP_INTERVAL_MS = 60 * 60 * 1000;

/** When each database (each app) last deleted expired keys, by the business clock. */
const lastCleanupAt = new WeakMap<object, number>();

/** The keys this process is running now, per database (each app). */
const runningHere = new WeakMap<object, Set<string>>();

/** Deletes the expired keys of every organization, at most once per `CLEANUP_INTERVAL_MS` (a clock moved back runs it too). */
async function deleteExpiredKeysNowAndThen(database: Queryable, now: Date): Promise<void> {
  const last = lastCleanupAt.get(database);
  if (last !== undefined && now.getTime() >= last && now.getTime() - last < CLEANUP_INTERVAL_MS) return;
  lastCleanupAt.set(database, now.getTime());
  await database.query(sql`DELETE FROM idempotency_keys WHERE created_at < ${new Date(now.getTime() - RETENTION_MS)}::timestamptz`);
}

const inProgress = () => conflict('idempotency_request_in_progress', 'A request with this Idempotency-Key is still being processed; retry later');

/** Thrown inside the keyed transaction when the key's answer is stored already: the transaction rolls back, the answer is replayed. */
class AnsweredAlready extends Error {
  constructor(readonly answer: IdempotentAnswer) {
    super('this Idempotency-Key is answered already');
  }
}

interface StoredKey {
  request_hash: string | null;
  response_status: number | null;
  response_body: unknown;
  created_at: Date | null;
}

/** The primary key of a row, as a condition on `table` (the table's name or alias). */
function keyCondition(key: IdempotencyKey, table = raw('idempotency_keys')) {
  return sql`${table}.organization_id = ${key.organizationId}::uuid AND ${table}.scope = ${key.scope}::text AND ${table}.key = ${key.key}::text`;
}

/** What a row found for this key means: nothing to replay (null), the answer to replay, or a refusal. */
function storedAnswerOf(stored: StoredKey, key: IdempotencyKey, now: Date): IdempotentAnswer | null {
  if (stored.request_hash === null || stored.created_at === null || stored.response_status === null) return null;
  if (now.getTime() - stored.created_at.getTime() >= RETENTION_MS) return null; // expired: forgotten
  if (stored.request_hash !== key.requestHash) {
    throw new BillingError('idempotency_key_reused', 422, 'This Idempotency-Key was already used with another request body');
  }
  if (stored.response_status === PENDING_STATUS) {
    if (now.getTime() - stored.created_at.getTime() < STALE_CLAIM_MS) throw inProgress();
    return null; // a claim of the previous scheme, left by a crash: the claim takes it over
  }
  return { status: stored.response_status, body: stored.response_body };
}

/**
 * Runs a use case at most once per key and answers it: the stored answer when there is one (`replayed`), or the
 * use case's own, stored in the use case's transaction. Nobody may claim or read keys of an organization they cannot
 * act on with `permission` (404 / 403, as for the operation itself). The same key with another request answers 422
 * `idempotency_key_reused`; a key being run right now, 409 `idempotency_request_in_progress`.
 */
export async function answerOnce<Result>(
  database: Database,
  clock: Clock,
  caller: Caller,
  key: IdempotencyKey,
  permission: Permission,
  options: AnswerOnceOptions<Result>,
): Promise<{ replayed: boolean; answer: IdempotentAnswer }> {
  const { actor } = caller;
  if (actor.type !== 'user') checkAccess(actor, key.organizationId, undefined, permission);

  const running = runningHere.get(database) ?? new Set<string>();
  runningHere.set(database, running);
  const runningKey = `${key.organizationId}\0${key.scope}\0${key.key}`;
  if (running.has(runningKey)) throw inProgress();
  running.add(runningKey);
  try {
    await deleteExpiredKeysNowAndThen(database, clock.now());

    let answer: IdempotentAnswer | undefined;
    let lookedUp = false;
    const lookUp: StoredAnswerLookUp = {
      join: sql`LEFT JOIN idempotency_keys idempotency_key ON ${keyCondition(key, raw('idempotency_key'))}`,
      select: sql`idempotency_key.request_hash AS idempotency_request_hash, idempotency_key.response_status AS idempotency_response_status,
                  idempotency_key.response_body AS idempotency_response_body, idempotency_key.created_at AS idempotency_created_at`,
      check: (row) => {
        lookedUp = true;
        const found: StoredKey = {
          request_hash: row.idempotency_request_hash,
          response_status: row.idempotency_response_status,
          response_body: row.idempotency_response_body,
          created_at: row.idempotency_created_at,
        };
        const stored = storedAnswerOf(found, key, clock.now());
        if (stored) throw new AnsweredAlready(stored);
      },
    };
    const transaction = (work: (tx: Queryable) => Promise<Result>) =>
      database.transaction(async (tx) => {
        if (options.callsOutFirst && !lookedUp) throw new Error(`the use case of ${key.scope} did not look its Idempotency-Key up`);
        // A use case that called out has been looked up already: its writes come first and the key is claimed with
        // their answer, in one statement. The others claim first, so that a twin never runs their writes at all.
        if (!options.callsOutFirst) await claimKey(tx, clock, caller, key, permission, null);
        const result = await work(tx);
        answer = options.answerOf(result);
        if (options.callsOutFirst) {
          if (isSuccess(answer)) await claimKey(tx, clock, caller, key, permission, answer);
        } else {
          await storeAnswer(tx, key, answer);
        }
        return result;
      });
    const commit: Commit<Result> = options.callsOutFirst ? Object.assign(transaction, { lookUp }) : transaction;
    try {
      await options.run(commit);
    } catch (error) {
      if (error instanceof AnsweredAlready) return { replayed: true, answer: error.answer };
      throw error;
    }
    if (answer === undefined) throw new Error(`the use case of ${key.scope} did not commit through its Idempotency-Key`);
    return { replayed: false, answer };
  } finally {
    running.delete(runningKey);
  }
}

/**
 * Claims `key` inside the transaction `tx`, with its `answer` already or pending (null: `storeAnswer` writes it before
 * the commit), or throws: `AnsweredAlready` with the answer to replay, 409 while another transaction runs the key, 422
 * for another request, 404/403 for a caller without access. One statement: the caller's membership, the lock tried
 * without waiting, the claim row (written only for a caller the access rule admits and only by the lock holder) and
 * the row committed before, if any.
 */
async function claimKey(
  tx: Queryable,
  clock: Clock,
  caller: Caller,
  key: IdempotencyKey,
  permission: Permission,
  answer: IdempotentAnswer | null,
): Promise<void> {
  const { actor } = caller;
  // The claim's snapshot is taken before its lock: an answer committed in between is not in the snapshot, but the
  // insert meets it. Reading again (a new statement, a new snapshot) then finds it.
  for (let attempt = 0; attempt < 2; attempt++) {
    const now = clock.now();
    // The key is claimed only for a caller the access rule admits, and only in an organization that exists (an
    // operator may name any id).
    const { rows } = await tx.query<{ member_role: Role | null; organization_exists: boolean; locked: boolean | null; claimed: boolean } & StoredKey>(
      sql`WITH organization AS (
            SELECT 1 FROM organizations WHERE id = ${key.organizationId}::uuid
          ), member AS (
            SELECT role FROM memberships WHERE organization_id = ${key.organizationId}::uuid AND user_id = ${memberUserId(actor)}::text
          ), lock AS (
            SELECT pg_try_advisory_xact_lock(hashtextextended('idempotency:' || ${key.organizationId}::text || ':' || ${key.scope}::text || ':' || ${key.key}::text, 0)) AS locked
             WHERE EXISTS (SELECT 1 FROM organization)
               AND (${actor.type !== 'user'}::boolean OR EXISTS (SELECT 1 FROM member WHERE role = ANY(${rolesParameter(permission)})))
          ), claim AS (
            INSERT INTO idempotency_keys (organization_id, scope, key, request_hash, response_status, response_body, created_at)
            SELECT ${key.organizationId}::uuid, ${key.scope}::text, ${key.key}::text, ${key.requestHash}::text,
                   ${answer?.status ?? PENDING_STATUS}::integer, ${answer ? JSON.stringify(answer.body ?? null) : null}::jsonb, ${now}::timestamptz
              FROM lock WHERE locked
            ON CONFLICT (organization_id, scope, key) DO UPDATE
              SET request_hash = EXCLUDED.request_hash, response_status = EXCLUDED.response_status, response_body = EXCLUDED.response_body,
                  created_at = EXCLUDED.created_at
              WHERE idempotency_keys.created_at < ${new Date(now.getTime() - RETENTION_MS)}::timestamptz
                 OR (idempotency_keys.response_status = ${PENDING_STATUS}::integer
                     AND idempotency_keys.request_hash = EXCLUDED.request_hash
                     AND idempotency_keys.created_at < ${new Date(now.getTime() - STALE_CLAIM_MS)}::timestamptz)
            RETURNING key
          )
          SELECT (SELECT role FROM member) AS member_role, EXISTS (SELECT 1 FROM organization) AS organization_exists,
                 (SELECT locked FROM lock) AS locked, EXISTS (SELECT 1 FROM claim) AS claimed,
                 k.request_hash, k.response_status, k.response_body, k.created_at
            FROM (VALUES (1)) AS one
            LEFT JOIN idempotency_keys k ON ${keyCondition(key, raw('k'))}`,
      { prepare: 'claim_idempotency_key' },
    );
    const row = rows[0]!;
    if (actor.type === 'user') checkAccess(actor, key.organizationId, row.member_role ?? undefined, permission);
    if (!row.organization_exists) throw notFound('Organization');
    if (!row.locked) throw inProgress();
    if (row.claimed) return;
    const stored = storedAnswerOf(row, key, now);
    if (stored) throw new AnsweredAlready(stored);
  }
  throw inProgress();
}

const isSuccess = (answer: IdempotentAnswer) => answer.status >= 200 && answer.status < 300;

/** Stores a successful (2xx) answer in the claim's row; any other answer changed nothing, so the claim goes. */
async function storeAnswer(tx: Queryable, key: IdempotencyKey, answer: IdempotentAnswer): Promise<void> {
  if (!isSuccess(answer)) {
    await tx.query(sql`DELETE FROM idempotency_keys WHERE ${keyCondition(key)}`);
    return;
  }
  await tx.query(
    sql`UPDATE idempotency_keys SET response_status = ${answer.status}::integer, response_body = ${JSON.stringify(answer.body ?? null)}::jsonb
         WHERE ${keyCondition(key)}`,
    { prepare: 'store_idempotent_answer' },
  );
}
