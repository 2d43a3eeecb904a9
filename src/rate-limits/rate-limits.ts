/**
 * Rate limits shared by every process: one counter per rule and subject in `rate_limit_hits`, for fixed windows
 * aligned to the epoch (so every process agrees on the window without talking to the others). A hit is one upsert;
 * a check is one read by primary key, or a fragment folded into a statement the caller runs anyway.
 */
import sql, { type Sql } from 'sql-template-tag';
import type { RateLimit } from '../config.js';
import type { Queryable } from '../db/database.js';
import { tooManyAttempts } from '../errors.js';

/** Counters of windows that ended are removed a few at a time by later hits, so the table stays small. */
const EXPIRED_ROWS_REMOVED_PER_HIT = 20;

/** End of the window that holds `now`. */
export function windowEndOf(limit: RateLimit, now: Date): Date {
  const windowMs = limit.windowSeconds * 1000;
  return new Date(Math.floor(now.getTime() / windowMs) * windowMs + windowMs);
}

/** The subject's hits in the current window, as a scalar SQL expression (to fold into a statement run anyway). */
export function hitsInWindow(limit: RateLimit, subject: string, now: Date): Sql {
  return sql`COALESCE((SELECT h.hits FROM rate_limit_hits h
                        WHERE h.rule = ${limit.rule}::text AND h.subject = ${subject}::text
                          AND h.window_ends_at >= ${windowEndOf(limit, now)}::timestamptz), 0)`;
}

export async function countHits(db: Queryable, limit: RateLimit, subject: string, now: Date): Promise<number> {
  const { rows } = await db.query<{ hits: number }>(sql`SELECT ${hitsInWindow(limit, subject, now)}::int4 AS hits`, {
    prepare: 'rate_limit_count_hits',
  });
  return rows[0]?.hits ?? 0;
}

/** Counts one hit for the subject and answers its hits in the current window, this one included. */
export async function recordHit(db: Queryable, limit: RateLimit, subject: string, now: Date): Promise<number> {
  const windowEnd = windowEndOf(limit, now);
  // A counter whose window ended starts again at 1; a process whose clock runs behind adds to the later window.
  const { rows } = await db.query<{ hits: number }>(
    sql`WITH expired AS (
          DELETE FROM rate_limit_hits
           WHERE (rule, subject) IN (
                   SELECT rule, subject FROM rate_limit_hits
                    WHERE window_ends_at < ${now}::timestamptz AND NOT (rule = ${limit.rule}::text AND subject = ${subject}::text)
                    ORDER BY window_ends_at LIMIT ${EXPIRED_ROWS_REMOVED_PER_HIT}::int4
                    FOR UPDATE SKIP LOCKED)
        )
        INSERT INTO rate_limit_hits AS h (rule, subject, window_ends_at, hits)
        VALUES (${limit.rule}::text, ${subject}::text, ${windowEnd}::timestamptz, 1)
        ON CONFLICT (rule, subject) DO UPDATE
          SET hits = CASE WHEN h.window_ends_at >= EXCLUDED.window_ends_at THEN h.hits + 1 ELSE 1 END,
              window_ends_at = GREATEST(h.window_ends_at, EXCLUDED.window_ends_at)
        RETURNING h.hits`,
    { prepare: 'rate_limit_record_hit' },
  );
  return rows[0]!.hits;
}

/** Throws 429 `too_many_attempts` (with the seconds left in the window) when `hits` already reach the limit. */
export function refuseWhenSpent(limit: RateLimit, hits: number, now: Date, what: string): void {
  if (hits < limit.limit) return;
  const secondsLeft = Math.ceil((windowEndOf(limit, now).getTime() - now.getTime()) / 1000);
  throw tooManyAttempts(Math.max(1, secondsLeft), what);
}

/** Counts a hit and throws 429 when it goes over the limit: for limits on every request rather than on failures. */
export async function takeHit(db: Queryable, limit: RateLimit, subject: string, now: Date, what: string): Promise<void> {
  const hits = await recordHit(db, limit, subject, now);
  refuseWhenSpent(limit, hits - 1, now, what);
}
