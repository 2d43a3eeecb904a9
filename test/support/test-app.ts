/**
 * Starts a real Bursar server for a test file: a real database (in-memory PGlite by default, or a fresh schema on
 * the PostgreSQL server of TEST_DATABASE_URL), listening on a free port, with its log lines captured.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import pg from 'pg';
import { SignJWT } from 'jose';
import { createApp, type BursarApp, type CreateAppOptions } from '../../src/app.js';
import { SettableClock } from '../../src/clock.js';
import { loadConfig, type Config } from '../../src/config.js';
import { openDatabase, type Database } from '../../src/db/database.js';
import { redactedPaths } from '../../src/logger.js';

export const JWT_SECRET = 'test-secret-of-at-least-32-characters!!';
export const ADMIN_TOKEN = 'test-operator-token';

export interface TestApp {
  app: BursarApp;
  baseUrl: string;
  clock: SettableClock;
  database: Database;
  /** Every log line written so far, as raw JSON text. */
  logs: string[];
  /** The operator's Authorization header. */
  admin: Record<string, string>;
  close(): Promise<void>;
}

export const usingPostgres = Boolean(process.env.TEST_DATABASE_URL);

async function openTestDatabase(url = process.env.TEST_DATABASE_URL): Promise<{ database: Database; drop: () => Promise<void> }> {
  if (!url) {
    const database = await openDatabase({ url: null, dataDirectory: null });
    return { database, drop: async () => undefined };
  }
  const schema = `test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const database = await openDatabase({ url, dataDirectory: null, searchPath: schema, poolSize: 10 });
  return {
    database,
    drop: async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query(`DROP SCHEMA ${schema} CASCADE`);
      await client.end();
    },
  };
}

export async function startTestApp(
  environment: Record<string, string> = {},
  options: Omit<CreateAppOptions, 'database' | 'logger' | 'clock'> & {
    shareDatabaseOf?: TestApp;
    /** A PostgreSQL server of the test's own, instead of TEST_DATABASE_URL or PGlite. */
    databaseUrl?: string;
  } = {},
): Promise<TestApp> {
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const logger = pino({ level: 'info', redact: { paths: redactedPaths, censor: '[redacted]' } }, sink);
  const config: Config = loadConfig({
    BURSAR_JWT_SECRET: JWT_SECRET,
    BURSAR_ADMIN_TOKEN: ADMIN_TOKEN,
    BURSAR_DATA_DIR: path.join(os.tmpdir(), `bursar-test-${randomBytes(4).toString('hex')}`),
    BURSAR_TEST_CLOCK: '1',
    BURSAR_PUBLIC_URL: 'http://127.0.0.1',
    // Every test request comes from 127.0.0.1: the rate limits stay out of the way unless a test sets its own.
    BURSAR_CREDIT_CODE_FAILURE_LIMIT: '1000000',
    BURSAR_AUTH_FAILURE_LIMIT: '1000000',
    BURSAR_DOCUMENT_DOWNLOAD_LIMIT: '1000000',
    ...environment,
  });
  // A second Bursar "process" on the database of another (multi-process tests): it owns neither, the first closes it.
  const { shareDatabaseOf, databaseUrl, ...appOptions } = options;
  const { database, drop } = shareDatabaseOf
    ? { database: shareDatabaseOf.database, drop: async () => undefined }
    : await openTestDatabase(databaseUrl);
  const clock = new SettableClock();
  if (shareDatabaseOf) clock.set(shareDatabaseOf.clock.now());
  const app = await createApp(config, { database, logger, clock, startWorkers: false, announce: () => undefined, ...appOptions });
  const address = await app.server.listen({ port: 0, host: '127.0.0.1' });
  app.context.config.publicUrl = address;
  return {
    app,
    baseUrl: address,
    clock,
    database,
    logs,
    admin: { authorization: `Bearer ${ADMIN_TOKEN}` },
    async close() {
      await app.close();
      if (shareDatabaseOf) return;
      await database.close();
      await drop();
    },
  };
}

export async function mintJwt(userId: string, claims: Record<string, unknown> = {}, options: { expiresIn?: string; secret?: string } = {}): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '1h')
    .sign(new TextEncoder().encode(options.secret ?? JWT_SECRET));
}

export interface HttpResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** A real HTTP request; a JSON body is sent as JSON, a string as it is. */
export async function http<T = any>(
  test: TestApp,
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<HttpResult<T>> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(`${test.baseUrl}${path}`, { method, headers, body });
  const text = await response.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers, body: parsed as T, text };
}

export interface OrganizationFixture {
  id: string;
  slug: string;
  /** Authorization headers of a member per role. */
  owner: Record<string, string>;
  admin: Record<string, string>;
  billing: Record<string, string>;
  member: Record<string, string>;
}

let organizationCounter = 0;

/** Creates an organization with one user per role, through the operator API. */
export async function createOrganization(test: TestApp, values: { name?: string; plan?: string } = {}): Promise<OrganizationFixture> {
  organizationCounter += 1;
  const name = values.name ?? `Org ${organizationCounter} ${randomBytes(3).toString('hex')}`;
  const created = await http(test, 'POST', '/admin/organizations', {
    headers: test.admin,
    body: { name, ...(values.plan ? { plan: values.plan } : {}) },
  });
  if (created.status !== 201) throw new Error(`create organization failed: ${created.status} ${created.text}`);
  const id: string = created.body.id;
  const fixture: OrganizationFixture = { id, slug: created.body.slug, owner: {}, admin: {}, billing: {}, member: {} };
  for (const role of ['owner', 'admin', 'billing', 'member'] as const) {
    const userId = `${role}-${id}`;
    const member = await http(test, 'PUT', `/admin/organizations/${id}/members/${userId}`, { headers: test.admin, body: { role } });
    if (member.status !== 200) throw new Error(`add member failed: ${member.status} ${member.text}`);
    fixture[role] = { authorization: `Bearer ${await mintJwt(userId, { org_id: id })}` };
  }
  return fixture;
}

/** Audit events of an organization, newest first. */
export async function auditEvents(test: TestApp, organizationId: string): Promise<any[]> {
  const result = await http(test, 'GET', `/admin/organizations/${organizationId}/audit-events`, { headers: test.admin });
  return result.body.results;
}
