/**
 * `billing_profile.updated`: which fields of the billing profile changed (their names, never their old values) and
 * through which surface. The seed 003 addresses are part of the profile: their changes say `billing_addresses`.
 */
import type { Sql } from 'sql-template-tag';
import type { Queryable } from '../../db/database.js';
import type { Caller } from '../../domain/actor.js';
import { insertBillingEvent, recordBillingEvent } from '../../events/billing-event.js';

function profileUpdatedData(caller: Caller, changedFields: readonly string[], extra: Record<string, unknown>): Record<string, unknown> {
  return { changed_fields: [...changedFields].sort(), surface: caller.surface, ...extra };
}

/** For a guarded statement: the event exists only if `from` yields a row (the write applied). */
export function insertProfileUpdatedEvent(now: Date, caller: Caller, organizationId: string, changedFields: readonly string[], from: Sql): Sql {
  return insertBillingEvent(now, { type: 'billing_profile.updated', organizationId, data: profileUpdatedData(caller, changedFields, {}) }, from);
}

export async function recordProfileUpdatedEvent(
  tx: Queryable,
  now: Date,
  caller: Caller,
  organizationId: string,
  changedFields: readonly string[],
  extra: Record<string, unknown> = {},
): Promise<void> {
  await recordBillingEvent(tx, now, { type: 'billing_profile.updated', organizationId, data: profileUpdatedData(caller, changedFields, extra) });
}
