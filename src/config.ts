/** Every environment variable Bursar reads, parsed and validated in one place. */
import path from 'node:path';
import { normalizeCountryCode } from './domain/billing-profile.js';

/** At most `limit` hits per subject in each fixed window of `windowSeconds` (windows aligned to the epoch). */
export interface RateLimit {
  /** Stable name of the rule: the key of its counters in the database. */
  rule: string;
  limit: number;
  windowSeconds: number;
}

export interface Config {
  port: number;
  host: string;
  databaseUrl: string | null;
  dataDirectory: string;
  adminToken: string | null;
  jwtSecret: string | null;
  jwksUrl: string | null;
  jwtIssuer: string | null;
  jwtAudience: string | null;
  logLevel: string;
  publicUrl: string | null;
  /** The page where customers manage their cards: linked from payment failure e-mails. */
  portalUrl: string | null;
  paymentProvider: 'sandbox' | 'stripe';
  stripeSecretKey: string | null;
  stripeApiBaseUrl: string | null;
  /** The publishable key Stripe.js uses in the billing page's card form (PAYMENT_PROVIDER=stripe). */
  stripePublishableKey: string | null;
  /** Signing secret of the Stripe webhook endpoint (`whsec_…`): POST /webhooks/stripe verifies every event with it. */
  stripeWebhookSecret: string | null;
  smtpUrl: string | null;
  mailFrom: string;
  outboxDirectory: string;
  testClockEnabled: boolean;
  invoiceLinkTtlSeconds: number;
  jobPollIntervalMs: number;
  /** Seconds a worker's claim holds a job; renewed while the job runs, so only a dead worker's job is taken over. */
  jobLeaseSeconds: number;
  runJobWorkers: boolean;
  /** Webhook endpoints may be loopback, private or link-local addresses (tests, private networks). */
  webhookAllowPrivate: boolean;
  /** The plan new organizations start on when none is named. */
  defaultPlan: string;
  /** The seller's starting value (see src/billing/seller/seller.ts): the database row follows it until an operator sets it. */
  seller: {
    name: string;
    addressLines: string[];
    country: string | null;
    taxId: string | null;
    email: string | null;
    invoiceNumberPrefix: string;
  };
  maxAttachmentBytes: number;
  rateLimits: {
    /** Failed credit-code redemptions per organization. */
    creditCodeFailures: RateLimit;
    /** Failed authentications per client address. */
    authenticationFailures: RateLimit;
    /** Requests to signed-document links per client address. */
    documentDownloads: RateLimit;
  };
  /** A token that may read `/metrics` only (the operator token may too). */
  metricsToken: string | null;
}

export class ConfigError extends Error {}

/** The base of links Bursar makes outside a request (BURSAR_PUBLIC_URL, else this host's port). */
export function publicBaseUrl(config: Pick<Config, 'publicUrl' | 'port'>): string {
  return (config.publicUrl ?? `http://localhost:${config.port}`).replace(/\/+$/, '');
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}

function rateLimit(env: NodeJS.ProcessEnv, rule: string, prefix: string, limit: number, windowSeconds: number): RateLimit {
  return {
    rule,
    limit: integer(env, `${prefix}_LIMIT`, limit, 1, 1_000_000),
    windowSeconds: integer(env, `${prefix}_WINDOW_SECONDS`, windowSeconds, 1, 24 * 3600),
  };
}

/** A plan code (the rule of `plans.code`); whether the catalogue has it is checked where organizations are created. */
function planCode(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const value = optional(env, name) ?? fallback;
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(value)) throw new ConfigError(`${name} must be a plan code (1 to 64 letters, digits, "_" or "-"), got "${value}"`);
  return value;
}

function optional(env: NodeJS.ProcessEnv, name: string): string | null {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? null : raw.trim();
}

/** Letters, digits and `-_./`, at most 20: what an invoice number may start with (default `INV-`). */
export const invoiceNumberPrefixPattern = /^[A-Za-z0-9._/-]{0,20}$/;

function invoiceNumberPrefix(env: NodeJS.ProcessEnv): string {
  const raw = env.BURSAR_INVOICE_NUMBER_PREFIX;
  if (raw === undefined) return 'INV-';
  if (!invoiceNumberPrefixPattern.test(raw)) {
    throw new ConfigError(`BURSAR_INVOICE_NUMBER_PREFIX must be at most 20 letters, digits or "-_./", got "${raw}"`);
  }
  return raw;
}

/** ISO 3166-1 alpha-2 (the tax rule compares it with customers' countries). */
function sellerCountry(env: NodeJS.ProcessEnv): string | null {
  const raw = optional(env, 'BURSAR_SELLER_COUNTRY');
  if (raw === null) return null;
  const code = normalizeCountryCode(raw);
  if (code === null) throw new ConfigError(`BURSAR_SELLER_COUNTRY must be an ISO 3166-1 alpha-2 country code (FR, DE, US), got "${raw}"`);
  return code;
}

