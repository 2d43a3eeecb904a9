/**
 * A transactional job queue on the application's own database (an outbox): a use case enqueues in the
 * transaction that causes the side effect, so the job exists exactly when the change committed. Workers in any
 * number of processes claim jobs with FOR UPDATE SKIP LOCKED; a failed job is retried with exponential backoff.
 * A claim is a short lease that the worker renews while the handler runs: a live worker keeps its job however long
 * it takes, a dead worker's job is claimed again once the lease has run out. A job may be due at a business instant
 * (`dueAt`): it is claimed once the business clock has reached it, so scheduled work (`RecurringJob`) follows the
 * test clock exactly as it follows real time.
 */
import sql, { empty, raw, type Sql } from 'sql-template-tag';
import { systemClock, type Clock } from '../clock.js';
import type { Database, Queryable } from '../db/database.js';
import { jsonRows } from '../db/json-rows.js';
import { isDatabaseUnavailable } from '../errors.js';

export interface JobRecord {
  id: bigint;
  queue: string;
  payload: unknown;
  attempts: number;
  max_attempts: number;
  /** The business instant the job was due at (recurring and other clock-driven jobs); null for jobs due by `run_at`. */
  due_at: Date | null;
}

export const jobStates = ['pending', 'active', 'completed', 'failed'] as const;
export type JobState = (typeof jobStates)[number];

/** A job as operators see it. */
export interface Job {
  id: bigint;
  queue: string;
  payload: unknown;
  state: JobState;
  attempts: number;
  maxAttempts: number;
  lastError: string | null;
  runAt: Date;
  /** The business instant a scheduled job is due at (null: due by `runAt`). */
  dueAt: Date | null;
  createdAt: Date;
  completedAt: Date | null;
}

export interface JobRow {
  id: bigint;
  queue: string;
  payload: unknown;
  state: JobState;
  attempts: number;
  max_attempts: number;
  last_error: string | null;
  run_at: Date;
  due_at: Date | null;
  created_at: Date;
  completed_at: Date | null;
}

/** The columns of a `JobRow` over `j`. */
export const jobColumns: Sql = raw(
  'j.id, j.queue, j.payload, j.state, j.attempts, j.max_attempts, j.last_error, j.run_at, j.due_at, j.created_at, j.completed_at',
);

export function toJob(row: JobRow): Job {
  return {
    id: row.id,
    queue: row.queue,
    payload: row.payload,
    state: row.state,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    lastError: row.last_error,
    runAt: row.run_at,
    dueAt: row.due_at,
    createdAt: row.created_at,
    completedAt: row.completed_at,
  };
}

/** Jobs newest first, optionally in one state, after the job `beforeId` of the previous page. */
export async function findJobs(db: Queryable, options: { state: JobState | null; beforeId: bigint | null; limit: number }): Promise<Job[]> {
  const { rows } = await db.query<JobRow>(
    sql`SELECT ${jobColumns} FROM jobs j
         WHERE (${options.state}::text IS NULL OR j.state = ${options.state}::text)
           AND (${options.beforeId}::bigint IS NULL OR j.id < ${options.beforeId}::bigint)
         ORDER BY j.id DESC
         LIMIT ${options.limit}::int`,
  );
  return rows.map(toJob);
}

/** Makes a failed job due now with all its attempts again (its last error stays until it runs). */
export function requeueFailedJob(id: bigint): Sql {
  return sql`UPDATE jobs j SET state = 'pending', attempts = 0, run_at = now(), locked_until = NULL
     WHERE j.id = ${id}::bigint AND j.state = 'failed'
     RETURNING ${jobColumns}`;
}

export type JobHandler = (payload: unknown, job: JobRecord) => Promise<void>;

export interface EnqueueOptions {
  /** Real time (retries, backoff): due when the database's clock reaches it. */
  runAt?: Date;
  /**
   * Business time: due when the business clock (`context.clock`, the test clock when enabled) reaches it, whatever
   * that clock does meanwhile. Scheduled work uses it, so that moving the test clock makes it due as real time would.
   */
  dueAt?: Date;
  /** At most one job per queue and key, ever: a second enqueue with the same key is a no-op. */
  singletonKey?: string;
  maxAttempts?: number;
}

interface Logger {
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  error(object: object, message?: string): void;
}

/** How long a claim holds a job; its worker renews it every third of that while the handler runs. */
export const DEFAULT_LEASE_SECONDS = 30;
const DEFAULT_MAX_ATTEMPTS = 8;
const MAX_BACKOFF_SECONDS = 3600;
/** Longest wait between two polls while the database is unreachable. */
const MAX_OUTAGE_DELAY_MS = 30_000;

