import { randomBytes, randomUUID } from 'node:crypto';
import type { AppContext } from '../../app-context.js';
import { recordAuditEvent } from '../../audit/record-audit-event.js';
import { invalidInput, notFound } from '../../errors.js';
import { sha256Hex } from '../../secrets.js';
import type { Caller, Role } from '../../domain/actor.js';
import { lockOrganization } from '../addresses/billing-address.js';

export interface ApiToken {
  id: string;
  organizationId: string;
  name: string;
  role: Role;
  createdAt: Date;
  revokedAt: Date | null;
}

export const API_TOKEN_CREATE = 'API_TOKEN_CREATE';
export const API_TOKEN_REVOKE = 'API_TOKEN_REVOKE';

/** Returns the token itself once; only its SHA-256 is stored. */
export async function createApiToken(
  context: AppContext,
  request: Caller,
  input: { organizationId: string; name: string; role: Role },
): Promise<ApiToken & { token: string }> {
  const name = input.name.trim();
  if (name.length < 1 || name.length > 100) throw invalidInput([{ field: 'name', reason: 'length', message: 'must be 1 to 100 characters' }]);
  const token = `bursar_${randomBytes(32).toString('base64url')}`;
  const now = context.clock.now();
  const record: ApiToken = { id: randomUUID(), organizationId: input.organizationId, name, role: input.role, createdAt: now, revokedAt: null };
  await context.database.transaction(async (tx) => {
    await lockOrganization(tx, input.organizationId);
    await tx.query(
      'INSERT INTO api_tokens (id, organization_id, name, role, token_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)',
      [record.id, record.organizationId, name, input.role, sha256Hex(token), now],
    );
    await recordAuditEvent(tx, request, now, {
      organizationId: input.organizationId,
      type: API_TOKEN_CREATE,
      changes: { tokenId: record.id, name, role: input.role },
    });
  });
  return { ...record, token };
}

export async function listApiTokens(context: AppContext, organizationId: string): Promise<ApiToken[]> {
  const { rows } = await context.database.query<{ id: string; organization_id: string; name: string; role: Role; created_at: Date; revoked_at: Date | null }>(
    'SELECT id, organization_id, name, role, created_at, revoked_at FROM api_tokens WHERE organization_id = $1 ORDER BY created_at DESC',
    [organizationId],
  );
  return rows.map((r) => ({ id: r.id, organizationId: r.organization_id, name: r.name, role: r.role, createdAt: r.created_at, revokedAt: r.revoked_at }));
}

export async function revokeApiToken(
  context: AppContext,
  request: Caller,
  input: { organizationId: string; tokenId: string },
): Promise<void> {
  const now = context.clock.now();
  await context.database.transaction(async (tx) => {
    const { rows } = await tx.query<{ id: string }>(
      'UPDATE api_tokens SET revoked_at = $3 WHERE organization_id = $1 AND id = $2 AND revoked_at IS NULL RETURNING id',
      [input.organizationId, input.tokenId, now],
    );
    if (!rows[0]) throw notFound('API token');
    await recordAuditEvent(tx, request, now, { organizationId: input.organizationId, type: API_TOKEN_REVOKE, changes: { tokenId: input.tokenId } });
  });
}
