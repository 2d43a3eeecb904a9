/**
 * One SQL dialect, two drivers: PGlite (PostgreSQL in WASM, embedded default) and node-postgres.
 * int8 columns come back as bigint from both, so money never passes through a JS number.
 */
import { mkdirSync } from 'node:fs';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import type { Sql } from 'sql-template-tag';
import { BillingError, databaseUnavailable, isDatabaseUnavailable } from '../errors.js';
import { lockDataDirectory, type DataDirectoryLock } from './data-directory-lock.js';

export interface QueryResult<Row> {
  rows: Row[];
  rowCount: number;
}

export interface QueryOptions {
  /**
   * Name of a prepared statement: the server parses and plans the statement once per connection instead of once per
   * call. For hot statements whose text never changes (the name must always denote the same text).
   */
  prepare?: string;
}

export interface Queryable {
  /** Runs one statement written with the `sql` tag of `sql-template-tag` (it numbers placeholders and composes fragments). */
  query<Row = Record<string, unknown>>(statement: Sql, options?: QueryOptions): Promise<QueryResult<Row>>;
  /** Plain text with numbered parameters: for tests and benchmarks only (a test in the suite keeps `src/` off it). */
  query<Row = Record<string, unknown>>(text: string, params?: readonly unknown[], options?: QueryOptions): Promise<QueryResult<Row>>;
  /** Runs a script of several statements without parameters (migrations). */
  execute(script: string): Promise<void>;
}

/** Connections of the pool right now (PGlite: its one connection). */
export interface PoolUsage {
  max: number;
  busy: number;
  idle: number;
  /** Callers waiting for a connection. */
  waiting: number;
}

export interface Database extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  poolUsage(): PoolUsage;
  /** Runs `work` in one transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Calls `onNotify` for each NOTIFY on `channel` (sent by a transaction when it commits). Returns the way to stop
   * listening. On a server the listener has a connection of its own, re-opened after a loss.
   */
  listen(channel: string, onNotify: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

const INT8_OID = 20;
const NUMERIC_OID = 1700;

/** Serialises work on PGlite's single connection so a transaction never interleaves with other queries. */
class Mutex {
  private tail: Promise<void> = Promise.resolve();
  /** Work running or waiting. */
  queued = 0;
  run<T>(work: () => Promise<T>): Promise<T> {
    this.queued += 1;
    const result = this.tail.then(work);
    this.tail = result.then(
      () => {
        this.queued -= 1;
      },
      () => {
        this.queued -= 1;
      },
    );
    return result;
  }
}

function toDriverValue(value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

function toDriverParams(params: readonly unknown[] | undefined): unknown[] {
  return params ? params.map(toDriverValue) : [];
}

interface Statement {
  text: string;
  values: unknown[];
  options: QueryOptions | undefined;
}

/** Both call forms of `Queryable.query` as one statement for the driver. */
function statementOf(first: Sql | string, second?: readonly unknown[] | QueryOptions, third?: QueryOptions): Statement {
  if (typeof first === 'string') return { text: first, values: toDriverParams(second as readonly unknown[] | undefined), options: third };
  return { text: first.text, values: toDriverParams(first.values), options: second as QueryOptions | undefined };
}

type QueryArguments = [Sql | string, (readonly unknown[] | QueryOptions)?, QueryOptions?];

class PgliteDatabase implements Database {
  readonly kind = 'pglite' as const;
  private readonly mutex = new Mutex();
  constructor(
    private readonly client: PGlite,
    /** The data folder's lock, released once the folder is closed (none in memory). */
    private readonly lock: DataDirectoryLock | null,
  ) {}

  poolUsage(): PoolUsage {
    const busy = this.mutex.queued > 0 ? 1 : 0;
    return { max: 1, busy, idle: 1 - busy, waiting: Math.max(0, this.mutex.queued - 1) };
  }

  private async run<Row>(statement: Statement): Promise<QueryResult<Row>> {
    const result = await this.client.query<Row>(statement.text, statement.values);
    return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
  }

  query<Row>(...args: QueryArguments): Promise<QueryResult<Row>> {
    const statement = statementOf(...args);
    return this.mutex.run(() => this.run<Row>(statement));
  }

  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.mutex.run(async () => {
      await this.client.exec('BEGIN');
      try {
        const result = await work({
          query: <Row>(...args: QueryArguments) => this.run<Row>(statementOf(...args)),
          execute: async (script) => {
            await this.client.exec(script);
          },
        });
        await this.client.exec('COMMIT');
        return result;
      } catch (error) {
        await this.client.exec('ROLLBACK');
        throw error;
      }
    });
  }

  execute(script: string): Promise<void> {
    return this.mutex.run(async () => {
      await this.client.exec(script);
    });
  }

  async listen(channel: string, onNotify: () => void): Promise<() => Promise<void>> {
    const unlisten = await this.mutex.run(() => this.client.listen(channel, () => onNotify()));
    return () => this.mutex.run(() => unlisten());
  }

  close(): Promise<void> {
    return this.mutex.run(async () => {
      try {
        await this.client.close();
      } finally {
        await this.lock?.release();
      }
    });
  }
}

/** Socket errors of a connection that could not be made or was cut. */
const connectionErrorCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
/** SQLSTATEs of a server that shuts down, crashed or is still starting (class 08 is tested apart). */
const unavailableServerCodes = new Set(['57P01', '57P02', '57P03']);
/** What node-postgres says when a connection ends under it, is used after it broke, or cannot be had in time. */
const lostConnectionMessage = /^Connection terminated|is not queryable|timeout exceeded when trying to connect/;

/** Whether an error of the driver means "the database cannot be reached" rather than "this statement failed". */
export function isConnectionError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = 'code' in error && typeof error.code === 'string' ? error.code : '';
  if (connectionErrorCodes.has(code) || unavailableServerCodes.has(code) || /^08[0-9A-Z]{3}$/.test(code)) return true;
  return error instanceof Error && lostConnectionMessage.test(error.message);
}

