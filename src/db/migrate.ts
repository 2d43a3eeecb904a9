/** Applies the SQL files of migrations/ in name order, once each, recorded in schema_migrations. */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sql from 'sql-template-tag';
import type { Database } from './database.js';

export const migrationsDirectory = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations');

/** Any constant: several processes starting at once take turns on this lock. */
const MIGRATION_LOCK_KEY = 7_261_121;

export async function runMigrations(database: Database, directory = migrationsDirectory): Promise<string[]> {
  const files = readdirSync(directory)
    .filter((name) => name.endsWith('.sql'))
    .sort();
  return database.transaction(async (tx) => {
    // The lock first: processes starting together on a fresh database would otherwise race to create the table.
    await tx.query(sql`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
    await tx.execute('CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    const applied = new Set((await tx.query<{ name: string }>(sql`SELECT name FROM schema_migrations`)).rows.map((r) => r.name));
    const newlyApplied: string[] = [];
    for (const file of files) {
      if (applied.has(file)) continue;
      const script = readFileSync(path.join(directory, file), 'utf8');
      await tx.execute(script);
      await tx.query(sql`INSERT INTO schema_migrations (name) VALUES (${file})`);
      newlyApplied.push(file);
    }
    return newlyApplied;
  });
}
