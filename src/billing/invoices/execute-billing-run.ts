/**
 * A billing run: closes, for every organization, the last complete billing period before `asOf`. A run is a
 * resource (`billing_runs`): requested (pending, with its job queued in the same transaction), worked by a job
 * (running, its progress recorded after each batch), then completed or failed. Organizations are invoiced in
 * batches, each batch one transaction (`issueInvoices`: a crash leaves whole batches of whole invoices only) under
 * per-organization locks; a few batches run at once, and the (organization, period) unique key makes reruns and
 * concurrent runs harmless. The job's worker renews its lease while the run goes on; when the worker's process
 * dies, another worker claims the job after the lease and resumes the run after the last recorded batch.
 */
import { randomUUID } from 'node:crypto';
import sql from 'sql-template-tag';
import type { AppContext } from '../../app-context.js';
import type { Caller } from '../../domain/actor.js';
import { systemCaller } from '../../domain/actor.js';
import { periodContaining, previousPeriod, type BillingPeriod } from '../../domain/billing-period.js';
import { invalidInput, isDatabaseUnavailable } from '../../errors.js';
import { numberField, stringField } from '../../jobs/job-payload.js';
import { billingRunExecutionQueue } from '../../jobs/queues.js';
import { requireOperator } from '../organizations/organization-access.js';
import {
  findBillingRun,
  finishBillingRun,
  insertPendingBillingRun,
  markBillingRunRunning,
  recordBillingRunProgress,
  type BillingRun,
  type BillingRunCounts,
} from './billing-run.js';
import { issueInvoices } from './issue-invoices.js';

export interface BillingRunOptions {
  asOf: Date;
  /** Organizations invoiced per transaction. */
  batchSize?: number;
  /** Batches invoiced at once (PostgreSQL only: PGlite has one connection). */
  concurrency?: number;
}

/** The job that works a run; it acts for whoever requested the run (an operator, the scheduler). */
export interface BillingRunJobPayload {
  runId: string;
  requestedBy: 'operator' | 'system';
  surface: string;
  batchSize?: number;
  concurrency?: number;
}

/** The singleton key of a run's job. */
export const billingRunJobKey = (runId: string): string => `run:${runId}`;

/** The period a run as of `asOf` closes: the month before the one containing `asOf`. */
export function periodClosedBy(asOf: Date): BillingPeriod {
  return previousPeriod(periodContaining(asOf));
}

/** Requests a run: validated, stored pending with its job in one transaction; a worker does the work. */
export async function startBillingRun(context: AppContext, caller: Caller, options: BillingRunOptions): Promise<BillingRun> {
  requireOperator(caller, 'Billing runs');
  const { asOf } = options;
  if (Number.isNaN(asOf.getTime())) throw invalidInput([{ field: 'asOf', reason: 'format', message: 'must be a date-time' }]);
  const period = periodClosedBy(asOf);
  const now = context.clock.now();
  if (period.end > now) {
    throw invalidInput([
      { field: 'asOf', reason: 'future', message: `closes the period ending ${period.end.toISOString()}, which has not ended yet` },
    ]);
  }
  const id = randomUUID();
  const payload: BillingRunJobPayload = {
    runId: id,
    requestedBy: caller.actor.type === 'operator' ? 'operator' : 'system',
    surface: caller.surface,
    ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
  };
  const run = await context.database.transaction(async (tx) => {
    const pending = await insertPendingBillingRun(tx, { id, asOf, period, requestedAt: now });
    await context.jobs.enqueue(tx, billingRunExecutionQueue, payload, { singletonKey: billingRunJobKey(id), maxAttempts: 12 });
    return pending;
  });
  context.jobs.nudge();
  return run;
}

