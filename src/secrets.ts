/**
 * Process-wide secrets kept in the database so that every Bursar process behind a load balancer shares them.
 * The operator token is stored only as a hash; when BURSAR_ADMIN_TOKEN is unset one is generated on first start
 * and printed once.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import sql from 'sql-template-tag';
import type { Config } from './config.js';
import type { Database } from './db/database.js';

export interface AppSecrets {
  /** SHA-256 (hex) of the operator token. */
  adminTokenHash: string;
  /** Key of the HMAC that signs expiring download links; shared by every process through the database. */
  linkSigningKey: Buffer;
  /** Key of the sandbox provider's card fingerprints (same card → same fingerprint, number not recoverable). */
  cardFingerprintKey: string;
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

export function hashesEqual(aHex: string, bHex: string): boolean {
  const a = Buffer.from(aHex, 'hex');
  const b = Buffer.from(bHex, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

async function getOrCreateSetting(database: Database, key: string, create: () => string): Promise<{ value: string; created: boolean }> {
  const candidate = create();
  const inserted = await database.query<{ value: string }>(
    sql`INSERT INTO settings (key, value) VALUES (${key}, ${candidate}) ON CONFLICT (key) DO NOTHING RETURNING value`,
  );
  if (inserted.rows[0]) return { value: inserted.rows[0].value, created: true };
  const existing = await database.query<{ value: string }>(sql`SELECT value FROM settings WHERE key = ${key}`);
  return { value: existing.rows[0]!.value, created: false };
}

export async function loadSecrets(database: Database, config: Config, announce: (message: string) => void): Promise<AppSecrets> {
  let adminTokenHash: string;
  if (config.adminToken) {
    adminTokenHash = sha256Hex(config.adminToken);
  } else {
    let generatedToken = '';
    const stored = await getOrCreateSetting(database, 'admin_token_sha256', () => {
      generatedToken = `bursar_admin_${randomBytes(24).toString('base64url')}`;
      return sha256Hex(generatedToken);
    });
    adminTokenHash = stored.value;
    if (stored.created) {
      announce(`Generated operator token (shown once, store it now): ${generatedToken}`);
    }
  }
  const signing = await getOrCreateSetting(database, 'link_signing_key', () => randomBytes(32).toString('base64url'));
  const fingerprint = await getOrCreateSetting(database, 'card_fingerprint_key', () => randomBytes(32).toString('base64url'));
  return {
    adminTokenHash,
    linkSigningKey: Buffer.from(signing.value, 'base64url'),
    cardFingerprintKey: fingerprint.value,
  };
}
