import type { AppContext } from '../../app-context.js';
import { listAuditEvents, type AuditEventRecord } from '../../audit/list-audit-events.js';
import type { Caller } from '../../domain/actor.js';
import { enterOrganization } from './organization-access.js';

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

/** The audit trail of an organization, newest first (operators); 404 for an unknown organization. `limit` is clamped to 1…1000. */
export async function listOrganizationAuditEvents(
  context: AppContext,
  caller: Caller,
  input: { organizationId: string; limit?: number; type?: string },
): Promise<AuditEventRecord[]> {
  await enterOrganization(context.database, caller, { id: input.organizationId }, 'operator');
  const limit = Math.min(Math.max(input.limit ?? DEFAULT_LIMIT, 1), MAX_LIMIT);
  return listAuditEvents(context.database, input.organizationId, { limit, type: input.type });
}
