/**
 * Who is on the billing page: a portal session (the cookie a portal link sets) or the platform's user by the JWT in
 * the `__session` cookie (seed 003), whose role then applies as on the API. Every write carries a CSRF token bound to
 * that credential.
 */
import { createHmac } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../app-context.js';
import { PORTAL_SESSION_TTL_SECONDS, resolvePortalSession } from '../../billing/portal/open-portal-link.js';
import type { Actor } from '../../domain/actor.js';
import { BillingError, unauthorized } from '../../errors.js';
import { hashesEqual } from '../../secrets.js';
import type { Authenticator } from '../authenticate.js';

export const PORTAL_COOKIE = 'bursar_portal';

declare module 'fastify' {
  interface FastifyRequest {
    /** The credential behind a portal request (what its CSRF token is bound to) and where its way back leads. */
    portal: { credential: string; returnUrl: string | null } | null;
  }
}

export async function authenticatePortal(request: FastifyRequest, authenticator: Authenticator): Promise<Actor> {
  const organizationId = (request.params as { organizationId?: string } | undefined)?.organizationId;
  const sessionToken = request.cookies[PORTAL_COOKIE];
  const userJwt = request.cookies.__session;
  if (sessionToken) {
    const session = await resolvePortalSession(request.bursar, sessionToken);
    // A user signed in on the platform's domain as well reaches their other organizations with their own token.
    if (session && (session.actor.organizationId === organizationId || !userJwt)) {
      request.portal = { credential: sessionToken, returnUrl: session.returnUrl };
      return session.actor;
    }
  }
  if (userJwt) {
    const actor = await authenticator.authenticateFrom(request.ip, { authorization: undefined, sessionCookie: userJwt });
    request.portal = { credential: userJwt, returnUrl: null };
    return actor;
  }
  throw unauthorized('Your billing session has ended');
}

/** The portal session cookie: HttpOnly, Secure when the page is served over HTTPS, SameSite=Lax, one hour. */
export function setPortalCookie(reply: FastifyReply, context: AppContext, request: FastifyRequest, sessionToken: string): void {
  reply.setCookie(PORTAL_COOKIE, sessionToken, {
    path: '/portal',
    httpOnly: true,
    // Lax, not Strict: the link is opened from the platform's site, and Strict would keep the cookie off the
    // redirect that follows. Writes are guarded by the CSRF token and the Origin check instead.
    sameSite: 'lax',
    secure: isHttps(context, request),
    maxAge: PORTAL_SESSION_TTL_SECONDS,
  });
}

function isHttps(context: AppContext, request: FastifyRequest): boolean {
  return request.protocol === 'https' || (context.config.publicUrl?.startsWith('https:') ?? false);
}

export function csrfTokenFor(context: AppContext, credential: string): string {
  return createHmac('sha256', context.secrets.linkSigningKey).update(`portal-csrf\0${credential}`).digest('base64url');
}

const csrfRefused = () => new BillingError('csrf_failed', 403, 'This form has expired or came from another site. Reload the page and try again.');

/** A write must come from this site (Origin, when the browser sends it) and carry the token of the credential in use. */
export function checkCsrf(request: FastifyRequest): void {
  const origin = request.headers.origin;
  if (origin !== undefined && !ownOrigins(request).includes(origin)) throw csrfRefused();
  const sent = (request.body as Record<string, unknown> | undefined)?._csrf;
  if (!request.portal || typeof sent !== 'string') throw csrfRefused();
  const expected = csrfTokenFor(request.bursar, request.portal.credential);
  const sentHex = Buffer.from(sent, 'base64url').toString('hex');
  if (!hashesEqual(sentHex, Buffer.from(expected, 'base64url').toString('hex'))) throw csrfRefused();
}

export function ownOrigins(request: FastifyRequest): string[] {
  const origins = [`${request.protocol}://${request.host}`];
  const publicUrl = request.bursar.config.publicUrl;
  if (publicUrl) {
    try {
      origins.push(new URL(publicUrl).origin);
    } catch {
      // not a URL: only the request's own origin counts
    }
  }
  return origins;
}
