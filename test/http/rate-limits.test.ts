/**
 * Rate limits (issue 10): failed credit-code redemptions per organization, authentication failures and
 * signed-document requests per client address. Kept in the database, so two processes on one database share them.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { countHits, recordHit, refuseWhenSpent, windowEndOf } from '../../src/rate-limits/rate-limits.js';
import { BillingError } from '../../src/errors.js';
import { ADMIN_TOKEN, createOrganization, http, mintJwt, startTestApp, type TestApp } from '../support/test-app.js';

// Windows are fixed and aligned to the epoch: a day long here, so that a test does not straddle two of them.
const DAY = 24 * 3600;
const limits = {
  BURSAR_CREDIT_CODE_FAILURE_LIMIT: '3',
  BURSAR_CREDIT_CODE_FAILURE_WINDOW_SECONDS: String(DAY),
  BURSAR_AUTH_FAILURE_LIMIT: '3',
  BURSAR_AUTH_FAILURE_WINDOW_SECONDS: String(DAY),
  BURSAR_DOCUMENT_DOWNLOAD_LIMIT: '3',
  BURSAR_DOCUMENT_DOWNLOAD_WINDOW_SECONDS: String(DAY),
};

/** Two Bursar processes on one database, with small limits: started before the suite's tests, closed after them. */
function usePair(): { readonly first: TestApp; readonly second: TestApp } {
  const pair = {} as { first: TestApp; second: TestApp };
  before(async () => {
    pair.first = await startTestApp(limits);
    pair.second = await startTestApp(limits, { shareDatabaseOf: pair.first });
  });
  after(async () => {
    await pair.second.close();
    await pair.first.close();
  });
  return pair;
}

function assertTooManyAttempts(result: { status: number; headers: Headers; body: any; text: string }, windowSeconds: number): void {
  assert.equal(result.status, 429, result.text);
  assert.equal(result.body.error, 'too_many_attempts');
  const retryAfter = Number(result.headers.get('retry-after'));
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= windowSeconds, `Retry-After ${result.headers.get('retry-after')}`);
}

describe('the rate-limit counters', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(async () => {
    await app.close();
  });

  test('count hits per rule and subject in fixed windows, and start again in the next window', async () => {
    const limit = { rule: 'test_rule', limit: 2, windowSeconds: 60 };
    const start = new Date('2026-05-01T10:00:05Z');
    assert.equal(windowEndOf(limit, start).toISOString(), '2026-05-01T10:01:00.000Z');
    assert.equal(await countHits(app.database, limit, 'a', start), 0);
    assert.equal(await recordHit(app.database, limit, 'a', start), 1);
    assert.equal(await recordHit(app.database, limit, 'a', new Date('2026-05-01T10:00:59Z')), 2);
    assert.equal(await recordHit(app.database, limit, 'b', start), 1);
    assert.equal(await countHits(app.database, limit, 'a', start), 2);
    assert.equal(await countHits(app.database, { ...limit, rule: 'other_rule' }, 'a', start), 0);

    const refusal = (() => {
      try {
        refuseWhenSpent(limit, 2, start, 'tries');
      } catch (error) {
        return error;
      }
      return null;
    })();
    assert.ok(refusal instanceof BillingError);
    assert.equal(refusal.status, 429);
    assert.equal(refusal.retryAfterSeconds, 55);
    assert.doesNotThrow(() => refuseWhenSpent(limit, 1, start, 'tries'));

    const nextWindow = new Date('2026-05-01T10:01:00Z');
    assert.equal(await countHits(app.database, limit, 'a', nextWindow), 0);
    assert.equal(await recordHit(app.database, limit, 'a', nextWindow), 1);
  });

  test('counters of ended windows are removed by later hits', async () => {
    const limit = { rule: 'cleanup_rule', limit: 5, windowSeconds: 60 };
    for (const subject of ['x', 'y', 'z']) await recordHit(app.database, limit, subject, new Date('2026-05-01T09:00:00Z'));
    await recordHit(app.database, limit, 'w', new Date('2026-05-01T12:00:00Z'));
    const { rows } = await app.database.query<{ subject: string }>(`SELECT subject FROM rate_limit_hits WHERE rule = 'cleanup_rule'`);
    assert.deepEqual(rows.map((row) => row.subject), ['w']);
  });
});

