/**
 * `billing_status.updated`: the billing status last announced per organization (table
 * `billing_status_announcements`) is compared with the status now, after each change that may move it and by the
 * scheduled check (changes caused by time alone, such as an invoice passing seven days unpaid). An event is written
 * when `is_valid` or the restriction differs, or nothing was announced yet.
 */
import sql, { type Sql } from 'sql-template-tag';
import type { AppContext } from '../../app-context.js';
import type { Queryable } from '../../db/database.js';
import { recordBillingEvent } from '../../events/billing-event.js';
import type { BillingRestriction } from '../../domain/billing-status.js';
import { loadBillingStatus } from './billing-standing.js';

export interface AnnounceOptions {
  /**
   * The change can move the status only away from these restrictions (adding a card: from `NO_CREDIT_CARD`): when
   * another one was announced, one cheap read skips the rest (hot paths). Unset: always compare.
   */
  onlyFrom?: ReadonlyArray<BillingRestriction | null>;
  /**
   * The last announcement as the change's own statement read it (`lastAnnouncementColumns`): then the cheap check
   * costs no read of its own. Only for a change of one organization (it is that organization's row).
   */
  announced?: LastAnnouncementColumns;
}

/** What a hot path's statement reads of the last announcement, alongside its own work (no round trip of its own). */
export interface LastAnnouncementColumns {
  /** Null when nothing was announced yet; otherwise the one announced restriction (itself null for a valid status). */
  last_announcement: Array<BillingRestriction | null> | null;
}

/** One lookup: the restriction wrapped in an array, so that "no announcement" (null) and "no restriction" ([null]) differ. */
export function lastAnnouncementColumns(organizationId: string): Sql {
  return sql`(SELECT ARRAY[a.restriction] FROM billing_status_announcements a WHERE a.organization_id = ${organizationId}::uuid) AS last_announcement`;
}

/** False when a status outside `onlyFrom` was announced: then the change cannot have moved it (one indexed read). */
async function mayHaveMoved(db: Queryable, organizationId: string, options: AnnounceOptions): Promise<boolean> {
  const { onlyFrom, announced } = options;
  if (!onlyFrom) return true;
  if (announced) return announced.last_announcement === null || onlyFrom.includes(announced.last_announcement[0] ?? null);
  const { rows } = await db.query<{ restriction: BillingRestriction | null }>(
    sql`SELECT restriction FROM billing_status_announcements WHERE organization_id = ${organizationId}::uuid`,
  );
  return !rows[0] || onlyFrom.includes(rows[0].restriction);
}

/** In the caller's transaction: announces the organization's status if it changed. Returns whether it did. */
export async function announceBillingStatusIn(tx: Queryable, organizationId: string, now: Date, options: AnnounceOptions = {}): Promise<boolean> {
  if (!(await mayHaveMoved(tx, organizationId, options))) return false;
  // One announcer per organization at a time, so that two changes never announce the same status twice.
  await tx.query(sql`SELECT pg_advisory_xact_lock(hashtextextended('billing-status:' || ${organizationId}::text, 0))`);
  const status = await loadBillingStatus(tx, organizationId, now);
  const { rows } = await tx.query<{ is_valid: boolean; restriction: string | null }>(
    sql`SELECT is_valid, restriction FROM billing_status_announcements WHERE organization_id = ${organizationId}::uuid`,
  );
  const last = rows[0];
  if (last && last.is_valid === status.isValid && last.restriction === status.reason) return false;
  await tx.query(
    sql`INSERT INTO billing_status_announcements (organization_id, is_valid, message, restriction, announced_at)
        VALUES (${organizationId}::uuid, ${status.isValid}, ${status.message}, ${status.reason}, ${now}::timestamptz)
        ON CONFLICT (organization_id) DO UPDATE
          SET is_valid = excluded.is_valid, message = excluded.message, restriction = excluded.restriction, announced_at = excluded.announced_at`,
  );
  await recordBillingEvent(tx, now, {
    type: 'billing_status.updated',
    organizationId,
    data: { is_valid: status.isValid, message: status.message, restriction: status.reason },
  });
  return true;
}

/**
 * After a change that committed on its own (a single-statement write, a batch): announces in a transaction of its
 * own. A failure is logged, not thrown: the change stands, and the scheduled check announces the status later.
 */
export async function announceBillingStatus(context: AppContext, organizationIds: Iterable<string>, options: AnnounceOptions = {}): Promise<void> {
  for (const organizationId of new Set(organizationIds)) {
    try {
      if (!(await mayHaveMoved(context.database, organizationId, options))) continue;
      await context.database.transaction((tx) => announceBillingStatusIn(tx, organizationId, context.clock.now()));
    } catch (error) {
      context.logger.warn({ err: error, organizationId }, 'billing status not announced; the scheduled check will');
    }
  }
}
