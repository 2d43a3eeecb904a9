import type { AppContext } from '../../app-context.js';
import { recordAuditEvent } from '../../audit/record-audit-event.js';
import { invalidInput, notFound } from '../../errors.js';
import type { Caller, Role } from '../../domain/actor.js';
import { enterOrganization } from './organization-access.js';
import { deleteMembership, findMemberRole, upsertMembership, type Membership } from './memberships.js';

export const MEMBERSHIP_SET = 'MEMBERSHIP_SET';
export const MEMBERSHIP_DELETE = 'MEMBERSHIP_DELETE';

/** Adds a member or changes their role (operators), audited when the role changes. */
export async function setMembership(context: AppContext, caller: Caller, input: { organizationId: string; userId: string; role: Role }): Promise<Membership> {
  if (input.userId.length < 1 || input.userId.length > 255) {
    throw invalidInput([{ field: 'userId', reason: 'length', message: 'must be 1 to 255 characters' }]);
  }
  const now = context.clock.now();
  return context.database.transaction(async (tx) => {
    await enterOrganization(tx, caller, { id: input.organizationId }, 'operator', { lock: 'update' });
    const oldRole = await findMemberRole(tx, input.organizationId, input.userId);
    const membership = await upsertMembership(tx, input, now);
    if (oldRole !== input.role) {
      await recordAuditEvent(tx, caller, now, {
        organizationId: input.organizationId,
        type: MEMBERSHIP_SET,
        changes: { userId: input.userId, role: { old: oldRole, new: input.role } },
      });
    }
    return membership;
  });
}

export async function removeMembership(context: AppContext, caller: Caller, input: { organizationId: string; userId: string }): Promise<void> {
  const now = context.clock.now();
  await context.database.transaction(async (tx) => {
    await enterOrganization(tx, caller, { id: input.organizationId }, 'operator', { lock: 'update' });
    const role = await deleteMembership(tx, input.organizationId, input.userId);
    if (role === null) throw notFound('Membership');
    await recordAuditEvent(tx, caller, now, {
      organizationId: input.organizationId,
      type: MEMBERSHIP_DELETE,
      changes: { userId: input.userId, role: { old: role, new: null } },
    });
  });
}
