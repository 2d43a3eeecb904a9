/** Everything a use case may touch, built once per process from the configuration. */
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import type { JobQueue } from './jobs/job-queue.js';
import type { Logger } from './logger.js';
import type { Mailer } from './mail/mailer.js';
import type { PaymentProvider } from './providers/payments/payment-provider.js';

export interface AppSecrets {
  /** SHA-256 (hex) of the operator token. */
  adminTokenHash: string;
  /** Key of the HMAC that signs expiring download links; shared by every process through the database. */
  linkSigningKey: Buffer;
  /** Key of the sandbox provider's card fingerprints (same card → same fingerprint, number not recoverable). */
  cardFingerprintKey: string;
}

export interface AppContext {
  config: Config;
  database: Database;
  clock: Clock;
  jobs: JobQueue;
  logger: Logger;
  secrets: AppSecrets;
  payments: PaymentProvider;
  mailer: Mailer;
}
