/**
 * Leases of the job queue: a claim holds a job for a short lease that its worker renews while the handler runs, so a
 * live worker keeps its job however long it takes, and a dead worker's job is claimed again soon after the lease.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, test } from 'node:test';
import type { Database } from '../../src/db/database.js';
import { JobQueue } from '../../src/jobs/job-queue.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

let app: TestApp;
before(async () => {
  app = await startTestApp();
});
after(async () => app.close());
beforeEach(async () => {
  await app.database.query('DELETE FROM jobs');
});

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The database as a process sees it that dies: once `kill()` is called, none of its statements ever returns. */
function mortalDatabase(database: Database): { database: Database; kill: () => void } {
  let dead = false;
  const never = new Promise<never>(() => undefined);
  const proxy = new Proxy(database, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => (dead ? never : (value as (...a: unknown[]) => unknown).apply(target, args));
    },
  });
  return { database: proxy, kill: () => (dead = true) };
}

async function lockedForSeconds(queue: string): Promise<number> {
  const { rows } = await app.database.query<{ seconds: number }>(
    'SELECT extract(epoch FROM locked_until - now())::float8 AS seconds FROM jobs WHERE queue = $1',
    [queue],
  );
  return rows[0]!.seconds;
}

test('a job whose worker died is claimed again after a short lease, not after 300 s', async () => {
  const queue = `test.${randomUUID()}`;
  const mortal = mortalDatabase(app.database);
  const dying = new JobQueue(mortal.database, quiet, 20, { leaseSeconds: 1 });
  let started = false;
  dying.register(queue, async () => {
    started = true;
    await new Promise(() => undefined); // the process dies while the handler runs
  });
  const survivor = new JobQueue(app.database, quiet, 20, { leaseSeconds: 1 });
  let finished = 0;
  survivor.register(queue, async () => {
    finished += 1;
  });
  await survivor.enqueue(app.database, queue, {});
  void dying.runUntilIdle();
  while (!started) await sleep(10);
  mortal.kill();
  assert.ok((await lockedForSeconds(queue)) <= 1.5, 'the claim holds the job for its short lease only');
  assert.equal(await survivor.runUntilIdle(), 0, 'claimed, and the lease has not run out yet');
  await sleep(1600);
  assert.equal(await survivor.runUntilIdle(), 1, 'the lease ran out: another worker takes the job');
  assert.equal(finished, 1);
  const { rows } = await app.database.query<{ state: string; attempts: number }>('SELECT state, attempts FROM jobs WHERE queue = $1', [queue]);
  assert.deepEqual(rows.map((row) => [row.state, row.attempts]), [['completed', 2]]);
});

test('a job that runs longer than its lease is not claimed twice while its worker is alive', async () => {
  const queue = `test.${randomUUID()}`;
  let calls = 0;
  const handler = async () => {
    calls += 1;
    await sleep(3000);
  };
  const first = new JobQueue(app.database, quiet, 20, { leaseSeconds: 1 });
  const second = new JobQueue(app.database, quiet, 20, { leaseSeconds: 1 });
  first.register(queue, handler);
  second.register(queue, handler);
  await first.enqueue(app.database, queue, {});
  const running = first.runUntilIdle();
  let claimedBySecond = 0;
  for (let poll = 0; poll < 10; poll++) {
    await sleep(300);
    claimedBySecond += await second.runUntilIdle({ maxJobs: 1 });
  }
  assert.equal(await running, 1);
  assert.equal(claimedBySecond, 0, 'a live worker renews its lease');
  assert.equal(calls, 1);
  const { rows } = await app.database.query<{ state: string; attempts: number }>('SELECT state, attempts FROM jobs WHERE queue = $1', [queue]);
  assert.deepEqual(rows.map((row) => [row.state, row.attempts]), [['completed', 1]]);
});
