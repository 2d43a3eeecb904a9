import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { checkSignedLink, signLink } from '../../src/domain/signed-links.js';

const key = randomBytes(32);
const path = '/documents/0b6f1c8e-6d0b-4a43-9a39-9b7a3f6c2d11/invoices/5d7c4a9e-2f55-4d7e-8a0e-1e7b3c9f6a20.pdf';
const now = new Date('2026-11-21T10:00:00Z');
const expiresAt = new Date('2026-11-21T10:15:00.900Z');

function query(url: string): { expires?: string; signature?: string } {
  const parsed = new URL(url);
  return { expires: parsed.searchParams.get('expires') ?? undefined, signature: parsed.searchParams.get('signature') ?? undefined };
}

describe('signed links', () => {
  it('signs the path and the expiry (in whole seconds) under the base URL', () => {
    const url = signLink(key, 'https://billing.example.com/', path, expiresAt);
    const parsed = new URL(url);
    assert.equal(parsed.origin + parsed.pathname, `https://billing.example.com${path}`);
    assert.equal(parsed.searchParams.get('expires'), String(Math.floor(expiresAt.getTime() / 1000)));
    assert.match(parsed.searchParams.get('signature')!, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(checkSignedLink(key, path, query(url), now), 'valid');
  });

  it('is invalid for another path, another expiry, another key, a changed or missing signature', () => {
    const url = signLink(key, 'http://127.0.0.1:8080', path, expiresAt);
    const good = query(url);
    assert.equal(checkSignedLink(key, path.replace('5d7c', '5d7d'), good, now), 'invalid');
    assert.equal(checkSignedLink(key, path, { ...good, expires: String(Number(good.expires) + 60) }, now), 'invalid');
    assert.equal(checkSignedLink(randomBytes(32), path, good, now), 'invalid');
    const flipped = (good.signature!.startsWith('A') ? 'B' : 'A') + good.signature!.slice(1);
    assert.equal(checkSignedLink(key, path, { ...good, signature: flipped }, now), 'invalid');
    assert.equal(checkSignedLink(key, path, { expires: good.expires }, now), 'invalid');
    assert.equal(checkSignedLink(key, path, { signature: good.signature }, now), 'invalid');
    assert.equal(checkSignedLink(key, path, { expires: '1e9', signature: good.signature }, now), 'invalid');
    assert.equal(checkSignedLink(key, path, { expires: good.expires, signature: `${good.signature}=` }, now), 'invalid');
  });

  it('expires at its expiry instant by the clock passed in; a forged expiry is invalid, not expired', () => {
    const url = signLink(key, 'http://x', path, expiresAt);
    const good = query(url);
    const expirySecond = Number(good.expires) * 1000;
    assert.equal(checkSignedLink(key, path, good, new Date(expirySecond - 1)), 'valid');
    assert.equal(checkSignedLink(key, path, good, new Date(expirySecond)), 'expired');
    assert.equal(checkSignedLink(key, path, { ...good, expires: '1' }, now), 'invalid');
  });

  it('refuses a relative path', () => {
    assert.throws(() => signLink(key, 'http://x', 'documents/a.pdf', expiresAt), RangeError);
  });
});
