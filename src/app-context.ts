/** Everything a use case may touch, built once per process from the configuration. */
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import type { WebhookDispatcher } from './events/webhook-dispatcher.js';
import type { JobQueue } from './jobs/job-queue.js';
import type { Logger } from './logger.js';
import type { Mailer } from './mail/mailer.js';
import type { PaymentProvider } from './providers/payments/payment-provider.js';
import type { AppSecrets } from './secrets.js';

export interface AppContext {
  config: Config;
  database: Database;
  clock: Clock;
  jobs: JobQueue;
  logger: Logger;
  secrets: AppSecrets;
  payments: PaymentProvider;
  mailer: Mailer;
  /** Delivers committed billing events to webhook endpoints. */
  webhooks: WebhookDispatcher;
}