/** What every job insert writes, and the singleton rule: a second job with the same queue and key is dropped. */
const insertIntoJobs = raw('INSERT INTO jobs (queue, payload, run_at, singleton_key, max_attempts, due_at)');
const unlessSingletonTaken = raw('ON CONFLICT (queue, singleton_key) WHERE singleton_key IS NOT NULL DO NOTHING');

/**
 * The one `INSERT INTO jobs`. Alone it queues one job; with `from` (a CTE of a larger statement) it queues the job
 * only if that CTE yields a row, so the job exists exactly when the change that causes it does.
 */
export function insertJob(queue: string, payload: unknown, options: EnqueueOptions = {}, from?: Sql): Sql {
  return sql`${insertIntoJobs}
    SELECT ${queue}::text, ${JSON.stringify(payload)}::jsonb, COALESCE(${options.runAt ?? null}::timestamptz, now()),
           ${options.singletonKey ?? null}::text, ${options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS}::int, ${options.dueAt ?? null}::timestamptz
    ${from ? sql`FROM ${from}` : empty}
    ${unlessSingletonTaken}`;
}

export type BatchJob = { queue: string; payload: unknown } & Omit<EnqueueOptions, 'runAt' | 'dueAt'>;

/** One occurrence of a recurring job: its singleton key, the business instant it is due at and its payload. */
export interface Occurrence {
  key: string;
  dueAt: Date;
  payload: unknown;
}

/**
 * Work that recurs on the business calendar (the monthly billing run, the hourly payment retry sweep, …): the one
 * mechanism by which scheduled work follows the clock. Each occurrence is a job due at a business instant with a
 * singleton key; once it has run (or failed for good) the queue queues the next one in the same transaction.
 */
export interface RecurringJob {
  queue: string;
  maxAttempts: number;
  /** The occurrence to queue when none is known: the first one due at or after `now`. */
  first(now: Date): Occurrence;
  /**
   * The occurrence after the one due at `previousDueAt`, at business time `now`. Work that must happen once per
   * occurrence (a month to close) returns the very next one even when it is already due; work that only needs to
   * catch up once (a sweep) skips to the next one after `now`.
   */
  next(previousDueAt: Date, now: Date): Occurrence;
}

export interface JobQueueOptions {
  /** Seconds a claim holds a job before another worker may take it (renewed while the handler runs). */
  leaseSeconds?: number;
  /** The business clock that `dueAt` jobs follow. */
  clock?: Clock;
  /** Run before each poll (the test clock reads the database's setting there). */
  beforePoll?: () => Promise<void>;
}

/** `insertJob` for a batch of jobs due now (a billing run), as one multi-row INSERT with the same rules. */
export function insertJobs(jobs: readonly BatchJob[]): Sql {
  return sql`${insertIntoJobs}
    SELECT job.queue, job.payload, now(), job.singleton_key, job.max_attempts, NULL::timestamptz
      FROM ${jsonRows(
        jobs.map((job) => ({ queue: job.queue, payload: job.payload, singleton_key: job.singletonKey ?? null, max_attempts: job.maxAttempts ?? DEFAULT_MAX_ATTEMPTS })),
        'job',
        'queue text, payload jsonb, singleton_key text, max_attempts int',
      )}
    ${unlessSingletonTaken}`;
}

export class JobQueue {
  private readonly handlers = new Map<string, JobHandler>();
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private stopped = true;
  private idleWaiters: Array<() => void> = [];
  /** While the database is unreachable: the current wait between polls, doubled at each failure (0 otherwise). */
  private outageDelayMs = 0;
  private readonly recurring = new Map<string, RecurringJob>();
  private readonly leaseSeconds: number;
  private readonly clock: Clock;
  private readonly beforePoll: () => Promise<void>;

  constructor(
    private readonly database: Database,
    private readonly logger: Logger,
    private readonly pollIntervalMs = 1000,
    options: JobQueueOptions = {},
  ) {
    this.leaseSeconds = options.leaseSeconds ?? DEFAULT_LEASE_SECONDS;
    this.clock = options.clock ?? systemClock;
    this.beforePoll = options.beforePoll ?? (async () => undefined);
  }

  register(queue: string, handler: JobHandler): void {
    this.handlers.set(queue, handler);
  }

  /** A recurring job and its handler; `scheduleRecurring` queues its first occurrence, the queue the following ones. */
  registerRecurring(job: RecurringJob, handler: JobHandler): void {
    this.recurring.set(job.queue, job);
    this.register(job.queue, handler);
  }

