/**
 * Several advisory locks in one statement are taken in one fixed order, the ids' bytes, by every taker: two
 * transactions locking overlapping sets then wait for each other instead of deadlocking.
 */
import sql, { type Sql } from 'sql-template-tag';

/**
 * The ids as a relation `ordered(id)` in lock order, for a FROM clause. `OFFSET 0` keeps the planner from flattening
 * the subquery, so that the locks are taken in this order and not in whatever order a join would read the ids.
 */
export function idsInLockOrder(ids: readonly string[]): Sql {
  return sql`(SELECT id FROM unnest(${ids}::text[]) AS id ORDER BY id COLLATE "C" OFFSET 0) AS ordered`;
}
