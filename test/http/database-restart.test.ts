/**
 * PostgreSQL restarts and goes away under a write load: the process lives, requests in the outage get a 503
 * `database_unavailable` with Retry-After (never a 500 or a hang), /readyz goes 503 and back to 200 by itself, writes
 * and job workers resume, and every write that was answered 2xx is in the database. The test runs its own cluster
 * (the machine's initdb and pg_ctl), whatever database the rest of the suite uses.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { findPostgresBin, startPrivatePostgres } from '../support/private-postgres.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../support/test-app.js';

const REQUEST_TIMEOUT_MS = 15_000;
const WRITERS = 4;

interface Outcome {
  status: number;
  /** The error code of a failed write, its Retry-After header. */
  error?: string;
  retryAfter?: string | null;
  /** Set for a 2xx: the organization it created. */
  id?: string;
  at: number;
}

/** Organization creations from a few concurrent writers until `stop()`; every answer (or its absence) is recorded. */
function writeLoad(app: TestApp) {
  const outcomes: Outcome[] = [];
  let running = true;
  let counter = 0;
  const writer = async () => {
    while (running) {
      counter += 1;
      const at = Date.now();
      try {
        const response = await fetch(`${app.baseUrl}/admin/organizations`, {
          method: 'POST',
          headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify({ name: `Load ${counter}` }),
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        const body = (await response.json()) as { id?: string; error?: string };
        outcomes.push(
          response.ok
            ? { status: response.status, id: body.id!, at }
            : { status: response.status, error: body.error!, retryAfter: response.headers.get('retry-after'), at },
        );
        if (!response.ok) await sleep(50); // a client that backs off a little, as Retry-After asks
      } catch (error) {
        outcomes.push({ status: 0, error: (error as Error).name, at }); // a hang (timeout) or a dropped connection
      }
    }
  };
  const writers = Array.from({ length: WRITERS }, writer);
  return {
    outcomes,
    async stop() {
      running = false;
      await Promise.all(writers);
    },
  };
}

async function readiness(app: TestApp): Promise<number> {
  const response = await fetch(`${app.baseUrl}/readyz`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  await response.arrayBuffer();
  return response.status;
}

async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

test('Bursar keeps working through PostgreSQL restarts and an outage, and loses no acknowledged write', { timeout: 180_000 }, async (t) => {
  const bin = findPostgresBin();
  if (!bin) {
    t.skip('PostgreSQL server binaries (initdb, pg_ctl) are not installed');
    return;
  }
  const cluster = await startPrivatePostgres(bin);
  let app: TestApp | undefined;
  try {
    app = await startTestApp({ BURSAR_JOB_POLL_MS: '100' }, { databaseUrl: cluster.url, startWorkers: true });
    const load = writeLoad(app);
    let outageStart = 0;
    let outageEnd = 0;
    let recoveredAt = 0;
    try {
      await sleep(1000);
      await cluster.restart();
      await sleep(1500);

      await cluster.stop();
      outageStart = Date.now();
      assert.equal(await readiness(app), 503, '/readyz while the database is down');
      await sleep(3000);
      await cluster.start();
      outageEnd = Date.now();
      await waitFor('/readyz to answer 200 again', async () => (await readiness(app!)) === 200, 20_000);
      recoveredAt = Date.now();
      await sleep(1500);
    } finally {
      await load.stop();
    }

    const failures = load.outcomes.filter((outcome) => outcome.status < 200 || outcome.status >= 300);
    const unexpected = failures.filter((outcome) => outcome.status !== 503 || outcome.error !== 'database_unavailable' || outcome.retryAfter !== '5');
    assert.deepEqual(unexpected, [], 'every failed write is a 503 database_unavailable with Retry-After (no 500, no hang)');
    const duringOutage = failures.filter((outcome) => outcome.at >= outageStart && outcome.at < outageEnd);
    assert.ok(duringOutage.length > 0, 'writes during the outage were answered 503');
    const acknowledged = load.outcomes.filter((outcome) => outcome.id !== undefined).map((outcome) => outcome.id!);
    assert.ok(load.outcomes.some((outcome) => outcome.id && outcome.at < outageStart), 'writes succeeded before the outage');
    assert.ok(load.outcomes.some((outcome) => outcome.id && outcome.at >= recoveredAt), 'writes resumed after the outage');

    const { rows } = await app.database.query<{ id: string }>('SELECT id::text FROM organizations WHERE id = ANY($1::uuid[])', [acknowledged]);
    assert.equal(rows.length, acknowledged.length, 'every write answered 2xx is in the database');

    const messages = () => app!.logs.map((line) => (JSON.parse(line) as { msg?: string }).msg);
    await waitFor('the job worker to resume', () => messages().includes('database reachable again; job worker resumes'), 40_000);
    assert.ok(messages().includes('database unavailable; job worker backs off'));
    assert.equal((await fetch(`${app.baseUrl}/healthz`)).status, 200, 'the process lives');
  } finally {
    await app?.close();
    await cluster.destroy();
  }
});
