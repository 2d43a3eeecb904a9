/** The migration runner (src/db/migrate.ts) on a fresh database: PGlite, or a fresh schema on TEST_DATABASE_URL. */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { openDatabase, type Database } from '../../src/db/database.js';
import { migrationsDirectory, runMigrations } from '../../src/db/migrate.js';

const url = process.env.TEST_DATABASE_URL ?? null;
const cleanups: Array<() => Promise<void>> = [];

/** A database with nothing in it. */
async function freshDatabase(): Promise<Database> {
  if (!url) {
    const database = await openDatabase({ url: null, dataDirectory: null });
    cleanups.push(() => database.close());
    return database;
  }
  const schema = `test_migrations_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`CREATE SCHEMA ${schema}`);
  await client.end();
  const database = await openDatabase({ url, dataDirectory: null, searchPath: schema, poolSize: 4 });
  cleanups.push(async () => {
    await database.close();
    const dropper = new pg.Client({ connectionString: url });
    await dropper.connect();
    await dropper.query(`DROP SCHEMA ${schema} CASCADE`);
    await dropper.end();
  });
  return database;
}

const migrationFiles = readdirSync(migrationsDirectory).filter((name) => name.endsWith('.sql')).sort();
let scratch: string;
before(() => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'bursar-migrations-'));
});
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

/** A migrations folder of its own: the real files plus extra ones. */
function directoryWith(extra: Record<string, string>): string {
  const directory = mkdtempSync(path.join(scratch, 'set-'));
  for (const file of migrationFiles) copyFileSync(path.join(migrationsDirectory, file), path.join(directory, file));
  for (const [name, sql] of Object.entries(extra)) writeFileSync(path.join(directory, name), sql);
  return directory;
}

async function appliedNames(database: Database): Promise<string[]> {
  return (await database.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name')).rows.map((row) => row.name);
}

describe('runMigrations', () => {
  test('the migrations are named by date and purpose and sort in order', () => {
    assert.ok(migrationFiles.length >= 3);
    for (const file of migrationFiles) assert.match(file, /^\d{8}_\d{2}_[a-z0-9_]+\.sql$/);
  });

  test('applies every migration once, in name order; running again applies nothing', async () => {
    const database = await freshDatabase();
    assert.deepEqual(await runMigrations(database), migrationFiles);
    assert.deepEqual(await appliedNames(database), migrationFiles);
    assert.deepEqual(await runMigrations(database), []);
    assert.deepEqual(await runMigrations(database), []);
    assert.deepEqual(await appliedNames(database), migrationFiles);
    // The schema is usable: the core tables exist.
    for (const table of ['organizations', 'memberships', 'api_tokens', 'billing_profiles', 'billing_addresses', 'audit_events', 'jobs']) {
      const { rows } = await database.query<{ found: string | null }>('SELECT to_regclass($1)::text AS found', [table]);
      assert.ok(rows[0]!.found, `${table} exists`);
    }
  });

  test(
    'two runners started at once apply each migration once',
    async () => {
      const database = await freshDatabase();
      const [first, second] = await Promise.all([runMigrations(database), runMigrations(database)]);
      assert.deepEqual([...first, ...second].sort(), migrationFiles);
      assert.deepEqual(await appliedNames(database), migrationFiles);
    },
  );

  test('a new migration is applied alone on the next run', async () => {
    const database = await freshDatabase();
    await runMigrations(database);
    const directory = directoryWith({ '29991231_01_extra_table.sql': 'CREATE TABLE extra_things (id integer PRIMARY KEY);' });
    assert.deepEqual(await runMigrations(database, directory), ['29991231_01_extra_table.sql']);
    assert.deepEqual(await runMigrations(database, directory), []);
    await database.query('INSERT INTO extra_things (id) VALUES (1)');
  });

  test('a failing migration rolls back the whole run: nothing of it is applied or recorded', async () => {
    const database = await freshDatabase();
    await runMigrations(database);
    const directory = directoryWith({
      '29991231_01_good.sql': 'CREATE TABLE good_things (id integer PRIMARY KEY);',
      '29991231_02_broken.sql': 'CREATE TABLE broken_things (id integer PRIMARY KEY); SELECT no_such_function();',
    });
    await assert.rejects(runMigrations(database, directory));
    assert.deepEqual(await appliedNames(database), migrationFiles);
    const { rows } = await database.query<{ good: string | null; broken: string | null }>(
      "SELECT to_regclass('good_things')::text AS good, to_regclass('broken_things')::text AS broken",
    );
    assert.deepEqual(rows[0], { good: null, broken: null });
  });
});
