/**
 * Benchmark plumbing. Every figure is a ratio against a baseline measured in the same run, on the same machine and
 * database, so that a noisy shared machine moves both sides alike.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { fork } from 'node:child_process';
import pino from 'pino';
import pg from 'pg';
import { SignJWT } from 'jose';
import { createApp } from '../src/app.js';
import type { AppContext } from '../src/app-context.js';
import { loadConfig } from '../src/config.js';
import { openDatabase, type Database } from '../src/db/database.js';
import { redactedPaths } from '../src/logger.js';

export interface BenchFigure {
  name: string;
  unit: string;
  value: number;
  baseline: number;
  /** value / baseline for throughputs (higher is better); the note says when lower is better. */
  ratio: number;
  note?: string;
}

export const BENCH_ADMIN_TOKEN = 'bench-operator-token';
export const BENCH_JWT_SECRET = 'bench-secret-of-at-least-32-characters';

export interface BenchDatabase {
  database: Database;
  /** The server URL and schema (null on PGlite), for baselines that open their own connections. */
  url: string | null;
  schema: string | null;
  drop(): Promise<void>;
}

const benchDatabaseUrl = () => process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A fresh schema on PostgreSQL (BENCH_DATABASE_URL, default the local server), or PGlite when BENCH_DATABASE=pglite. */
export async function openBenchDatabase(): Promise<BenchDatabase> {
  if (process.env.BENCH_DATABASE === 'pglite') {
    const directory = mkdtempSync(path.join(os.tmpdir(), 'bursar-bench-'));
    const database = await openDatabase({ url: null, dataDirectory: directory });
    return { database, url: null, schema: null, drop: async () => undefined };
  }
  const url = benchDatabaseUrl();
  const schema = `bench_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const database = await openDatabase({ url, dataDirectory: null, searchPath: schema, poolSize: 10 });
  return {
    database,
    url,
    schema,
    drop: async () => {
      await database.close().catch(() => undefined);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query(`DROP SCHEMA ${schema} CASCADE`);
      await client.end();
    },
  };
}

/** A pool on the bench schema for baselines (same size as Bursar's). */
export function openBaselinePool(bench: BenchDatabase): pg.Pool {
  if (!bench.url) throw new Error('baselines need PostgreSQL');
  return new pg.Pool({ connectionString: bench.url, max: 10, options: `-c search_path=${bench.schema}` });
}

export interface BenchApp {
  baseUrl: string;
  context: AppContext;
  admin: Record<string, string>;
  close(): Promise<void>;
}

/** A real Bursar on a free port, logging one line per request as in production, into a discarded sink. */
export async function startBenchApp(bench: BenchDatabase, environment: Record<string, string> = {}): Promise<BenchApp> {
  const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
  const logger = pino({ level: 'info', redact: { paths: redactedPaths, censor: '[redacted]' } }, sink);
  const config = loadConfig({
    BURSAR_ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
    BURSAR_JWT_SECRET: BENCH_JWT_SECRET,
    BURSAR_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'bursar-bench-data-')),
    ...environment,
  });
  const app = await createApp(config, { database: bench.database, logger, startWorkers: false, announce: () => undefined });
  const baseUrl = await app.server.listen({ port: 0, host: '127.0.0.1' });
  return { baseUrl, context: app.context, admin: { authorization: `Bearer ${BENCH_ADMIN_TOKEN}` }, close: () => app.close() };
}

export interface RequestTemplate {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface LoadResult {
  requestsPerSecond: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  total: number;
  /** Of a median over alternating rounds: each round's requests per second, in order. */
  rounds?: number[];
}

/**
 * Every load starts right after a PostgreSQL checkpoint: the writes of the load before it are flushed, and each load
 * pays the same full-page images after its start, instead of one side of a comparison meeting a checkpoint the other
 * did not. Nothing to do on PGlite.
 */
async function checkpoint(): Promise<void> {
  if (process.env.BENCH_DATABASE === 'pglite') return;
  const client = new pg.Client({ connectionString: benchDatabaseUrl() });
  await client.connect();
  try {
    await client.query('CHECKPOINT');
  } finally {
    await client.end();
  }
}

/**
 * CPU time used so far, in microseconds, by this process (Bursar and the baselines run in it) and by every
 * PostgreSQL process of the machine (read from /proc; 0 where there is none, as on PGlite or off Linux).
 */
function cpuMicroseconds(): { node: number; postgres: number } {
  const usage = process.cpuUsage();
  let postgres = 0;
  const ticksToMicroseconds = 1_000_000 / 100; // USER_HZ is 100 on Linux
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const close = stat.lastIndexOf(')');
        if (!stat.slice(stat.indexOf('(') + 1, close).startsWith('postgres')) continue;
        const fields = stat.slice(close + 2).split(' ');
        postgres += (Number(fields[11]) + Number(fields[12])) * ticksToMicroseconds; // utime, stime
      } catch {
        // The process ended while we looked.
      }
    }
  } catch {
    // No /proc.
  }
  return { node: usage.user + usage.system, postgres };
}

/**
 * autocannon in a child process, cycling through the request templates. With BENCH_CPU=1 it also prints the CPU
 * time per answered request of this process and of PostgreSQL: where a ratio's gap is spent.
 */
export async function loadTest(options: { url: string; connections?: number; durationSeconds?: number; requests: RequestTemplate[] }): Promise<LoadResult> {
  await checkpoint();
  if (process.env.BENCH_CPU !== '1') return runLoad(options);
  let before = cpuMicroseconds();
  const result = await runLoad(options, () => {
    before = cpuMicroseconds();
  });
  const after = cpuMicroseconds();
  const perRequest = (microseconds: number) => Math.round(microseconds / Math.max(result.total, 1));
  console.log(
    `    ${options.url}${options.requests[0]?.path ?? ''}: ${Math.round(result.requestsPerSecond)} req/s, CPU per request: node ${perRequest(after.node - before.node)} µs, postgres ${perRequest(after.postgres - before.postgres)} µs`,
  );
  return result;
}

function runLoad(
  options: { url: string; connections?: number; durationSeconds?: number; requests: RequestTemplate[] },
  onStart: () => void = () => undefined,
): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(new URL('./load-worker.mjs', import.meta.url)), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.on('message', (message: LoadResult | { started: true }) => {
      if ('started' in message) onStart();
      else resolve(message);
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`load generator exited with ${code}`));
    });
    child.send({
      url: options.url,
      connections: options.connections ?? 50,
      durationSeconds: options.durationSeconds ?? Number(process.env.BENCH_SECONDS ?? 5),
      requests: options.requests,
    });
  });
}

export function throughputFigures(name: string, real: LoadResult, baseline: LoadResult): BenchFigure[] {
  return [
    {
      name: `${name} throughput`,
      unit: 'req/s',
      value: Math.round(real.requestsPerSecond),
      baseline: Math.round(baseline.requestsPerSecond),
      ratio: round(real.requestsPerSecond / baseline.requestsPerSecond),
      note: loadNote(real, baseline),
    },
    {
      name: `${name} p99 latency`,
      unit: 'ms',
      value: real.p99Ms,
      baseline: baseline.p99Ms,
      ratio: round(real.p99Ms / Math.max(baseline.p99Ms, 1)),
      note: 'lower is better',
    },
  ];
}

/**
 * The note of a throughput figure: how far apart its rounds were, any `extra` facts, and non-2xx answers if any;
 * undefined when there is nothing to say.
 */
export function loadNote(real: LoadResult, baseline: LoadResult, ...extra: string[]): string | undefined {
  const non2xx = real.non2xx > 0 || baseline.non2xx > 0 ? `non-2xx: real ${real.non2xx}, baseline ${baseline.non2xx}` : '';
  return [roundsNote(real, baseline), ...extra, non2xx].filter((part) => part !== '').join('; ') || undefined;
}

/**
 * How far apart the alternating rounds were: the ratio of each round's real load to the baseline round before it.
 * A spread wider than the gap to a target means one run cannot tell whether the target is met.
 */
function roundsNote(real: LoadResult, baseline: LoadResult): string {
  if (!real.rounds || !baseline.rounds || real.rounds.length < 2) return '';
  const ratios = real.rounds.map((value, index) => value / baseline.rounds![index]!).sort((a, b) => a - b);
  return `round ratios ${round(ratios[0]!)}–${round(ratios[ratios.length - 1]!)} over ${ratios.length} rounds`;
}

/** The requests of one load: the same each round, or new ones per round (writes that must not repeat). */
export type RoundRequests = RequestTemplate[] | ((round: number) => RequestTemplate[]);

/**
 * Loads the real route and its baseline in alternating rounds (BENCH_ROUNDS, default 3) and keeps the median of each
 * side: on a shared, noisy machine a burst of outside load then hits both sides alike instead of one of them.
 */
export async function compareUnderLoad(
  name: string,
  real: { url: string; requests: RoundRequests },
  baseline: { url: string; requests: RoundRequests },
): Promise<BenchFigure[]> {
  const medians = await medianUnderLoad(real, baseline);
  return throughputFigures(name, medians.real, medians.baseline);
}

/** The alternating rounds of `compareUnderLoad`, with a load of its own (connections, seconds): the median of each side. */
export async function medianUnderLoad(
  real: { url: string; requests: RoundRequests },
  baseline: { url: string; requests: RoundRequests },
  load: { connections?: number; durationSeconds?: number } = {},
): Promise<{ real: LoadResult; baseline: LoadResult }> {
  const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
  const realResults: LoadResult[] = [];
  const baselineResults: LoadResult[] = [];
  const requestsOf = (requests: RoundRequests, round: number) => (typeof requests === 'function' ? requests(round) : requests);
  for (let round = 0; round < rounds; round += 1) {
    baselineResults.push(await loadTest({ ...load, url: baseline.url, requests: requestsOf(baseline.requests, round) }));
    realResults.push(await loadTest({ ...load, url: real.url, requests: requestsOf(real.requests, round) }));
  }
  return { real: medianResult(realResults), baseline: medianResult(baselineResults) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function medianResult(results: LoadResult[]): LoadResult {
  return {
    requestsPerSecond: median(results.map((r) => r.requestsPerSecond)),
    p99Ms: median(results.map((r) => r.p99Ms)),
    non2xx: results.reduce((sum, r) => sum + r.non2xx, 0),
    errors: results.reduce((sum, r) => sum + r.errors, 0),
    total: results.reduce((sum, r) => sum + r.total, 0),
    rounds: results.map((r) => r.requestsPerSecond),
  };
}

export const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

export interface BenchOrganization {
  id: string;
  /** `Bearer <jwt>` of the organization's member `user-<id>`. */
  authorization: string;
}

/** Organizations with one member each (the given role), inserted in bulk, with a JWT per member. */
export async function seedOrganizations(database: Database, count: number, role = 'owner'): Promise<BenchOrganization[]> {
  await database.query(
    `INSERT INTO organizations (id, slug, name, created_at, updated_at)
     SELECT gen_random_uuid(), 'bench-' || n, 'Bench ' || n, now(), now() FROM generate_series(1, $1) AS n`,
    [count],
  );
  await database.query(
    `INSERT INTO memberships (organization_id, user_id, role, created_at) SELECT id, 'user-' || id, $1, now() FROM organizations`,
    [role],
  );
  const { rows } = await database.query<{ id: string }>('SELECT id FROM organizations ORDER BY id');
  return Promise.all(rows.map(async ({ id }) => ({ id, authorization: `Bearer ${await memberJwt(id)}` })));
}

/** A JWT of the member `user-<organizationId>`, with the organization as its active one. */
export function memberJwt(organizationId: string): Promise<string> {
  return new SignJWT({ org_id: organizationId })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(`user-${organizationId}`)
    .setExpirationTime('2h')
    .sign(new TextEncoder().encode(BENCH_JWT_SECRET));
}

/** Warms a server up so that the first measured second is not JIT compilation. */
export async function warmUp(url: string, requests: RequestTemplate[]): Promise<void> {
  await loadTest({ url, connections: 10, durationSeconds: 1, requests });
}
