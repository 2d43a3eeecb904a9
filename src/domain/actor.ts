/** Who is acting: resolved by the HTTP layer from credentials, checked by the core against memberships. */
export const roles = ['owner', 'admin', 'billing', 'member'] as const;
export type Role = (typeof roles)[number];

export type Actor =
  | { type: 'user'; userId: string; activeOrganizationId: string | null; sessionId: string | null; issuedAt: Date | null }
  | { type: 'token'; tokenId: string; organizationId: string; role: Role }
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
    default:
      return null;
  }
}

export const systemCaller = (surface: string): Caller => ({ actor: { type: 'system' }, surface, requestId: null });
