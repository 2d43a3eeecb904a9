/**
 * `npm run bursar -- billing-run --as-of …`: a billing run from the command line against the configured database
 * (a data folder, or DATABASE_URL with TEST_DATABASE_URL), with its summary printed; the run is the same resource
 * the operator API shows.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, test } from 'node:test';
import pg from 'pg';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { ADMIN_TOKEN } from '../support/test-app.js';

const run = promisify(execFile);
const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** The environment of a Bursar process on a database of this test's own. */
async function ownDatabase(): Promise<Record<string, string>> {
  const folder = mkdtempSync(path.join(os.tmpdir(), 'bursar-cli-'));
  cleanups.push(async () => rmSync(folder, { recursive: true, force: true }));
  const base = { BURSAR_DATA_DIR: folder, BURSAR_ADMIN_TOKEN: ADMIN_TOKEN, BURSAR_TEST_CLOCK: '1', LOG_LEVEL: 'warn' };
  const url = process.env.TEST_DATABASE_URL;
  if (!url) return base;
  const schema = `test_cli_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`CREATE SCHEMA ${schema}`);
  await client.end();
  cleanups.push(async () => {
    const dropper = new pg.Client({ connectionString: url });
    await dropper.connect();
    await dropper.query(`DROP SCHEMA ${schema} CASCADE`);
    await dropper.end();
  });
  const withSchema = new URL(url);
  withSchema.searchParams.set('options', `-c search_path=${schema}`);
  return { ...base, DATABASE_URL: withSchema.toString() };
}

test('billing-run --as-of runs a billing run against the configured database and prints its summary', async () => {
  const environment = await ownDatabase();
  // Another Bursar process prepares the data: an organization on an invoiced plan during January (test clock).
  const app = await createApp(loadConfig(environment), { startWorkers: false, announce: () => undefined });
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
  const call = async (method: 'POST' | 'PUT', url: string, payload: object) => {
    const response = await app.server.inject({ method, url, headers: admin, payload });
    assert.ok(response.statusCode < 300, `${method} ${url}: ${response.statusCode} ${response.body}`);
    return response.json();
  };
  try {
    await call('POST', '/admin/clock', { now: '2026-01-10T00:00:00Z' });
    await call('PUT', '/admin/plans/CLI_PRO', { name: 'Pro', monthly_price_in_cents: 3100, currency: 'USD', kind: 'invoiced', trial_days: 0 });
    const org = await call('POST', '/admin/organizations', { name: 'Command Line Co', plan: 'CLI_PRO' });
    assert.ok(org.id);
    await call('POST', '/admin/clock', { now: '2026-02-03T00:00:00Z' });
  } finally {
    await app.close();
  }

  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'billing-run', '--as-of', '2026-02-01T00:00:00Z'], {
    env: { ...process.env, ...environment },
  });
  assert.match(stdout, /Billing run [0-9a-f-]{36} completed: period 2026-01-01T00:00:00.000Z to 2026-02-01T00:00:00.000Z/);
  assert.match(stdout, /organizations: 1, invoiced: 1, skipped: 0/);

  // Asked again, the month is already invoiced; a date whose month has not ended is refused (exit code 2).
  const again = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'billing-run', '--as-of', '2026-02-01T00:00:00Z'], {
    env: { ...process.env, ...environment },
  });
  assert.match(again.stdout, /invoiced: 0, skipped: 1 \(already invoiced 1/);
  await assert.rejects(
    run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'billing-run', '--as-of', '2026-03-15T00:00:00Z'], { env: { ...process.env, ...environment } }),
    (error: { code: number; stderr: string }) => error.code === 2 && /--as-of: closes the period ending 2026-03-01/.test(error.stderr),
  );
});
