/**
 * The test clock's setting (table `test_clock`, one row): the business time set by an operator and when, by the
 * database's clock. Every process sharing the database follows it, and it survives restarts. A process applies it
 * when its version is newer than the one it follows, so a clock moved in memory (tests) stays until the next move.
 */
import sql, { type Sql } from 'sql-template-tag';
import type { SettableClock } from '../clock.js';
import type { Queryable } from './database.js';

export interface TestClockSetting {
  version: bigint;
  /** The business time now: the time set, plus the time passed since. */
  now: Date;
}

export async function readTestClockSetting(db: Queryable): Promise<TestClockSetting | null> {
  const { rows } = await db.query<{ version: bigint; now: Date }>(
    sql`SELECT version, business_time + (clock_timestamp() - set_at) AS now FROM test_clock`,
    { prepare: 'read_test_clock' },
  );
  return rows[0] ?? null;
}

/** Stores a new setting; yields its `version`. */
export function writeTestClockSetting(to: Date): Sql {
  return sql`INSERT INTO test_clock (singleton, business_time, set_at, version) VALUES (true, ${to}::timestamptz, clock_timestamp(), 1)
    ON CONFLICT (singleton) DO UPDATE SET business_time = EXCLUDED.business_time, set_at = EXCLUDED.set_at, version = test_clock.version + 1
    RETURNING version`;
}

/** Moves `clock` to the stored setting when it is newer than the one the clock follows. */
export async function followTestClockSetting(db: Queryable, clock: SettableClock): Promise<void> {
  const setting = await readTestClockSetting(db);
  if (setting === null || setting.version <= clock.settingVersion) return;
  clock.set(setting.now);
  clock.settingVersion = setting.version;
}