/** The one translation of connection faults: `database_unavailable` (503 with Retry-After on every surface). */
function translated(error: unknown): unknown {
  if (error instanceof BillingError) return error;
  return isConnectionError(error) ? databaseUnavailable(error) : error;
}

async function runOn<Row>(target: pg.Pool | pg.PoolClient, statement: Statement): Promise<QueryResult<Row>> {
  const { text, values, options } = statement;
  try {
    const result = options?.prepare ? await target.query({ name: options.prepare, text, values }) : await target.query(text, values);
    return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 };
  } catch (error) {
    throw translated(error);
  }
}

class PostgresDatabase implements Database {
  readonly kind = 'postgres' as const;
  constructor(private readonly pool: pg.Pool) {}

  poolUsage(): PoolUsage {
    const { totalCount, idleCount, waitingCount, options } = this.pool;
    return { max: options.max ?? 10, busy: totalCount - idleCount, idle: idleCount, waiting: waitingCount };
  }

  async query<Row>(...args: QueryArguments): Promise<QueryResult<Row>> {
    return runOn<Row>(this.pool, statementOf(...args));
  }

  async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw translated(error);
    }
    let failure: unknown = undefined;
    try {
      await runOn(client, statementOf('BEGIN'));
      const result = await work({
        query: <Row>(...args: QueryArguments) => runOn<Row>(client, statementOf(...args)),
        execute: async (script: string) => {
          await runOn(client, statementOf(script));
        },
      });
      await runOn(client, statementOf('COMMIT'));
      return result;
    } catch (error) {
      failure = error;
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      // A connection that broke leaves the pool instead of going back to it.
      client.release(isDatabaseUnavailable(failure) ? (failure as Error) : undefined);
    }
  }

  async execute(script: string): Promise<void> {
    await runOn(this.pool, statementOf(script));
  }

  async listen(channel: string, onNotify: () => void): Promise<() => Promise<void>> {
    let client: pg.Client | null = null;
    let stopped = false;
    let retry: NodeJS.Timeout | null = null;
    const reconnect = (): void => {
      if (stopped || retry) return;
      retry = setTimeout(() => {
        retry = null;
        connect().catch(reconnect);
      }, 1000);
    };
    const connect = async (): Promise<void> => {
      const next = new pg.Client(this.pool.options);
      next.on('error', () => undefined);
      next.on('notification', (message) => {
        if (message.channel === channel) onNotify();
      });
      next.on('end', () => {
        if (client !== next) return;
        client = null;
        reconnect();
      });
      client = next;
      await next.connect();
      await next.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      if (stopped) return void (await next.end());
      onNotify(); // anything committed while no one listened
    };
    await connect();
    return async () => {
      stopped = true;
      if (retry) clearTimeout(retry);
      await client?.end().catch(() => undefined);
    };
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

export interface DatabaseOptions {
  /** postgres://… to use a server; null for the embedded database. */
  url: string | null;
  /** PGlite data directory; null keeps it in memory (tests). */
  dataDirectory: string | null;
  /** Schema to use on a server (tests isolate themselves in a schema of their own). */
  searchPath?: string;
  poolSize?: number;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.url) {
    const types = {
      getTypeParser: (oid: number, format?: string) => {
        if (oid === INT8_OID) return (value: string) => BigInt(value);
        return format === 'binary' ? pg.types.getTypeParser(oid, 'binary') : pg.types.getTypeParser(oid, 'text');
      },
    };
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      types,
      options: options.searchPath ? `-c search_path=${options.searchPath}` : undefined,
      // A server that swallows packets fails the request after this long instead of holding it.
      connectionTimeoutMillis: 5000,
    });
    // A connection's error (a server restart) must never crash the process: idle ones are the pool's, and this
    // listener covers those checked out, even between the statements of a transaction. The statement that was
    // running (or the next one) fails with `database_unavailable`, and the pool drops the connection.
    pool.on('error', () => undefined);
    pool.on('connect', (client) => client.on('error', () => undefined));
    const database = new PostgresDatabase(pool);
    await database.query('SELECT 1');
    return database;
  }
  let lock: DataDirectoryLock | null = null;
  if (options.dataDirectory) {
    mkdirSync(options.dataDirectory, { recursive: true });
    lock = await lockDataDirectory(options.dataDirectory);
  }
  try {
    const client = await PGlite.create(options.dataDirectory ?? undefined, {
      parsers: { [INT8_OID]: (value: string) => BigInt(value), [NUMERIC_OID]: (value: string) => value },
    });
    return new PgliteDatabase(client, lock);
  } catch (error) {
    await lock?.release();
    throw error;
  }
}
