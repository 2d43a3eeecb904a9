import nodemailer from 'nodemailer';
import type { SendMailOptions } from 'nodemailer';
import type { Mailer, MailMessage } from './mailer.js';

export interface SmtpMailerOptions {
  /**
   * `smtp://[user:pass@]host[:port]` (plain, upgraded with STARTTLS when the server offers it) or
   * `smtps://...` (implicit TLS, usually port 465). Credentials are percent-decoded.
   *
   * TLS certificates are verified. For a local development server with a self-signed certificate,
   * add `?tls=insecure` to accept any certificate; this is the only switch this class adds, and it
   * must never be used against a real relay. Other query parameters are read by nodemailer's own
   * URL parser (e.g. `?pool=true`, `?requireTLS=true`, `?ignoreTLS=true`, `?tls.servername=...`).
   */
  url: string;
  /** The From header, e.g. `"Bursar" <billing@example.com>`. */
  from: string;
}

/** Sends through an SMTP relay with nodemailer. Attachments given by `path` are streamed from disk. */
export class SmtpMailer implements Mailer {
  private readonly transport: ReturnType<typeof nodemailer.createTransport>;

  constructor(options: SmtpMailerOptions) {
    const { url, insecureTls } = parseSmtpUrl(options.url);
    this.transport = nodemailer.createTransport(
      {
        url,
        ...(insecureTls ? { tls: { rejectUnauthorized: false } } : {}),
        connectionTimeout: 15_000,
        greetingTimeout: 15_000,
        socketTimeout: 60_000,
        // Attachments come from our own code: files yes, fetching URLs no.
        disableUrlAccess: true,
      },
      { from: options.from },
    );
  }

  async send(message: MailMessage): Promise<{ messageId: string }> {
    const info = await this.transport.sendMail(toNodemailerMessage(message));
    return { messageId: info.messageId };
  }

  /** Closes pooled connections (only relevant with `?pool=true`). */
  close(): void {
    this.transport.close();
  }
}

/** Validates the URL and takes out our own `tls=insecure` parameter. */
function parseSmtpUrl(raw: string): { url: string; insecureTls: boolean } {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new Error('SMTP URL is not a valid URL (expected smtp://host:port or smtps://host:port)');
  }
  if (parsed.protocol !== 'smtp:' && parsed.protocol !== 'smtps:') {
    throw new Error(`SMTP URL must start with smtp:// or smtps://, not ${parsed.protocol}//`);
  }
  if (!parsed.hostname) throw new Error('SMTP URL has no host');
  const tls = parsed.searchParams.get('tls');
  if (tls !== null && tls !== 'insecure') throw new Error(`SMTP URL: unknown tls=${tls} (the only value is tls=insecure)`);
  parsed.searchParams.delete('tls');
  return { url: parsed.toString(), insecureTls: tls === 'insecure' };
}

/** Our message shape to nodemailer's (shared with the outbox mailer). */
export function toNodemailerMessage(message: MailMessage): SendMailOptions {
  return {
    to: message.to,
    subject: message.subject,
    text: message.text,
    attachments: message.attachments?.map((attachment) => {
      if (attachment.content === undefined && attachment.path === undefined) {
        throw new Error(`attachment ${attachment.filename} has neither content nor path`);
      }
      return {
        filename: attachment.filename,
        contentType: attachment.contentType,
        ...(attachment.content !== undefined ? { content: attachment.content } : { path: attachment.path }),
      };
    }),
  };
}
