/**
 * Several advisory locks in one statement are taken in one fixed order, the ids' bytes, by every taker: two
 * transactions locking overlapping sets then wait for each other instead of deadlocking.
 */
import sql, { Sql } from 'sql-template-tag';

/**
 * The ids as a relation `ordered(id)` in lock order, for a FROM clause: a list of ids, or an SQL `text[]` expression
 * (ids the statement reads itself). `OFFSET 0` keeps the planner from flattening the subquery, so that the locks are
 * taken in this order and not in whatever order a join would read the ids.
 */
export function idsInLockOrder(ids: readonly string[] | Sql): Sql {
  const array = ids instanceof Sql ? ids : sql`${ids}::text[]`;
  return sql`(SELECT id FROM unnest(${array}) AS id ORDER BY id COLLATE "C" OFFSET 0) AS ordered`;
}
