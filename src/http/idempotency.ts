/**
 * `Idempotency-Key` for POSTs that create or charge something: a retry with the same key and the same body gets the
 * first answer back (same status, same body, header `Idempotent-Replayed: true`) and runs nothing again; the same
 * key with another body answers 422 `idempotency_key_reused`. How keys are claimed, stored and kept is the billing
 * floor's (`billing/idempotency/idempotency-keys.ts`); this door reads the header, hashes the request and replies.
 *
 * The stored request hash is an HMAC of the body under a server key, so card numbers never sit there in clear.
 */
import { createHmac } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@fastify/type-provider-typebox';
import { claimIdempotencyKey, releaseIdempotencyClaim, settleIdempotencyClaim } from '../billing/idempotency/idempotency-keys.js';
import { BillingError } from '../errors.js';
import { requestContext } from './surface.js';

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
): Promise<FastifyReply> {
  const key = idempotencyKeyOf(request);
  if (key === undefined) {
    const answer = await handler();
    return reply.status(answer.status).send(answer.body);
  }

  const { database, clock } = request.bursar;
  const claimed = await claimIdempotencyKey(
    database,
    clock,
    requestContext(request),
    { organizationId, scope, key, requestHash: requestHash(request, scope) },
    // The keys of an organization are for those who may change its billing data, as the keyed operations do.
    'billing.write',
  );
  if (claimed.outcome === 'replay') return reply.header('idempotent-replayed', 'true').status(claimed.status).send(claimed.body);
  const { claim } = claimed;

  let answer: IdempotentAnswer;
  try {
    answer = await handler();
  } catch (error) {
    await releaseIdempotencyClaim(database, claim).catch((releaseError: unknown) => {
      request.log.warn({ error: releaseError instanceof Error ? releaseError.message : String(releaseError) }, 'could not release an idempotency claim');
    });
    throw error;
  }

  try {
    await settleIdempotencyClaim(database, claim, answer.status, answer.body);
  } catch (error) {
    // The operation itself committed: answer it. A retry meets the claim (409) until it goes stale.
    request.log.warn({ error: error instanceof Error ? error.message : String(error) }, 'could not store an idempotent answer');
  }
  return reply.status(answer.status).send(answer.body);
}
