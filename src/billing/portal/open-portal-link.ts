import { randomBytes } from 'node:crypto';
import type { AppContext } from '../../app-context.js';
import { systemClock } from '../../clock.js';
import { sha256Hex } from '../../secrets.js';
import { findLiveSession, findPortalLinkForUpdate, startPortalSession, type PortalSession } from './portal-session.js';
import type { Actor } from '../../domain/actor.js';

/** A session started from a link lasts an hour of wall-clock time. */
export const PORTAL_SESSION_TTL_SECONDS = 60 * 60;

export type OpenedPortalLink =
  | { outcome: 'opened'; organizationId: string; sessionToken: string; sessionExpiresAt: Date }
  | { outcome: 'used' | 'expired'; returnUrl: string | null }
  | { outcome: 'unknown' };

/**
 * Opens a portal link: once, within its 10 minutes (wall-clock time). The session token goes to the browser in a
 * cookie; only its hash is kept.
 */
export async function openPortalLink(context: AppContext, linkToken: string): Promise<OpenedPortalLink> {
  if (!/^[A-Za-z0-9_-]{20,100}$/.test(linkToken)) return { outcome: 'unknown' };
  const now = systemClock.now();
  return context.database.transaction(async (tx): Promise<OpenedPortalLink> => {
    const link = await findPortalLinkForUpdate(tx, sha256Hex(linkToken));
    if (!link) return { outcome: 'unknown' };
    if (link.linkUsedAt !== null) return { outcome: 'used', returnUrl: link.returnUrl };
    if (link.linkExpiresAt <= now) return { outcome: 'expired', returnUrl: link.returnUrl };
    const sessionToken = randomBytes(32).toString('base64url');
    const sessionExpiresAt = new Date(now.getTime() + PORTAL_SESSION_TTL_SECONDS * 1000);
    const started = await startPortalSession(tx, link.id, { usedAt: now, sessionTokenHash: sha256Hex(sessionToken), sessionExpiresAt });
    if (!started) return { outcome: 'used', returnUrl: link.returnUrl };
    return { outcome: 'opened', organizationId: link.organizationId, sessionToken, sessionExpiresAt };
  });
}

export interface PortalSessionActor {
  actor: Extract<Actor, { type: 'portal' }>;
  returnUrl: string | null;
  expiresAt: Date;
}

/** The actor of a live portal session, or null when the token names none (unknown or past its hour). */
export async function resolvePortalSession(context: AppContext, sessionToken: string): Promise<PortalSessionActor | null> {
  if (!/^[A-Za-z0-9_-]{20,100}$/.test(sessionToken)) return null;
  const session: PortalSession | null = await findLiveSession(context.database, sha256Hex(sessionToken), systemClock.now());
  if (!session) return null;
  return {
    actor: { type: 'portal', sessionId: session.id, organizationId: session.organizationId, userId: session.userId },
    returnUrl: session.returnUrl,
    expiresAt: session.sessionExpiresAt!,
  };
}