  /** Queues one occurrence (idempotent: its singleton key). Returns false when it was already queued. */
  async scheduleOccurrence(tx: Queryable, job: RecurringJob, occurrence: Occurrence): Promise<boolean> {
    // Past year 9999 (a test clock at the end of time) there is no instant the database can store, nor anything to run.
    if (!(occurrence.dueAt.getUTCFullYear() <= 9999)) return false;
    return this.enqueue(tx, job.queue, occurrence.payload, { singletonKey: occurrence.key, dueAt: occurrence.dueAt, maxAttempts: job.maxAttempts });
  }

  /**
   * Queues the occurrence of every recurring job that is due next by the clock (at a worker's start, and when the
   * test clock moves). Any number of processes may call it at any time: singleton keys keep one job per occurrence.
   */
  async scheduleRecurring(): Promise<void> {
    const now = this.clock.now();
    for (const job of this.recurring.values()) await this.scheduleOccurrence(this.database, job, job.first(now));
  }

  /** Returns false when a job with the same singleton key already exists. */
  async enqueue(tx: Queryable, queue: string, payload: unknown, options: EnqueueOptions = {}): Promise<boolean> {
    const { rowCount } = await tx.query(insertJob(queue, payload, options));
    return rowCount > 0;
  }

  /** Several jobs in one multi-row INSERT (batch work such as a billing run); same rules as `enqueue`. */
  async enqueueMany(tx: Queryable, jobs: readonly BatchJob[]): Promise<void> {
    if (jobs.length === 0) return;
    await tx.query(insertJobs(jobs));
  }

  /** Forgets jobs that completed more than `olderThanDays` ago (failed ones stay for inspection). */
  async purgeCompleted(olderThanDays = 7): Promise<number> {
    const { rowCount } = await this.database.query(
      sql`DELETE FROM jobs WHERE state = 'completed' AND completed_at < now() - make_interval(days => ${olderThanDays})`,
    );
    return rowCount;
  }

  /** Ask the worker to look for work now (after a commit that enqueued something). */
  nudge(): void {
    if (this.stopped || this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.poll(), 0);
  }

  /** Starts polling; the recurring jobs' next occurrences are queued first (a worker keeps the schedule going). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.scheduleRecurring().catch((error: unknown) => {
      this.logger.warn({ err: error }, 'could not schedule the recurring jobs; the next start or clock move tries again');
    });
    this.timer = setTimeout(() => void this.poll(), 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    while (this.running) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  /**
   * Runs jobs until none is due (tests and operators' tools). `horizonSeconds` also runs jobs scheduled up to that
   * far in the future, such as retries waiting for their backoff.
   */
  async runUntilIdle(options: { horizonSeconds?: number; maxJobs?: number } = {}): Promise<number> {
    let count = 0;
    const limit = options.maxJobs ?? 10_000;
    while (count < limit) {
      const job = await this.claim(options.horizonSeconds ?? 0);
      if (!job) break;
      await this.execute(job);
      count += 1;
    }
    return count;
  }

  /**
   * Claims and runs the one job of `queue` with that singleton key now, if it is due or its worker's lease ran out
   * (a command-line run, tests). False when there is no such job to claim (done, or held by a live worker).
   */
  async runNow(queue: string, singletonKey: string): Promise<boolean> {
    const job = await this.claim(0, sql`queue = ${queue}::text AND singleton_key = ${singletonKey}::text`);
    if (!job) return false;
    await this.execute(job);
    return true;
  }

  private async poll(): Promise<void> {
    if (this.stopped || this.running) return;
    this.running = true;
    try {
      await this.beforePoll();
      for (;;) {
        if (this.stopped) break;
        const job = await this.claim(0);
        if (!job) break;
        await this.execute(job);
      }
      if (this.outageDelayMs > 0) this.logger.info({}, 'database reachable again; job worker resumes');
      this.outageDelayMs = 0;
    } catch (error) {
      if (isDatabaseUnavailable(error)) {
        if (this.outageDelayMs === 0) this.logger.warn({ err: error }, 'database unavailable; job worker backs off');
        this.outageDelayMs = Math.min(Math.max(this.pollIntervalMs, this.outageDelayMs * 2), MAX_OUTAGE_DELAY_MS);
      } else {
        this.logger.error({ err: error }, 'job worker failed to poll');
      }
    } finally {
      this.running = false;
      for (const resolve of this.idleWaiters.splice(0)) resolve();
      if (!this.stopped) this.timer = setTimeout(() => void this.poll(), this.outageDelayMs || this.pollIntervalMs);
    }
  }

