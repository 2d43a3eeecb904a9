/** Who is acting: resolved by the HTTP layer from credentials, checked by the core against memberships. */
export const roles = ['owner', 'admin', 'billing', 'member'] as const;
export type Role = (typeof roles)[number];

export type Actor =
  | { type: 'user'; userId: string; activeOrganizationId: string | null; sessionId: string | null; issuedAt: Date | null }
  | { type: 'token'; tokenId: string; organizationId: string; role: Role }
  /**
   * A customer on the billing page through a portal link: billing-manager rights in that one organization, audited
   * as `portal` with the platform's user id when the link named one.
   */
  | { type: 'portal'; sessionId: string; organizationId: string; userId: string | null }
  | { type: 'operator' }
  | { type: 'system' };

/** What a use case needs to know about the call besides its input: who, through which surface, which request. */
export interface Caller {
  actor: Actor;
  surface: string;
  requestId: string | null;
}

export function actorId(actor: Actor): string | null {
  switch (actor.type) {
    case 'user':
      return actor.userId;
    case 'token':
      return actor.tokenId;
    case 'portal':
      return actor.userId;
    default:
      return null;
  }
}

export const systemCaller = (surface: string): Caller => ({ actor: { type: 'system' }, surface, requestId: null });
