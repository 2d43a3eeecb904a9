/**
 * `Idempotency-Key` for POSTs that create or charge something: a retry with the same key and the same body gets the
 * first answer back (same status, same body, header `Idempotent-Replayed: true`) and runs nothing again; the same
 * key with another body answers 422 `idempotency_key_reused`. The key is claimed, the use case's writes are made and
 * the answer is stored in one transaction; how is the billing floor's (`billing/idempotency/idempotency-keys.ts`):
 * this door reads the header, hashes the request and replies.
 *
 * The stored request hash is an HMAC of the body under a server key, so card numbers never sit there in clear.
 */
import { createHmac } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@fastify/type-provider-typebox';
import { answerOnce, type Commit, type IdempotentAnswer } from '../billing/idempotency/idempotency-keys.js';
import { BillingError } from '../errors.js';
import { callerOf } from './surface.js';

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
 * Runs a use case at most once per (organization, scope, Idempotency-Key) and sends its answer; without the header it
 * simply runs it. `run` calls the use case, handing it `commit` (undefined without a key: the use case then commits
 * its own way); `answerOf` maps its result to the answer, which is stored in the use case's own transaction. Errors
 * thrown by the use case propagate to the surface's error renderer unchanged.
 */
export async function withIdempotency<Result>(
  request: FastifyRequest,
  reply: FastifyReply,
  scope: string,
  organizationId: string,
  operation: {
    run: (commit: Commit<Result> | undefined) => Promise<Result>;
    answerOf: (result: Result) => IdempotentAnswer;
    /** The use case calls a provider before it commits: a replay is found before that call. */
    callsOutFirst?: boolean;
  },
): Promise<FastifyReply> {
  const key = idempotencyKeyOf(request);
  if (key === undefined) {
    const answer = operation.answerOf(await operation.run(undefined));
    return reply.status(answer.status).send(answer.body);
  }

  const { database, clock } = request.bursar;
  const { replayed, answer } = await answerOnce(
    database,
    clock,
    callerOf(request),
    { organizationId, scope, key, requestHash: requestHash(request, scope) },
    // The keys of an organization are for those who may change its billing data, as the keyed operations do.
    'billing.write',
    operation,
  );
  if (replayed) reply.header('idempotent-replayed', 'true');
  return reply.status(answer.status).send(answer.body);
}