describe('failed credit-code redemptions per organization', () => {
  const pair = usePair();

  async function createCode(): Promise<string> {
    const created = await http(pair.first, 'POST', '/admin/credit-codes', {
      headers: pair.first.admin,
      body: { code: `GOOD-${randomUUID().slice(0, 8)}`, amount_in_cents: 1000, currency: 'USD' },
    });
    assert.equal(created.status, 201, created.text);
    return created.body.code;
  }

  test('after the limit of failures, even a good code is refused with 429 and Retry-After, on both processes', async () => {
    const org = await createOrganization(pair.first);
    const redeem = (app: TestApp, code: string) => http(app, 'POST', `/organization/${org.id}/creditCode`, { headers: org.owner, body: { code } });

    // A successful redemption is no failure.
    assert.equal((await redeem(pair.first, await createCode())).status, 200);
    // Unknown codes count, and both processes count into one counter.
    for (const app of [pair.first, pair.second, pair.first]) {
      const guess = await redeem(app, `GUESS-${randomUUID().slice(0, 8)}`);
      assert.equal(guess.status, 400, guess.text);
      assert.equal(guess.body.error, 'credit_code_not_found');
    }
    const good = await createCode();
    assertTooManyAttempts(await redeem(pair.second, good), DAY);
    assertTooManyAttempts(await redeem(pair.first, good), DAY);
    // The refused attempts wrote nothing.
    const credits = await http(pair.first, 'GET', `/organization/${org.id}/credits`, { headers: org.owner });
    assert.equal(credits.status, 200);
    assert.equal(credits.body.balance_in_cents, 1000);

    // Another organization is not affected.
    const other = await createOrganization(pair.first);
    const elsewhere = await http(pair.second, 'POST', `/organization/${other.id}/creditCode`, { headers: other.owner, body: { code: good } });
    assert.equal(elsewhere.status, 200, elsewhere.text);
  });

  test('an outsider neither learns about nor uses up the organization\'s attempts', async () => {
    const org = await createOrganization(pair.first);
    const outsider = { authorization: `Bearer ${await mintJwt(`outsider-${randomUUID()}`)}` };
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const result = await http(pair.first, 'POST', `/organization/${org.id}/creditCode`, { headers: outsider, body: { code: 'NOPE' } });
      assert.equal(result.status, 404, result.text);
    }
    const own = await http(pair.second, 'POST', `/organization/${org.id}/creditCode`, { headers: org.owner, body: { code: await createCode() } });
    assert.equal(own.status, 200, own.text);
  });
});

describe('authentication failures per client address', () => {
  const pair = usePair();

  test('after the limit, the address gets 429 on both processes, even with good credentials not verified before', async () => {
    const org = await createOrganization(pair.first);
    // Verified before the failures: a JWT this process has seen cannot be a guess, and keeps working.
    assert.equal((await http(pair.first, 'GET', `/organization/${org.id}/billingInfo`, { headers: org.owner })).status, 200);
    // No credentials at all guesses nothing and is not counted.
    for (let attempt = 0; attempt < 4; attempt += 1) assert.equal((await http(pair.first, 'GET', '/admin/plans')).status, 401);

    const guesses = [
      { authorization: 'Bearer wrong-operator-token' },
      { authorization: 'Token not-an-api-token' },
      { authorization: `Bearer ${await mintJwt('someone', {}, { secret: 'a-different-secret-of-32-characters!!' })}` },
    ];
    for (const [index, headers] of guesses.entries()) {
      const result = await http(index % 2 === 0 ? pair.first : pair.second, 'GET', '/admin/plans', { headers });
      assert.equal(result.status, 401, result.text);
    }
    assertTooManyAttempts(await http(pair.second, 'GET', '/admin/plans', { headers: { authorization: 'Bearer another-guess' } }), DAY);
    assertTooManyAttempts(await http(pair.first, 'GET', '/admin/plans', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }), DAY);
    assertTooManyAttempts(await http(pair.second, 'GET', `/organization/${org.id}/billingInfo`, { headers: org.owner }), DAY);
    assert.equal((await http(pair.first, 'GET', `/organization/${org.id}/billingInfo`, { headers: org.owner })).status, 200);
  });
});

describe('signed-document requests per client address', () => {
  const pair = usePair();

  test('every request to a signed link counts, on both processes; over the limit, 429 with Retry-After', async () => {
    const paths = [
      `/documents/${randomUUID()}/invoices/${randomUUID()}.pdf?expires=1&signature=guess`,
      `/documents/${randomUUID()}/usage-reports/${randomUUID()}.csv?expires=1&signature=guess`,
      `/documents/${randomUUID()}/archives/${randomUUID()}.zip`,
    ];
    for (const [index, path] of paths.entries()) {
      const result = await http(index % 2 === 0 ? pair.first : pair.second, 'GET', path);
      assert.equal(result.status, 403, result.text);
    }
    assertTooManyAttempts(await http(pair.second, 'GET', paths[0]!), DAY);
    assertTooManyAttempts(await http(pair.first, 'DELETE', `/documents/${randomUUID()}/usage-reports/${randomUUID()}?expires=1&signature=x`), DAY);
    // Other routes are not limited by it.
    assert.equal((await http(pair.first, 'GET', '/healthz')).status, 200);
  });
});
