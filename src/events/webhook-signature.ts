/** Standard Webhooks signing (the `standardwebhooks` library): secrets and the `webhook-signature` header. */
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

const SECRET_BYTES = 32;

/** A new signing secret: `whsec_` + base64 of 32 random bytes. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(SECRET_BYTES).toString('base64')}`;
}

/**
 * The `webhook-signature` header: `v1,<base64 HMAC-SHA256>` per secret, space-separated (during a rotation both the
 * new and the old secret sign, so that receivers holding either verify).
 */
export function signWebhook(secrets: readonly string[], eventId: string, sentAt: Date, body: string): string {
  return secrets.map((secret) => new Webhook(secret).sign(eventId, sentAt, body)).join(' ');
}
