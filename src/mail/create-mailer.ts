import type { Mailer } from './mailer.js';
import { OutboxMailer } from './outbox-mailer.js';
import { SmtpMailer } from './smtp-mailer.js';

export interface CreateMailerOptions {
  /** SMTP_URL: when set (non-blank), mail goes through SMTP; see SmtpMailer for the format. */
  smtpUrl?: string;
  /** Where .eml files go when no SMTP URL is set. */
  outboxDirectory: string;
  /** The From header of every message. */
  from: string;
}

/** SMTP when a URL is configured, else the embedded outbox folder. */
export function createMailer(options: CreateMailerOptions): Mailer {
  const smtpUrl = options.smtpUrl?.trim();
  if (smtpUrl) return new SmtpMailer({ url: smtpUrl, from: options.from });
  return new OutboxMailer({ directory: options.outboxDirectory, from: options.from });
}
