/** The transactional job queue (src/jobs/job-queue.ts) on a real database: PGlite, or PostgreSQL with TEST_DATABASE_URL. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, test } from 'node:test';
import { JobQueue } from '../../src/jobs/job-queue.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

let app: TestApp;
before(async () => {
  // A whole test app only for its freshly migrated database (a schema of its own on PostgreSQL); its workers are off.
  app = await startTestApp();
});
after(async () => {
  await app.close();
});
// Each test starts from an empty queue table: runUntilIdle claims jobs of every queue, not only the test's own.
beforeEach(async () => {
  await app.database.query('DELETE FROM jobs');
});

interface LogEntry {
  level: 'info' | 'warn' | 'error';
  object: object;
  message?: string;
}

function newQueue(): { jobs: JobQueue; logs: LogEntry[]; queue: string } {
  const logs: LogEntry[] = [];
  const logger = {
    info: (object: object, message?: string) => logs.push({ level: 'info', object, message }),
    warn: (object: object, message?: string) => logs.push({ level: 'warn', object, message }),
    error: (object: object, message?: string) => logs.push({ level: 'error', object, message }),
  };
  return { jobs: new JobQueue(app.database, logger, 20), logs, queue: `test.${randomUUID()}` };
}

interface JobRow {
  id: bigint;
  state: string;
  attempts: number;
  last_error: string | null;
  payload: unknown;
  delay_seconds: number;
}

async function jobsOf(queue: string): Promise<JobRow[]> {
  const { rows } = await app.database.query<JobRow>(
    `SELECT id, state, attempts, last_error, payload, extract(epoch FROM run_at - now())::float8 AS delay_seconds
       FROM jobs WHERE queue = $1 ORDER BY id`,
    [queue],
  );
  return rows;
}

describe('enqueue', () => {
  test('a job enqueued in a transaction that rolls back does not exist', async () => {
    const { jobs, queue } = newQueue();
    const ran: unknown[] = [];
    jobs.register(queue, async (payload) => {
      ran.push(payload);
    });
    await assert.rejects(
      app.database.transaction(async (tx) => {
        await jobs.enqueue(tx, queue, { n: 1 });
        throw new Error('the use case failed after enqueueing');
      }),
      /use case failed/,
    );
    assert.deepEqual(await jobsOf(queue), []);
    assert.equal(await jobs.runUntilIdle(), 0);
    assert.deepEqual(ran, []);
  });

  test('a job enqueued in a transaction that commits runs once with its payload', async () => {
    const { jobs, queue } = newQueue();
    const ran: unknown[] = [];
    jobs.register(queue, async (payload, job) => {
      ran.push(payload);
      assert.equal(job.attempts, 1);
      assert.equal(job.queue, queue);
    });
    await app.database.transaction(async (tx) => {
      assert.equal(await jobs.enqueue(tx, queue, { organizationId: 'o-1', amount: '100' }), true);
    });
    assert.equal(await jobs.runUntilIdle(), 1);
    assert.deepEqual(ran, [{ organizationId: 'o-1', amount: '100' }]);
    const [row] = await jobsOf(queue);
    assert.equal(row!.state, 'completed');
    assert.equal(await jobs.runUntilIdle(), 0);
    assert.equal(ran.length, 1);
  });

  test('a job scheduled for later waits until its time (or the horizon)', async () => {
    const { jobs, queue } = newQueue();
    let runs = 0;
    jobs.register(queue, async () => {
      runs += 1;
    });
    const { rows } = await app.database.query<{ later: Date }>("SELECT now() + interval '1 hour' AS later");
    await jobs.enqueue(app.database, queue, {}, { runAt: rows[0]!.later });
    assert.equal(await jobs.runUntilIdle(), 0);
    assert.equal(await jobs.runUntilIdle({ horizonSeconds: 3000 }), 0);
    assert.equal(await jobs.runUntilIdle({ horizonSeconds: 3700 }), 1);
    assert.equal(runs, 1);
  });

  test('a singleton key admits one job per queue', async () => {
    const { jobs, queue } = newQueue();
    const other = `${queue}.other`;
    assert.equal(await jobs.enqueue(app.database, queue, { first: true }, { singletonKey: 'invoice-42' }), true);
    assert.equal(await jobs.enqueue(app.database, queue, { first: false }, { singletonKey: 'invoice-42' }), false);
    await app.database.transaction(async (tx) => {
      assert.equal(await jobs.enqueue(tx, queue, { first: false }, { singletonKey: 'invoice-42' }), false);
    });
    assert.equal(await jobs.enqueue(app.database, other, {}, { singletonKey: 'invoice-42' }), true);
    assert.equal(await jobs.enqueue(app.database, queue, {}, { singletonKey: 'invoice-43' }), true);
    const rows = await jobsOf(queue);
    assert.equal(rows.length, 2);
    assert.deepEqual(rows[0]!.payload, { first: true });
  });
});

describe('failures', () => {
  test('a failed job is retried with exponential backoff, then succeeds', async () => {
    const { jobs, queue, logs } = newQueue();
    let calls = 0;
    jobs.register(queue, async () => {
      calls += 1;
      if (calls <= 2) throw new Error(`provider unavailable (${calls})`);
    });
    await jobs.enqueue(app.database, queue, {});

    assert.equal(await jobs.runUntilIdle(), 1);
    let [row] = await jobsOf(queue);
    assert.equal(row!.state, 'pending');
    assert.equal(row!.attempts, 1);
    assert.equal(row!.last_error, 'provider unavailable (1)');
    assert.ok(row!.delay_seconds > 1 && row!.delay_seconds <= 2, `first backoff ${row!.delay_seconds}s`);
    assert.equal(await jobs.runUntilIdle(), 0, 'not due before its backoff');

    assert.equal(await jobs.runUntilIdle({ horizonSeconds: 2, maxJobs: 1 }), 1);
    [row] = await jobsOf(queue);
    assert.equal(row!.attempts, 2);
    assert.ok(row!.delay_seconds > 3 && row!.delay_seconds <= 4, `second backoff ${row!.delay_seconds}s`);

    assert.equal(await jobs.runUntilIdle({ horizonSeconds: 4 }), 1);
    [row] = await jobsOf(queue);
    assert.equal(row!.state, 'completed');
    assert.equal(row!.attempts, 3);
    assert.equal(row!.last_error, null);
    assert.equal(calls, 3);
    assert.equal(logs.filter((entry) => entry.level === 'warn').length, 2);
  });

  test('a job that keeps failing is marked failed after max attempts and not run again', async () => {
    const { jobs, queue, logs } = newQueue();
    let calls = 0;
    jobs.register(queue, async () => {
      calls += 1;
      throw new Error('always broken');
    });
    await jobs.enqueue(app.database, queue, {}, { maxAttempts: 3 });
    assert.equal(await jobs.runUntilIdle({ horizonSeconds: 3600 }), 3);
    const [row] = await jobsOf(queue);
    assert.equal(row!.state, 'failed');
    assert.equal(row!.attempts, 3);
    assert.equal(row!.last_error, 'always broken');
    assert.equal(calls, 3);
    assert.equal(await jobs.runUntilIdle({ horizonSeconds: 86_400 }), 0);
    assert.equal(logs.filter((entry) => entry.level === 'error' && entry.message === 'job failed for good').length, 1);
  });

  test('a job of a queue without a handler fails and is retried', async () => {
    const { jobs, queue } = newQueue();
    await jobs.enqueue(app.database, queue, {}, { maxAttempts: 1 });
    assert.equal(await jobs.runUntilIdle(), 1);
    const [row] = await jobsOf(queue);
    assert.equal(row!.state, 'failed');
    assert.match(row!.last_error ?? '', /no handler/);
  });

  test('a job left active by a crashed worker is claimed again once its lock expires', async () => {
    const { jobs, queue } = newQueue();
    let calls = 0;
    jobs.register(queue, async () => {
      calls += 1;
    });
    await jobs.enqueue(app.database, queue, {});
    await app.database.query(
      `UPDATE jobs SET state = 'active', attempts = 1, locked_until = now() + interval '5 minutes' WHERE queue = $1`,
      [queue],
    );
    assert.equal(await jobs.runUntilIdle(), 0, 'locked by a live worker');
    await app.database.query(`UPDATE jobs SET locked_until = now() - interval '1 second' WHERE queue = $1`, [queue]);
    assert.equal(await jobs.runUntilIdle(), 1);
    const [row] = await jobsOf(queue);
    assert.equal(row!.state, 'completed');
    assert.equal(row!.attempts, 2);
    assert.equal(calls, 1);
  });
});

describe('worker', () => {
  test('a started worker runs a job after nudge, and stops', async () => {
    const { jobs, queue } = newQueue();
    let resolveRun: (payload: unknown) => void = () => undefined;
    const ran = new Promise((resolve) => {
      resolveRun = resolve;
    });
    jobs.register(queue, async (payload) => resolveRun(payload));
    jobs.start();
    try {
      await app.database.transaction(async (tx) => {
        await jobs.enqueue(tx, queue, { hello: 'worker' });
      });
      jobs.nudge();
      const payload = await Promise.race([ran, new Promise((_, reject) => setTimeout(() => reject(new Error('the worker did not run the job')), 5000))]);
      assert.deepEqual(payload, { hello: 'worker' });
    } finally {
      await jobs.stop();
    }
    // Give the completion update a moment: the handler resolved before the row was marked completed.
    for (let i = 0; i < 50 && (await jobsOf(queue))[0]!.state !== 'completed'; i += 1) await new Promise((r) => setTimeout(r, 20));
    assert.equal((await jobsOf(queue))[0]!.state, 'completed');
  });
});
