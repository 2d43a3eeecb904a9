import { randomBytes, randomUUID } from 'node:crypto';
import type { AppContext } from '../../app-context.js';
import { recordAuditEvent } from '../../audit/record-audit-event.js';
import { systemClock } from '../../clock.js';
import type { Caller } from '../../domain/actor.js';
import { invalidInput, type FieldError } from '../../errors.js';
import { sha256Hex } from '../../secrets.js';
import { publicBaseUrl } from '../invoices/document-links.js';
import { enterOrganization } from '../organizations/organization-access.js';
import { insertPortalLink } from './portal-session.js';

/** A link is opened right away by the customer the platform hands it to. */
export const PORTAL_LINK_TTL_SECONDS = 10 * 60;
export const PORTAL_SESSION_CREATE = 'PORTAL_SESSION_CREATE';
export const PORTAL_ENTER_PATH = '/portal/enter';

export interface PortalLink {
  url: string;
  expiresAt: Date;
}

/**
 * Operators: a one-time link to an organization's billing page, valid 10 minutes of wall-clock time (a link is
 * handed to a person now, whatever the test clock says). Only the token's hash is stored.
 */
export async function createPortalSession(
  context: AppContext,
  caller: Caller,
  input: { organizationId: string; returnUrl?: string | null; userId?: string | null; requestBaseUrl: string | null },
): Promise<PortalLink> {
  const returnUrl = input.returnUrl ?? null;
  const userId = input.userId ?? null;
  const errors: FieldError[] = [];
  if (returnUrl !== null && !isWebAddress(returnUrl)) {
    errors.push({ field: 'returnUrl', reason: 'format', message: 'must be an absolute http or https URL' });
  }
  if (userId !== null && (userId.length < 1 || userId.length > 255)) {
    errors.push({ field: 'userId', reason: 'length', message: 'must be 1 to 255 characters' });
  }
  if (errors.length > 0) throw invalidInput(errors);

  const token = randomBytes(32).toString('base64url');
  const createdAt = systemClock.now();
  const expiresAt = new Date(createdAt.getTime() + PORTAL_LINK_TTL_SECONDS * 1000);
  await context.database.transaction(async (tx) => {
    const organization = await enterOrganization(tx, caller, { id: input.organizationId }, 'operator', { lock: 'key share' });
    const link = await insertPortalLink(tx, {
      id: randomUUID(),
      organizationId: organization.id,
      userId,
      returnUrl,
      linkTokenHash: sha256Hex(token),
      linkExpiresAt: expiresAt,
      createdAt,
    });
    await recordAuditEvent(tx, caller, context.clock.now(), {
      organizationId: organization.id,
      type: PORTAL_SESSION_CREATE,
      changes: { portalSessionId: link.id, userId, returnUrl, expiresAt: expiresAt.toISOString() },
    });
  });
  const base = publicBaseUrl(context, input.requestBaseUrl).replace(/\/+$/, '');
  return { url: `${base}${PORTAL_ENTER_PATH}?token=${token}`, expiresAt };
}

function isWebAddress(value: string): boolean {
  if (value.length > 2048) return false;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}
