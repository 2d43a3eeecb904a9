/** `npm run migrate`: applies pending migrations and exits, for operators who migrate before deploying. */
import { loadConfig } from '../config.js';
import { openDatabase } from './database.js';
import { runMigrations } from './migrate.js';

const config = loadConfig();
const database = await openDatabase({ url: config.databaseUrl, dataDirectory: config.dataDirectory });
try {
  const applied = await runMigrations(database);
  console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
} finally {
  await database.close();
}