/** An optional setting that must be an absolute http(s) URL (it is put in e-mails as a link). */
function absoluteUrl(env: NodeJS.ProcessEnv, name: string): string | null {
  const raw = optional(env, name);
  if (raw === null) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be an absolute http(s) URL, got "${raw}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigError(`${name} must be an absolute http(s) URL, got "${raw}"`);
  return raw;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const dataDirectory = path.resolve(optional(env, 'BURSAR_DATA_DIR') ?? './data');
  const paymentProvider = optional(env, 'PAYMENT_PROVIDER') ?? 'sandbox';
  if (paymentProvider !== 'sandbox' && paymentProvider !== 'stripe') {
    throw new ConfigError(`PAYMENT_PROVIDER must be "sandbox" or "stripe", got "${paymentProvider}"`);
  }
  const stripeSecretKey = optional(env, 'STRIPE_SECRET_KEY');
  if (paymentProvider === 'stripe' && !stripeSecretKey) {
    throw new ConfigError('PAYMENT_PROVIDER=stripe needs STRIPE_SECRET_KEY');
  }
  const jwtSecret = optional(env, 'BURSAR_JWT_SECRET');
  if (jwtSecret !== null && jwtSecret.length < 16) {
    throw new ConfigError('BURSAR_JWT_SECRET must be at least 16 characters');
  }
  return {
    port: integer(env, 'PORT', 8080, 0, 65535),
    host: optional(env, 'HOST') ?? '0.0.0.0',
    databaseUrl: optional(env, 'DATABASE_URL'),
    dataDirectory,
    adminToken: optional(env, 'BURSAR_ADMIN_TOKEN'),
    jwtSecret,
    jwksUrl: optional(env, 'BURSAR_JWKS_URL'),
    jwtIssuer: optional(env, 'BURSAR_JWT_ISSUER'),
    jwtAudience: optional(env, 'BURSAR_JWT_AUDIENCE'),
    logLevel: optional(env, 'LOG_LEVEL') ?? 'info',
    publicUrl: optional(env, 'BURSAR_PUBLIC_URL'),
    portalUrl: absoluteUrl(env, 'BURSAR_PORTAL_URL'),
    paymentProvider,
    stripeSecretKey,
    stripeApiBaseUrl: optional(env, 'STRIPE_API_BASE_URL'),
    stripePublishableKey: optional(env, 'STRIPE_PUBLISHABLE_KEY'),
    stripeWebhookSecret: optional(env, 'STRIPE_WEBHOOK_SECRET'),
    smtpUrl: optional(env, 'SMTP_URL'),
    mailFrom: optional(env, 'MAIL_FROM') ?? 'Bursar Billing <billing@bursar.local>',
    outboxDirectory: path.resolve(optional(env, 'BURSAR_OUTBOX_DIR') ?? path.join(dataDirectory, 'outbox')),
    testClockEnabled: env.BURSAR_TEST_CLOCK === '1',
    invoiceLinkTtlSeconds: integer(env, 'BURSAR_INVOICE_LINK_TTL_SECONDS', 900, 10, 7 * 24 * 3600),
    jobPollIntervalMs: integer(env, 'BURSAR_JOB_POLL_MS', 1000, 10, 60_000),
    jobLeaseSeconds: integer(env, 'BURSAR_JOB_LEASE_SECONDS', 30, 1, 3600),
    runJobWorkers: env.BURSAR_JOB_WORKERS !== '0',
    webhookAllowPrivate: env.BURSAR_WEBHOOK_ALLOW_PRIVATE === '1',
    defaultPlan: planCode(env, 'BURSAR_DEFAULT_PLAN', 'FREE'),
    seller: {
      name: optional(env, 'BURSAR_SELLER_NAME') ?? 'Bursar Platform',
      addressLines: (optional(env, 'BURSAR_SELLER_ADDRESS') ?? '').split('|').map((line) => line.trim()).filter(Boolean),
      country: sellerCountry(env),
      taxId: optional(env, 'BURSAR_SELLER_TAX_ID'),
      email: optional(env, 'BURSAR_SELLER_EMAIL'),
      invoiceNumberPrefix: invoiceNumberPrefix(env),
    },
    maxAttachmentBytes: integer(env, 'BURSAR_MAX_ATTACHMENT_BYTES', 10 * 1024 * 1024, 1024, 100 * 1024 * 1024),
    rateLimits: {
      creditCodeFailures: rateLimit(env, 'credit_code_failures', 'BURSAR_CREDIT_CODE_FAILURE', 10, 600),
      authenticationFailures: rateLimit(env, 'authentication_failures', 'BURSAR_AUTH_FAILURE', 20, 300),
      documentDownloads: rateLimit(env, 'document_downloads', 'BURSAR_DOCUMENT_DOWNLOAD', 120, 60),
    },
    metricsToken: optional(env, 'BURSAR_METRICS_TOKEN'),
  };
}
