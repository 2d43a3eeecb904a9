import sql from 'sql-template-tag';
import type { AppContext } from '../../app-context.js';
import { recordAuditEvent } from '../../audit/record-audit-event.js';
import type { Caller } from '../../domain/actor.js';
import { conflict, notFound } from '../../errors.js';
import { requeueFailedJob, toJob, type Job, type JobRow, type JobState } from '../../jobs/job-queue.js';
import { requireOperator } from '../organizations/organization-access.js';

export const JOB_RETRY = 'JOB_RETRY';

/**
 * Gives a failed job all its attempts again, due now (operators), and records who did it: in the audit trail of the
 * organization the job is about when its payload names one. 409 `job_not_failed` for a job that has not failed.
 */
export async function retryJob(context: AppContext, caller: Caller, jobId: bigint): Promise<Job> {
  requireOperator(caller, 'Jobs');
  const now = context.clock.now();
  const job = await context.database.transaction(async (tx) => {
    const { rows } = await tx.query<{ state: JobState; attempts: number; organization_id: string | null }>(
      sql`SELECT j.state, j.attempts, o.id AS organization_id
            FROM jobs j LEFT JOIN organizations o ON o.id::text = j.payload->>'organizationId'
           WHERE j.id = ${jobId}::bigint
             FOR UPDATE OF j`,
    );
    const current = rows[0];
    if (!current) throw notFound('Job');
    if (current.state !== 'failed') throw conflict('job_not_failed', `Only a failed job can be retried; this one is ${current.state}`);
    const requeued = await tx.query<JobRow>(requeueFailedJob(jobId));
    const retried = toJob(requeued.rows[0]!);
    await recordAuditEvent(tx, caller, now, {
      organizationId: current.organization_id,
      type: JOB_RETRY,
      changes: { jobId: jobId.toString(), queue: retried.queue, state: { old: 'failed', new: 'pending' }, attempts: { old: current.attempts, new: 0 } },
    });
    return retried;
  });
  context.jobs.nudge();
  return job;
}
