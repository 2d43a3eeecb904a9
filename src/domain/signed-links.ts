/**
 * Expiring links that need no credentials: `<base><path>?expires=<unix seconds>&signature=<HMAC-SHA256>`.
 * The HMAC covers the path and the expiry, so neither can be changed; the key is shared by every process
 * (`AppSecrets.linkSigningKey`). Expiry is judged by the business clock passed in.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export type SignedLinkCheck = 'valid' | 'invalid' | 'expired';

function signature(key: Buffer, path: string, expires: number): Buffer {
  return createHmac('sha256', key).update(`${path}\n${expires}`).digest();
}

/** The absolute URL of `path` (which starts with '/'), valid until `expiresAt` (rounded down to the second). */
export function signLink(key: Buffer, baseUrl: string, path: string, expiresAt: Date): string {
  if (!path.startsWith('/')) throw new RangeError('a signed path starts with /');
  const expires = Math.floor(expiresAt.getTime() / 1000);
  const query = new URLSearchParams({ expires: String(expires), signature: signature(key, path, expires).toString('base64url') });
  return `${baseUrl.replace(/\/+$/, '')}${path}?${query.toString()}`;
}

/**
 * Checks the query of a signed link against the path it was requested on. A missing or malformed part is
 * 'invalid'; a correct signature past its expiry is 'expired' (the signature is checked first, so a forged
 * expiry never reads as merely expired).
 */
export function checkSignedLink(
  key: Buffer,
  path: string,
  query: { expires?: string | undefined; signature?: string | undefined },
  now: Date,
): SignedLinkCheck {
  if (query.expires === undefined || query.signature === undefined) return 'invalid';
  if (!/^\d{1,12}$/.test(query.expires) || !/^[A-Za-z0-9_-]{43}$/.test(query.signature)) return 'invalid';
  const expires = Number(query.expires);
  const expected = signature(key, path, expires);
  const given = Buffer.from(query.signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid';
  return now.getTime() < expires * 1000 ? 'valid' : 'expired';
}
