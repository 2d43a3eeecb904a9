/** Operator API: the job queue. List jobs by status (`failed`: those that gave up) and retry a failed one. */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { listJobs } from '../../../billing/operations/list-jobs.js';
import { retryJob } from '../../../billing/operations/retry-job.js';
import type { Job } from '../../../jobs/job-queue.js';
import { errorResponses, nullable, pagedListSchema, pageQueryValues, toPageBody } from '../../schemas.js';
import { callerOf } from '../../surface.js';

const tags = ['Operator'];
const operatorOnly = { auth: 'operator' as const };

const JobStatus = Type.Union(
  [Type.Literal('pending'), Type.Literal('active'), Type.Literal('completed'), Type.Literal('failed')],
  { description: 'pending: waiting to run (or to retry); active: running; completed; failed: gave up after its last attempt' },
);

const JobSchema = Type.Object(
  {
    id: Type.String({ pattern: '^[0-9]+$' }),
    queue: Type.String(),
    status: JobStatus,
    attempts: Type.Integer(),
    max_attempts: Type.Integer(),
    last_error: nullable(Type.String()),
    payload: Type.Unknown(),
    run_at: Type.String({ format: 'date-time', description: 'When it runs next (or ran last)' }),
    due_at: nullable(Type.String({ format: 'date-time', description: 'Scheduled work: the business instant it is due at (it also waits for run_at)' })),
    created_at: Type.String({ format: 'date-time' }),
    completed_at: nullable(Type.String({ format: 'date-time' })),
  },
  { title: 'Job' },
);

function toJobBody(job: Job) {
  return {
    id: job.id.toString(),
    queue: job.queue,
    status: job.state,
    attempts: job.attempts,
    max_attempts: job.maxAttempts,
    last_error: job.lastError,
    payload: job.payload,
    run_at: job.runAt.toISOString(),
    due_at: job.dueAt?.toISOString() ?? null,
    created_at: job.createdAt.toISOString(),
    completed_at: job.completedAt?.toISOString() ?? null,
  };
}

export const adminJobRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/admin/jobs',
    {
      config: operatorOnly,
      schema: {
        operationId: 'adminListJobs',
        summary: 'List jobs',
        description: 'Newest first, optionally in one status, a page at a time: pass `next_cursor` back as `cursor` until it is null.',
        tags,
        ...pagedListSchema({ title: 'JobPage', item: JobSchema, filters: { status: Type.Optional(JobStatus) } }),
      },
    },
    async (request) => {
      const page = await listJobs(request.bursar, callerOf(request), { state: request.query.status, ...pageQueryValues(request.query) });
      return toPageBody(page, toJobBody);
    },
  );

  app.post(
    '/admin/jobs/:jobId/retry',
    {
      config: operatorOnly,
      schema: {
        operationId: 'adminRetryJob',
        summary: 'Retry a failed job',
        description: 'The job is due now with all its attempts again; the retry is in the audit trail. 409 job_not_failed for a job that has not failed.',
        tags,
        params: Type.Object({ jobId: Type.String({ pattern: '^[1-9][0-9]{0,17}$' }) }),
        response: { 200: JobSchema, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => toJobBody(await retryJob(request.bursar, callerOf(request), BigInt(request.params.jobId))),
  );
};
