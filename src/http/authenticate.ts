/**
 * Credentials → Actor. Operators: `Bearer <operator token>`. Users: a JWT as `Bearer <jwt>` or in the `__session`
 * cookie, HS256 with BURSAR_JWT_SECRET or RS256/ES256 from BURSAR_JWKS_URL. Machines: `Token <organization API token>`.
 */
import { createRemoteJWKSet, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { AppContext } from '../app-context.js';
import { findApiTokenActor } from '../billing/organizations/api-tokens.js';
import type { Actor } from '../domain/actor.js';
import { BillingError, unauthorized } from '../errors.js';
import { ExpiringMap } from '../expiring-map.js';
import { countHits, recordHit, refuseWhenSpent } from '../rate-limits/rate-limits.js';
import { hashesEqual, sha256Hex } from '../secrets.js';
import { isStorableText } from './storable-strings.js';

const VERIFIED_CACHE_LIMIT = 10_000;

export interface Credentials {
  authorization: string | undefined;
  sessionCookie: string | undefined;
}

export class Authenticator {
  private readonly hmacKey: Uint8Array | null;
  private readonly jwks: ReturnType<typeof createRemoteJWKSet> | null;
  /** Verified JWTs until they expire: verification is the costliest step of a request otherwise. */
  private readonly verified = new ExpiringMap<Actor>(VERIFIED_CACHE_LIMIT);
  /** Client addresses whose credentials failed in this process, until when (the end of a window at the latest). */
  private readonly recentFailures = new ExpiringMap<true>(VERIFIED_CACHE_LIMIT);

  constructor(private readonly context: AppContext) {
    const { jwtSecret, jwksUrl } = context.config;
    this.hmacKey = jwtSecret ? new TextEncoder().encode(jwtSecret) : null;
    this.jwks = jwksUrl ? createRemoteJWKSet(new URL(jwksUrl)) : null;
  }

  /** Resolves the actor, or throws 401 when credentials are missing, malformed, expired or wrongly signed. */
  async authenticate(credentials: Credentials): Promise<Actor> {
    const header = credentials.authorization?.trim();
    if (header) {
      const space = header.indexOf(' ');
      const scheme = space > 0 ? header.slice(0, space).toLowerCase() : '';
      const value = space > 0 ? header.slice(space + 1).trim() : '';
      if (!value) throw unauthorized('Malformed Authorization header', 'invalid_token');
      if (scheme === 'token') return this.apiToken(value);
      if (scheme !== 'bearer') throw unauthorized('Authorization must be "Bearer <token>" or "Token <token>"', 'invalid_token');
      const verified = this.cachedJwt(value);
      if (verified) return verified;
      if (hashesEqual(sha256Hex(value), this.context.secrets.adminTokenHash)) return { type: 'operator' };
      return this.jwt(value);
    }
    if (credentials.sessionCookie) return this.jwt(credentials.sessionCookie);
    throw unauthorized('Missing credentials: send "Authorization: Bearer <jwt>"');
  }

  /**
   * `authenticate`, limited per client address (`config.rateLimits.authenticationFailures`, shared by every
   * process): a JWT this process verified before passes at once (it cannot be a guess); other credentials from an
   * address with too many failures in the window get 429 without being looked at; each 401 counts once. A request
   * without credentials guesses nothing and is not counted.
   */
  async authenticateFrom(clientAddress: string, credentials: Credentials): Promise<Actor> {
    const presented = credentials.authorization?.trim().replace(/^bearer\s+/i, '') || credentials.sessionCookie;
    if (!presented) return this.authenticate(credentials);
    const cached = this.cachedJwt(presented);
    if (cached) return cached;
    const limit = this.context.config.rateLimits.authenticationFailures;
    const now = new Date();
    // The shared count is read only for an address this process saw fail in the current window: good credentials
    // cost no round trip, and an address failing elsewhere gets at most one more try here before the count applies.
    if (this.recentFailures.get(clientAddress, now.getTime())) {
      refuseWhenSpent(limit, await countHits(this.context.database, limit, clientAddress, now), now, 'failed authentications');
    }
    try {
      return await this.authenticate(credentials);
    } catch (error) {
      if (error instanceof BillingError && error.status === 401) {
        await recordHit(this.context.database, limit, clientAddress, now);
        this.recentFailures.set(clientAddress, true, now.getTime() + limit.windowSeconds * 1000);
      }
      throw error;
    }
  }

  /** A JWT verified before and not expired since (wall-clock time: identity providers sign in real time). */
  private cachedJwt(token: string): Actor | null {
    return this.verified.get(token) ?? null;
  }

  private async jwt(token: string): Promise<Actor> {
    // Wall-clock time, not the business clock: identity providers sign tokens in real time, and a test that moves
    // the business clock through a billing period must not expire everyone's session.
    const nowMs = Date.now();
    const cached = this.cachedJwt(token);
    if (cached) return cached;

    let alg: string | undefined;
    try {
      ({ alg } = decodeProtectedHeader(token));
    } catch {
      throw unauthorized('The token is not a JWT', 'invalid_token');
    }
    const options = {
      issuer: this.context.config.jwtIssuer ?? undefined,
      audience: this.context.config.jwtAudience ?? undefined,
      currentDate: new Date(nowMs),
    };
    let payload: JWTPayload;
    try {
      if (alg === 'HS256' && this.hmacKey) {
        ({ payload } = await jwtVerify(token, this.hmacKey, { ...options, algorithms: ['HS256'] }));
      } else if ((alg === 'RS256' || alg === 'ES256') && this.jwks) {
        ({ payload } = await jwtVerify(token, this.jwks, { ...options, algorithms: ['RS256', 'ES256'] }));
      } else if (alg === 'HS256' || alg === 'RS256' || alg === 'ES256') {
        throw unauthorized(`This server is not configured to verify ${alg} user tokens`, 'user_tokens_not_configured');
      } else {
        throw unauthorized('Token signed with an algorithm this server does not accept', 'invalid_token');
      }
    } catch (error) {
      throw refusalOf(error);
    }
    if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 255) {
      throw unauthorized('Token has no subject', 'invalid_token');
    }
    // The claims Bursar uses in queries and keeps (the user id in memberships and audit events) must be text
    // PostgreSQL can store.
    if ([payload.sub, payload.org_id, payload.sid].some((claim) => typeof claim === 'string' && !isStorableText(claim))) {
      throw unauthorized('Token claims are not valid text');
    }
    const actor: Actor = {
      type: 'user',
      userId: payload.sub,
      activeOrganizationId: typeof payload.org_id === 'string' ? payload.org_id : null,
      sessionId: typeof payload.sid === 'string' ? payload.sid : null,
      issuedAt: typeof payload.iat === 'number' ? new Date(payload.iat * 1000) : null,
    };
    // Tokens without exp are cached briefly so that a changed secret takes effect soon.
    const expiresAtMs = typeof payload.exp === 'number' ? payload.exp * 1000 : nowMs + 60_000;
    this.verified.set(token, actor, expiresAtMs);
    return actor;
  }

  private async apiToken(token: string): Promise<Actor> {
    const actor = await findApiTokenActor(this.context.database, sha256Hex(token));
    if (!actor) throw unauthorized('Invalid or revoked API token', 'invalid_token');
    return actor;
  }
}

/** A failed verification as a 401 that says why; the token itself is never part of it. */
function refusalOf(error: unknown): BillingError {
  if (error instanceof BillingError) return error;
  if (error instanceof joseErrors.JWTExpired) return unauthorized('The token has expired', 'token_expired');
  if (error instanceof joseErrors.JWSSignatureVerificationFailed || error instanceof joseErrors.JWKSNoMatchingKey) {
    return unauthorized('The token is not signed by a key this server trusts', 'invalid_signature');
  }
  return unauthorized('Invalid token', 'invalid_token');
}
