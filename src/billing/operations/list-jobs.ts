import type { AppContext } from '../../app-context.js';
import type { Caller } from '../../domain/actor.js';
import { pageOf, pageRequest, type Page } from '../../domain/pagination.js';
import { findJobs, type Job, type JobState } from '../../jobs/job-queue.js';
import { requireOperator } from '../organizations/organization-access.js';

/** The job queue (operators), newest first, optionally in one state (`failed`: the jobs that gave up), a page at a time. */
export async function listJobs(context: AppContext, caller: Caller, input: { state?: JobState; limit?: number; cursor?: string }): Promise<Page<Job>> {
  requireOperator(caller, 'Jobs');
  const { limit, after } = pageRequest(input, (id) => /^[1-9][0-9]{0,17}$/.test(id));
  const rows = await findJobs(context.database, { state: input.state ?? null, beforeId: after === null ? null : BigInt(after), limit: limit + 1 });
  return pageOf(rows, limit, (job) => job.id.toString());
}
