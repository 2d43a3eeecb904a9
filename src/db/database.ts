/**
 * One SQL dialect, two drivers: PGlite (PostgreSQL in WASM, embedded default) and node-postgres.
 * int8 columns come back as bigint from both, so money never passes through a JS number.
 */
import { mkdirSync } from 'node:fs';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import type { Sql } from 'sql-template-tag';

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
  constructor(private readonly client: PGlite) {}

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

  close(): Promise<void> {
    return this.mutex.run(() => this.client.close());
  }
}

async function runOn<Row>(target: pg.Pool | pg.PoolClient, statement: Statement): Promise<QueryResult<Row>> {
  const { text, values, options } = statement;
  const result = options?.prepare ? await target.query({ name: options.prepare, text, values }) : await target.query(text, values);
  return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 };
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
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work({
        query: <Row>(...args: QueryArguments) => runOn<Row>(client, statementOf(...args)),
        execute: async (script: string) => {
          await client.query(script);
        },
      });
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async execute(script: string): Promise<void> {
    await this.pool.query(script);
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
    });
    pool.on('error', () => undefined); // an idle client's error must not crash the process; the next query reports it
    const database = new PostgresDatabase(pool);
    await database.query('SELECT 1');
    return database;
  }
  if (options.dataDirectory) mkdirSync(options.dataDirectory, { recursive: true });
  const client = await PGlite.create(options.dataDirectory ?? undefined, {
    parsers: { [INT8_OID]: (value: string) => BigInt(value), [NUMERIC_OID]: (value: string) => value },
  });
  return new PgliteDatabase(client);
}
