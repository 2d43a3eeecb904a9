/**
 * `Idempotency-Key`: the claim, the use case's writes and the stored answer commit together. A failure injected
 * between the use case and the storing of its answer (a trigger that refuses the answer's write, standing for a crash
 * or a lost connection at that moment) must leave nothing behind, so that a retry runs once and is then replayed.
 * A request with the same key running in another process (its advisory lock held by another connection) answers 409
 * at once instead of waiting for it.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import type { AttachedPaymentMethod, CardInput } from '../../src/providers/payments/payment-provider.js';
import { SandboxPaymentProvider } from '../../src/providers/payments/sandbox-payment-provider.js';
import { createOrganization, http, startTestApp, usingPostgres, type OrganizationFixture, type TestApp } from '../support/test-app.js';

/** The sandbox provider, remembering what it attached and detached. */
class RecordingSandbox extends SandboxPaymentProvider {
  readonly attached: string[] = [];
  readonly detached: string[] = [];
  /** Runs while the provider call is in flight (once). */
  duringAttach: (() => Promise<void>) | null = null;

  override async attachPaymentMethod(customerReference: string, card: CardInput): Promise<AttachedPaymentMethod> {
    const attached = await super.attachPaymentMethod(customerReference, card);
    this.attached.push(attached.providerReference);
    const during = this.duringAttach;
    this.duringAttach = null;
    await during?.();
    return attached;
  }

  override async detachPaymentMethod(paymentMethodReference: string): Promise<void> {
    await super.detachPaymentMethod(paymentMethodReference);
    this.detached.push(paymentMethodReference);
  }
}

let app: TestApp;
const provider = new RecordingSandbox({ fingerprintSecret: 'idempotency-test-fingerprint-secret', clock: { now: () => new Date() } });

before(async () => {
  app = await startTestApp({}, { payments: provider });
  app.clock.set(new Date());
});
after(async () => {
  await app.close();
});

const YEAR = new Date().getUTCFullYear();
const newKey = () => `key-${randomBytes(6).toString('hex')}`;

async function count(table: string, organizationId: string): Promise<number> {
  const { rows } = await app.database.query<{ count: bigint }>(`SELECT count(*)::int8 AS count FROM ${table} WHERE organization_id = $1`, [organizationId]);
  return Number(rows[0]!.count);
}

/** Makes storing an answer of `organizationId` fail (a pending claim passes), after the use case's writes, in their transaction; returns the undo. */
async function failStoringAnswers(organizationId: string): Promise<() => Promise<void>> {
  const name = `fail_answer_${randomBytes(4).toString('hex')}`;
  await app.database.execute(`
    CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.organization_id = '${organizationId}' AND NEW.response_status <> 102 THEN
        RAISE EXCEPTION 'injected failure between the use case and its stored answer';
      END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER ${name} BEFORE INSERT OR UPDATE ON idempotency_keys FOR EACH ROW EXECUTE FUNCTION ${name}();`);
  return async () => {
    await app.database.execute(`DROP TRIGGER ${name} ON idempotency_keys; DROP FUNCTION ${name}();`);
  };
}

async function createCode(): Promise<string> {
  const created = await http(app, 'POST', '/admin/credit-codes', {
    headers: app.admin,
    body: { code: `ONCE-${randomBytes(5).toString('hex')}`, amount_in_cents: 1500, currency: 'USD' },
  });
  assert.equal(created.status, 201, created.text);
  return created.body.code;
}

const redeem = (org: OrganizationFixture, code: string, key: string) =>
  http(app, 'POST', `/organization/${org.id}/creditCode`, { headers: { ...org.owner, 'idempotency-key': key }, body: { code } });

const addCard = (org: OrganizationFixture, number: string, key: string) =>
  http(app, 'POST', `/organization/${org.id}/creditCard`, {
    headers: { ...org.billing, 'idempotency-key': key },
    body: { number, cvv: '123', expiry_month: 6, expiry_year: YEAR + 3 },
  });

