/** `npm run migrate`: applies pending migrations and exits, for operators who migrate before deploying. */
import { loadConfig } from '../config.js';
import { DataDirectoryInUseError } from './data-directory-lock.js';
import { openDatabase, type Database } from './database.js';
import { runMigrations } from './migrate.js';

const config = loadConfig();
let database: Database;
try {
  database = await openDatabase({ url: config.databaseUrl, dataDirectory: config.dataDirectory });
} catch (error) {
  if (!(error instanceof DataDirectoryInUseError)) throw error;
  console.error(error.message);
  process.exit(1);
}
try {
  const applied = await runMigrations(database);
  console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
} finally {
  await database.close();
}