function readPayload(payload: unknown): BillingRunJobPayload {
  const runId = stringField(payload, 'runId');
  if (runId === undefined) throw new Error(`${billingRunExecutionQueue}: payload without runId`);
  return {
    runId,
    requestedBy: stringField(payload, 'requestedBy') === 'operator' ? 'operator' : 'system',
    surface: stringField(payload, 'surface') ?? 'billing-run',
    batchSize: numberField(payload, 'batchSize'),
    concurrency: numberField(payload, 'concurrency'),
  };
}

/**
 * The run's job: works the run from where it stands (the start, or after the last batch a dead worker recorded) to
 * its end. A failure other than a database outage ends the run `failed` (a new run retries: it is harmless); during
 * an outage the job is handed back and the run resumes later.
 */
export async function workBillingRun(context: AppContext, jobPayload: unknown): Promise<BillingRun> {
  const payload = readPayload(jobPayload);
  const caller: Caller =
    payload.requestedBy === 'operator' ? { actor: { type: 'operator' }, surface: payload.surface, requestId: null } : systemCaller(payload.surface);
  const run = await markBillingRunRunning(context.database, payload.runId, context.clock.now());
  if (run === null) {
    const over = await findBillingRun(context.database, payload.runId);
    if (over === null) throw new Error(`${billingRunExecutionQueue}: no billing run ${payload.runId}`);
    return over; // already finished (its worker died between the end and the job's completion)
  }
  let failure: unknown = null;
  try {
    await invoiceOrganizations(context, caller, run, payload);
  } catch (error) {
    if (isDatabaseUnavailable(error)) throw error;
    failure = error;
  }
  const finished = await context.database.transaction(async (tx) => {
    const { rows } = await tx.query<{ organizations_failed: number }>(
      sql`SELECT organizations_failed FROM billing_runs WHERE id = ${run.id}::uuid FOR UPDATE`,
    );
    const failedOrganizations = rows[0]?.organizations_failed ?? 0;
    const error =
      failure !== null
        ? failure instanceof Error
          ? failure.message
          : String(failure)
        : failedOrganizations > 0
          ? `${failedOrganizations} organization(s) failed; see the logs`
          : null;
    return finishBillingRun(tx, run.id, { status: failure === null ? 'completed' : 'failed', at: context.clock.now(), error });
  });
  if (failure !== null) context.logger.error({ err: failure, billingRunId: run.id }, 'billing run failed');
  context.logger.info(
    {
      billingRunId: run.id,
      period: run.period.start.toISOString(),
      status: finished.status,
      organizationsSeen: finished.organizationsSeen,
      invoicesCreated: finished.invoicesCreated,
      invoicesExisting: finished.invoicesExisting,
      organizationsWithoutCharges: finished.organizationsWithoutCharges,
      organizationsFailed: finished.organizationsFailed,
    },
    'billing run finished',
  );
  context.jobs.nudge();
  return finished;
}

const noCounts = (): BillingRunCounts => ({ organizationsSeen: 0, invoicesCreated: 0, invoicesExisting: 0, organizationsWithoutCharges: 0, organizationsFailed: 0 });

