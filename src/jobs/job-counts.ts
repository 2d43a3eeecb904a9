/** How many jobs wait, run and failed, per queue (every process's, from the table): the metrics' queue depth. */
import sql from 'sql-template-tag';
import type { Queryable } from '../db/database.js';

export interface JobCounts {
  queue: string;
  state: 'pending' | 'active' | 'failed';
  jobs: number;
  /** Of those, jobs that failed at least once (pending ones wait for a retry). */
  withErrors: number;
}

export async function countJobs(db: Queryable): Promise<JobCounts[]> {
  const { rows } = await db.query<{ queue: string; state: JobCounts['state']; jobs: number; with_errors: number }>(
    sql`SELECT queue, state, count(*)::int4 AS jobs, count(*) FILTER (WHERE last_error IS NOT NULL)::int4 AS with_errors
          FROM jobs WHERE state IN ('pending', 'active', 'failed')
         GROUP BY queue, state`,
  );
  return rows.map((row) => ({ queue: row.queue, state: row.state, jobs: row.jobs, withErrors: row.with_errors }));
}
