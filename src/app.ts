/** Builds a whole Bursar process: database, migrations, secrets, context, job handlers and workers, HTTP server. */
import type { FastifyInstance } from 'fastify';
import type { AppContext } from './app-context.js';
import { SettableClock, systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import { openDatabase, type Database } from './db/database.js';
import { runMigrations } from './db/migrate.js';
import { followTestClockSetting } from './db/test-clock-setting.js';
import { buildServer } from './http/server.js';
import { WebhookDispatcher } from './events/webhook-dispatcher.js';
import { JobQueue } from './jobs/job-queue.js';
import { registerCreditJobs } from './billing/credits/credit-jobs.js';
import { registerInvoiceJobs } from './billing/invoices/invoice-jobs.js';
import { registerCreditNoteJobs } from './billing/credit-notes/credit-note-jobs.js';
import { registerPaymentJobs } from './billing/payment-methods/payment-jobs.js';
import { registerBillingStatusJobs } from './billing/status/billing-status-check.js';
import { refreshSellerFromSettings } from './billing/seller/seller.js';
import { createLogger, type Logger } from './logger.js';
import { loadSecrets } from './secrets.js';
import { createMailer } from './mail/create-mailer.js';
import type { Mailer } from './mail/mailer.js';
import { createPaymentProvider } from './providers/payments/create-payment-provider.js';
import type { PaymentProvider } from './providers/payments/payment-provider.js';

export interface BursarApp {
  context: AppContext;
  server: FastifyInstance;
  close(): Promise<void>;
}

export interface CreateAppOptions {
  /** A database already open (tests); otherwise opened from the configuration. */
  database?: Database;
  logger?: Logger;
  clock?: Clock;
  /** Start the polling job worker (off in tests, which run jobs explicitly). */
  startWorkers?: boolean;
  /** Start the webhook delivery worker (by default with the job worker). */
  startWebhookWorker?: boolean;
  announce?: (message: string) => void;
  payments?: PaymentProvider;
  mailer?: Mailer;
}

export async function createApp(config: Config, options: CreateAppOptions = {}): Promise<BursarApp> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const database = options.database ?? (await openDatabase({ url: config.databaseUrl, dataDirectory: config.dataDirectory }));
  const applied = await runMigrations(database);
  if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');
  const secrets = await loadSecrets(database, config, options.announce ?? ((message) => console.log(message)));
  const clock = options.clock ?? (config.testClockEnabled ? new SettableClock() : systemClock);
  // The test clock follows its setting in the database (set by any process, kept across restarts).
  const followTestClock = config.testClockEnabled && clock instanceof SettableClock ? () => followTestClockSetting(database, clock) : async () => undefined;
  await followTestClock();
  // The seller follows the BURSAR_SELLER_* settings until an operator sets it through the API.
  await refreshSellerFromSettings(database, config.seller, clock.now());
  const jobs = new JobQueue(database, logger, config.jobPollIntervalMs, { leaseSeconds: config.jobLeaseSeconds, clock, beforePoll: followTestClock });
  const payments = options.payments ?? createPaymentProvider(config, secrets, clock);
  const mailer = options.mailer ?? createMailer({ smtpUrl: config.smtpUrl ?? undefined, outboxDirectory: config.outboxDirectory, from: config.mailFrom });
  const webhooks = new WebhookDispatcher(database, logger, { allowPrivate: config.webhookAllowPrivate, pollIntervalMs: config.jobPollIntervalMs });
  const context: AppContext = { config, database, clock, jobs, logger, secrets, payments, mailer, webhooks };
  // Every queue's worker, in every process (any process may run any job): registered here, where the app is composed.
  registerPaymentJobs(context);
  registerInvoiceJobs(context);
  registerBillingStatusJobs(context);
  registerCreditNoteJobs(context);
  registerCreditJobs(context);
  const server = await buildServer(context);
  const startWorkers = options.startWorkers ?? config.runJobWorkers;
  if (startWorkers) jobs.start();
  if (options.startWebhookWorker ?? startWorkers) await webhooks.start();
  return {
    context,
    server,
    async close() {
      await jobs.stop();
      await webhooks.stop();
      await server.close();
      if (!options.database) await database.close();
    },
  };
}