async function invoiceOrganizations(context: AppContext, caller: Caller, run: BillingRun, options: { batchSize?: number; concurrency?: number }): Promise<void> {
  const { period } = run;
  const batchSize = Math.max(1, options.batchSize ?? 500);
  const concurrency = context.database.kind === 'pglite' ? 1 : Math.max(1, options.concurrency ?? 4);

  // The next batch of organization ids, one reader at a time. Organizations created after the period ended have
  // nothing in it. A failed read ends the run: the workers finish their batches and take no more.
  let after = run.resumeAfter ?? '00000000-0000-0000-0000-000000000000';
  let exhausted = false;
  let reading: Promise<unknown> = Promise.resolve();
  // Batches in reading order: progress is recorded up to the last batch before which all are done, so that a run
  // resumed after its worker died starts exactly where the recorded counts end.
  const inFlight: Array<{ last: string; counts: BillingRunCounts | null }> = [];
  let recording: Promise<unknown> = Promise.resolve();

  const nextBatch = (): Promise<{ ids: string[]; slot: { last: string; counts: BillingRunCounts | null } | null }> => {
    const batch = reading.then(async () => {
      if (exhausted) return { ids: [], slot: null };
      try {
        const { rows } = await context.database.query<{ id: string }>(
          sql`SELECT id FROM organizations WHERE id > ${after}::uuid AND created_at < ${period.end}::timestamptz ORDER BY id LIMIT ${batchSize}`,
          { prepare: 'billing_run_next_batch' },
        );
        if (rows.length < batchSize) exhausted = true;
        if (rows.length === 0) return { ids: [], slot: null };
        after = rows[rows.length - 1]!.id;
        const slot = { last: after, counts: null };
        inFlight.push(slot);
        return { ids: rows.map((row) => row.id), slot };
      } catch (error) {
        exhausted = true;
        throw error;
      }
    });
    reading = batch.catch(() => undefined);
    return batch;
  };

  const recordDone = (): Promise<unknown> => {
    const done = noCounts();
    let last: string | null = null;
    while (inFlight.length > 0 && inFlight[0]!.counts !== null) {
      const slot = inFlight.shift()!;
      for (const key of Object.keys(done) as Array<keyof BillingRunCounts>) done[key] += slot.counts![key];
      last = slot.last;
    }
    if (last === null) return recording;
    const resumeAfter = last;
    recording = recording.then(() => recordBillingRunProgress(context.database, run.id, done, resumeAfter));
    return recording;
  };

  const worker = async (): Promise<void> => {
    for (;;) {
      const { ids, slot } = await nextBatch();
      if (slot === null) return;
      const outcomes = await issueInvoices(context, caller, ids, period);
      const counts = noCounts();
      counts.organizationsSeen = ids.length;
      for (const [organizationId, result] of outcomes) {
        if (result.outcome === 'created') counts.invoicesCreated += 1;
        else if (result.outcome === 'exists') counts.invoicesExisting += 1;
        else if (result.outcome === 'nothing_to_bill') counts.organizationsWithoutCharges += 1;
        else {
          counts.organizationsFailed += 1;
          context.logger.error({ err: result.error, organizationId, billingRunId: run.id }, 'invoice of an organization failed; a rerun retries it');
        }
      }
      slot.counts = counts;
      await recordDone();
      if (counts.invoicesCreated > 0) context.jobs.nudge();
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: concurrency }, worker));
  await recording;
  for (const result of settled) if (result.status === 'rejected') throw result.reason;
}

/**
 * Requests a run and works it in this process now (the command line, benchmarks, tests): the same run and job as
 * `startBillingRun`; if a worker of another process claimed the job first, waits for that worker to finish it.
 * `onProgress` sees the run after each look (every `pollMs` while another process works it).
 */
export async function executeBillingRun(
  context: AppContext,
  caller: Caller,
  options: BillingRunOptions & { onProgress?: (run: BillingRun) => void; pollMs?: number },
): Promise<BillingRun> {
  const started = await startBillingRun(context, caller, options);
  options.onProgress?.(started);
  const pollMs = options.pollMs ?? 200;
  const sleep = () => new Promise<void>((resolve) => setTimeout(resolve, pollMs));
  // Works the job here when it is ours to claim (again after a retry's backoff); otherwise another worker has it.
  const attempt = () => context.jobs.runNow(billingRunExecutionQueue, billingRunJobKey(started.id));
  let working: Promise<boolean> | null = attempt();
  for (;;) {
    if (working === null) await sleep();
    else if (await Promise.race([working.then(() => true), sleep().then(() => false)])) working = null;
    const run = await findBillingRun(context.database, started.id);
    if (run === null) throw new Error(`billing run ${started.id} is gone`);
    options.onProgress?.(run);
    if (run.status === 'completed' || run.status === 'failed') {
      if (working !== null) await working;
      return run;
    }
    if (working === null) working = attempt();
  }
}
