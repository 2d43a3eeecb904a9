import { randomBytes, randomUUID } from 'node:crypto';
import type { AppContext } from '../../app-context.js';
import { recordAuditEvent } from '../../audit/record-audit-event.js';
import { invalidInput, notFound } from '../../errors.js';
import { sha256Hex } from '../../secrets.js';
import type { Caller, Role } from '../../domain/actor.js';
import { insertApiToken, listApiTokenRows, revokeApiTokenRow, type ApiToken } from './api-tokens.js';
import { enterOrganization, requireOperator } from './organization-access.js';

export const API_TOKEN_CREATE = 'API_TOKEN_CREATE';
export const API_TOKEN_REVOKE = 'API_TOKEN_REVOKE';

/** Returns the token itself once; only its SHA-256 is stored. */
export async function createApiToken(
  context: AppContext,
  caller: Caller,
  input: { organizationId: string; name: string; role: Role },
): Promise<ApiToken & { token: string }> {
  const name = input.name.trim();
  if (name.length < 1 || name.length > 100) throw invalidInput([{ field: 'name', reason: 'length', message: 'must be 1 to 100 characters' }]);
  const token = `bursar_${randomBytes(32).toString('base64url')}`;
  const now = context.clock.now();
  const record: ApiToken = { id: randomUUID(), organizationId: input.organizationId, name, role: input.role, createdAt: now, revokedAt: null };
  await context.database.transaction(async (tx) => {
    await enterOrganization(tx, caller, { id: input.organizationId }, 'operator', { lock: 'update' });
    await insertApiToken(tx, record, sha256Hex(token));
    await recordAuditEvent(tx, caller, now, {
      organizationId: input.organizationId,
      type: API_TOKEN_CREATE,
      changes: { tokenId: record.id, name, role: input.role },
    });
  });
  return { ...record, token };
}

/** Every token of the organization, newest first (operators); 404 for an unknown organization. */
export async function listApiTokens(context: AppContext, caller: Caller, organizationId: string): Promise<ApiToken[]> {
  await enterOrganization(context.database, caller, { id: organizationId }, 'operator');
  return listApiTokenRows(context.database, organizationId);
}

export async function revokeApiToken(context: AppContext, caller: Caller, input: { organizationId: string; tokenId: string }): Promise<void> {
  requireOperator(caller);
  const now = context.clock.now();
  await context.database.transaction(async (tx) => {
    if (!(await revokeApiTokenRow(tx, input.organizationId, input.tokenId, now))) throw notFound('API token');
    await recordAuditEvent(tx, caller, now, { organizationId: input.organizationId, type: API_TOKEN_REVOKE, changes: { tokenId: input.tokenId } });
  });
}