  private async claim(horizonSeconds: number, only?: Sql): Promise<JobRecord | null> {
    // A job due in business time waits for the clock of this process (the test clock may be anywhere).
    const businessHorizon = new Date(this.clock.now().getTime() + horizonSeconds * 1000);
    const { rows } = await this.database.query<JobRecord>(
      sql`UPDATE jobs SET state = 'active', attempts = attempts + 1, locked_until = now() + make_interval(secs => ${this.leaseSeconds})
        WHERE id = (
          SELECT id FROM jobs
           WHERE ((state = 'pending' AND run_at <= now() + make_interval(secs => ${horizonSeconds})
                   AND (due_at IS NULL OR due_at <= ${businessHorizon}::timestamptz))
              OR (state = 'active' AND locked_until < now()))
             ${only ? sql`AND ${only}` : empty}
           ORDER BY run_at, id
           LIMIT 1
           FOR UPDATE SKIP LOCKED)
        RETURNING id, queue, payload, attempts, max_attempts, due_at`,
    );
    return rows[0] ?? null;
  }

  /** Renews the claim's lease every third of it while the handler runs; stops when the claim is lost. */
  private keepLease(job: JobRecord): () => void {
    const timer = setInterval(() => {
      this.database
        .query(
          sql`UPDATE jobs SET locked_until = now() + make_interval(secs => ${this.leaseSeconds})
               WHERE id = ${job.id} AND state = 'active' AND attempts = ${job.attempts}`,
        )
        .then(({ rowCount }) => {
          if (rowCount === 0) {
            clearInterval(timer);
            this.logger.warn({ jobId: job.id.toString(), queue: job.queue }, 'job lease lost: another worker may run it');
          }
        })
        .catch((error: unknown) => this.logger.warn({ err: error, jobId: job.id.toString() }, 'could not renew a job lease'));
    }, (this.leaseSeconds * 1000) / 3);
    timer.unref();
    return () => clearInterval(timer);
  }

  /** For a recurring job that has run (or failed for good): its next occurrence, as part of the closing statement. */
  private successorOf(job: JobRecord): Sql | null {
    const recurring = this.recurring.get(job.queue);
    if (!recurring || job.due_at === null) return null;
    const next = recurring.next(job.due_at, this.clock.now());
    if (!(next.dueAt.getUTCFullYear() <= 9999)) return null;
    return insertJob(recurring.queue, next.payload, { singletonKey: next.key, dueAt: next.dueAt, maxAttempts: recurring.maxAttempts });
  }

  /** The job's closing update and, for a recurring job, its successor, in one transaction. */
  private async close(job: JobRecord, update: Sql, successor: Sql | null): Promise<void> {
    if (successor === null) {
      await this.database.query(update);
      return;
    }
    await this.database.transaction(async (tx) => {
      await tx.query(update);
      await tx.query(successor);
    });
  }

  private async execute(job: JobRecord): Promise<void> {
    const handler = this.handlers.get(job.queue);
    const stopRenewing = this.keepLease(job);
    // Updates only while the claim is ours: a worker whose lease ran out does not overwrite the next worker's state.
    const ours = sql`id = ${job.id} AND state = 'active' AND attempts = ${job.attempts}`;
    try {
      if (!handler) throw new Error(`no handler registered for queue ${job.queue}`);
      await handler(job.payload, job);
      stopRenewing();
      await this.close(
        job,
        sql`UPDATE jobs SET state = 'completed', completed_at = now(), locked_until = NULL, last_error = NULL WHERE ${ours}`,
        this.successorOf(job),
      );
    } catch (error) {
      stopRenewing();
      if (isDatabaseUnavailable(error)) {
        // The outage failed, not the job: hand it back without spending an attempt and let the worker back off. If the
        // database is still away, the claim's lock runs out and the job is claimed again later.
        await this.database
          .query(sql`UPDATE jobs SET state = 'pending', attempts = attempts - 1, locked_until = NULL WHERE ${ours}`)
          .catch(() => undefined);
        throw error;
      }
      const message = error instanceof Error ? error.message : String(error);
      const exhausted = job.attempts >= job.max_attempts;
      const backoffSeconds = Math.min(2 ** job.attempts, MAX_BACKOFF_SECONDS);
      // A recurring job that gives up still queues its next occurrence: one bad month does not stop the schedule.
      await this.close(
        job,
        sql`UPDATE jobs SET state = ${exhausted ? 'failed' : 'pending'}, locked_until = NULL, last_error = ${message.slice(0, 2000)},
                run_at = now() + make_interval(secs => ${backoffSeconds})
          WHERE ${ours}`,
        exhausted ? this.successorOf(job) : null,
      );
      const log = { jobId: job.id.toString(), queue: job.queue, attempt: job.attempts, error: message };
      if (exhausted) this.logger.error(log, 'job failed for good');
      else this.logger.warn(log, 'job failed; will retry');
    }
  }
}
