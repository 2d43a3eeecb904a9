import type { AppContext } from '../../app-context.js';
import { recordAuditEvent } from '../../audit/record-audit-event.js';
import { invalidInput, notFound } from '../../errors.js';
import type { Caller, Role } from '../../domain/actor.js';
import { lockOrganization } from '../addresses/billing-address.js';

export const MEMBERSHIP_SET = 'MEMBERSHIP_SET';
export const MEMBERSHIP_DELETE = 'MEMBERSHIP_DELETE';

export async function setMembership(
  context: AppContext,
  request: Caller,
  input: { organizationId: string; userId: string; role: Role },
): Promise<{ organizationId: string; userId: string; role: Role; createdAt: Date }> {
  if (input.userId.length < 1 || input.userId.length > 255) {
    throw invalidInput([{ field: 'userId', reason: 'length', message: 'must be 1 to 255 characters' }]);
  }
  const now = context.clock.now();
  return context.database.transaction(async (tx) => {
    await lockOrganization(tx, input.organizationId);
    const { rows: previous } = await tx.query<{ role: Role }>(
      'SELECT role FROM memberships WHERE organization_id = $1 AND user_id = $2',
      [input.organizationId, input.userId],
    );
    const { rows } = await tx.query<{ created_at: Date }>(
      `INSERT INTO memberships (organization_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (organization_id, user_id) DO UPDATE SET role = EXCLUDED.role
       RETURNING created_at`,
      [input.organizationId, input.userId, input.role, now],
    );
    const oldRole = previous[0]?.role ?? null;
    if (oldRole !== input.role) {
      await recordAuditEvent(tx, request, now, {
        organizationId: input.organizationId,
        type: MEMBERSHIP_SET,
        changes: { userId: input.userId, role: { old: oldRole, new: input.role } },
      });
    }
    return { organizationId: input.organizationId, userId: input.userId, role: input.role, createdAt: rows[0]!.created_at };
  });
}

export async function removeMembership(
  context: AppContext,
  request: Caller,
  input: { organizationId: string; userId: string },
): Promise<void> {
  const now = context.clock.now();
  await context.database.transaction(async (tx) => {
    await lockOrganization(tx, input.organizationId);
    const { rows } = await tx.query<{ role: Role }>(
      'DELETE FROM memberships WHERE organization_id = $1 AND user_id = $2 RETURNING role',
      [input.organizationId, input.userId],
    );
    if (!rows[0]) throw notFound('Membership');
    await recordAuditEvent(tx, request, now, {
      organizationId: input.organizationId,
      type: MEMBERSHIP_DELETE,
      changes: { userId: input.userId, role: { old: rows[0].role, new: null } },
    });
  });
}
