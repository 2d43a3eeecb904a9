/** Outgoing e-mail. The embedded default writes .eml files to an outbox folder; SMTP_URL switches to SMTP. */
export interface MailAttachment {
  filename: string;
  contentType: string;
  /** A Buffer, or a path to a file streamed from disk (large archives). */
  content?: Buffer;
  path?: string;
}

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  attachments?: MailAttachment[];
}

export interface Mailer {
  send(message: MailMessage): Promise<{ messageId: string }>;
}
