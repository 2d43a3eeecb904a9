/** Process entry: configuration → database → migrations → server → job workers. */
import { createApp } from './app.js';
import { loadSeller, missingSellerFields } from './billing/seller/seller.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { DataDirectoryInUseError } from './db/data-directory-lock.js';

/** What a newcomer needs to see at start: where the docs and the data are, the payment provider, what is not set up. */
function startupSummary(config: Config, address: string): string[] {
  const lines = [
    `Bursar listening on ${address}`,
    `API documentation: ${address}/docs (OpenAPI: ${address}/openapi.json)`,
    config.databaseUrl === null
      ? `Data folder: ${config.dataDirectory} (embedded PGlite database and e-mail outbox)`
      : `Database: PostgreSQL server (DATABASE_URL); e-mail outbox: ${config.outboxDirectory}`,
    `Payment provider: ${config.paymentProvider}${config.paymentProvider === 'sandbox' ? ' (no network; test cards such as tok_visa)' : ''}`,
  ];
  if (config.jwtSecret === null && config.jwksUrl === null) {
    lines.push('WARNING: user JWTs cannot be verified (set BURSAR_JWT_SECRET or BURSAR_JWKS_URL); only operator and API tokens work.');
  }
  if (config.testClockEnabled) lines.push('Test clock enabled (BURSAR_TEST_CLOCK=1): operators can set the business time with POST /admin/clock.');
  return lines;
}

try {
  const config = loadConfig();
  const app = await createApp(config);
  const address = await app.server.listen({ port: config.port, host: config.host });
  for (const line of startupSummary(config, address.replace('0.0.0.0', 'localhost'))) console.log(line);
  const missingSeller = missingSellerFields(await loadSeller(app.context.database));
  if (missingSeller.length > 0) {
    const warning = `WARNING: invoices are issued with the default seller identity (not set: ${missingSeller.join(', ')}); set it with PUT /admin/seller.`;
    console.log(warning);
    app.context.logger.warn({ missingSellerFields: missingSeller }, 'the seller identity printed on invoices is incomplete');
  }
  const shutdown = async (signal: string) => {
    app.context.logger.info({ signal }, 'shutting down');
    await app.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`Configuration error: ${error.message}`);
    process.exit(2);
  }
  if (error instanceof DataDirectoryInUseError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