describe(`a failure between the use case and its stored answer leaves nothing behind (${usingPostgres ? 'PostgreSQL' : 'PGlite'})`, () => {
  test('credit code: no ledger entry, no redemption, no key; the retry redeems once, then replays', async () => {
    const org = await createOrganization(app);
    const code = await createCode();
    const key = newKey();

    const undo = await failStoringAnswers(org.id);
    const failed = await redeem(org, code, key);
    await undo();
    assert.ok(failed.status >= 500, `status ${failed.status}: ${failed.text}`);
    assert.equal(await count('credit_ledger_entries', org.id), 0);
    assert.equal(await count('credit_code_redemptions', org.id), 0);
    const audited = await app.database.query(`SELECT 1 FROM audit_events WHERE organization_id = $1 AND type = 'CREDIT_CODE_REDEEM'`, [org.id]);
    assert.equal(audited.rows.length, 0);
    assert.equal(await count('idempotency_keys', org.id), 0);

    const retried = await redeem(org, code, key);
    assert.equal(retried.status, 200, retried.text);
    assert.equal(retried.headers.get('idempotent-replayed'), null);
    assert.equal(retried.body.balance_in_cents, 1500);
    const replayed = await redeem(org, code, key);
    assert.equal(replayed.status, 200);
    assert.equal(replayed.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(replayed.body, retried.body);
    assert.equal(await count('credit_ledger_entries', org.id), 1);
    assert.equal(await count('credit_code_redemptions', org.id), 1);
  });

  test('credit card: no card, no key, the attach undone; the retry adds the card once, then replays', async () => {
    const org = await createOrganization(app);
    const key = newKey();
    const attachedBefore = provider.attached.length;

    const undo = await failStoringAnswers(org.id);
    const failed = await addCard(org, '4242424242424242', key);
    await undo();
    assert.ok(failed.status >= 500, `status ${failed.status}: ${failed.text}`);
    assert.equal(await count('payment_methods', org.id), 0);
    assert.equal(await count('idempotency_keys', org.id), 0);
    const failedAttach = provider.attached.at(-1)!;
    assert.equal(provider.attached.length, attachedBefore + 1);
    assert.ok(provider.detached.includes(failedAttach), 'the attach of the failed request is undone');

    const retried = await addCard(org, '4242424242424242', key);
    assert.equal(retried.status, 201, retried.text);
    assert.equal(retried.headers.get('idempotent-replayed'), null);
    const replayed = await addCard(org, '4242424242424242', key);
    assert.equal(replayed.status, 201);
    assert.equal(replayed.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(replayed.body, retried.body);
    assert.equal(await count('payment_methods', org.id), 1);
    assert.equal(provider.attached.length, attachedBefore + 2, 'the replay called no provider');
  });
});

test('an answer committed elsewhere during the provider call is replayed, and this attach undone', async () => {
  const org = await createOrganization(app);
  const learnt = await addCard(org, '4242424242424242', newKey());
  assert.equal(learnt.status, 201, learnt.text);
  const { rows } = await app.database.query<{ request_hash: string }>('SELECT request_hash FROM idempotency_keys WHERE organization_id = $1', [org.id]);
  const key = newKey();
  const otherAnswer = { ...learnt.body, id: randomUUID() };
  // The look-up before the call found nothing; another process answers the same request while this one is at the provider.
  provider.duringAttach = async () => {
    await app.database.query(
      `INSERT INTO idempotency_keys (organization_id, scope, key, request_hash, response_status, response_body, created_at)
       VALUES ($1, 'creditCard.add', $2, $3, 201, $4, $5)`,
      [org.id, key, rows[0]!.request_hash, JSON.stringify(otherAnswer), app.clock.now()],
    );
  };
  const replayed = await addCard(org, '4242424242424242', key);
  assert.equal(replayed.status, 201, replayed.text);
  assert.equal(replayed.headers.get('idempotent-replayed'), 'true');
  assert.deepEqual(replayed.body, otherAnswer);
  assert.ok(provider.detached.includes(provider.attached.at(-1)!), 'the attach of this request is undone');
  assert.equal(await count('payment_methods', org.id), 1);
});

describe('a request with the same key running in another process', { skip: !usingPostgres && 'needs a second connection (PostgreSQL)' }, () => {
  /** Holds the key's lock on a connection of its own, as the other process's transaction does while it runs the key. */
  async function holdKey(org: OrganizationFixture, scope: string, key: string): Promise<() => Promise<void>> {
    const schema = (await app.database.query<{ schema: string }>('SELECT current_schema() AS schema')).rows[0]!.schema;
    const other = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL, options: `-c search_path=${schema}` });
    await other.connect();
    await other.query('BEGIN');
    await other.query(`SELECT pg_advisory_xact_lock(hashtextextended('idempotency:' || $1 || ':' || $2 || ':' || $3, 0))`, [org.id, scope, key]);
    return async () => {
      await other.query('COMMIT');
      await other.end();
    };
  }

  test('credit code: 409 idempotency_request_in_progress at once, nothing written; runs once the other is gone', async () => {
    const org = await createOrganization(app);
    const code = await createCode();
    const key = newKey();
    const release = await holdKey(org, 'creditCode.redeem', key);
    try {
      const started = Date.now();
      const busy = await redeem(org, code, key);
      assert.equal(busy.status, 409, busy.text);
      assert.equal(busy.body.error, 'idempotency_request_in_progress');
      assert.ok(Date.now() - started < 5000, 'answered without waiting for the other request');
      assert.equal(await count('credit_ledger_entries', org.id), 0);
    } finally {
      await release();
    }
    const ran = await redeem(org, code, key);
    assert.equal(ran.status, 200, ran.text);
    assert.equal(await count('credit_ledger_entries', org.id), 1);
  });

  test('credit card: 409 after the provider call, which is undone; nothing stored', async () => {
    const org = await createOrganization(app);
    const key = newKey();
    const release = await holdKey(org, 'creditCard.add', key);
    try {
      const busy = await addCard(org, '5555555555554444', key);
      assert.equal(busy.status, 409, busy.text);
      assert.equal(busy.body.error, 'idempotency_request_in_progress');
      assert.ok(provider.detached.includes(provider.attached.at(-1)!), 'the duplicate attach is undone');
      assert.equal(await count('payment_methods', org.id), 0);
      assert.equal(await count('idempotency_keys', org.id), 0);
    } finally {
      await release();
    }
  });
});
