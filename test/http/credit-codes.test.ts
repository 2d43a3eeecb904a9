import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  auditEvents,
  createOrganization,
  http,
  startTestApp,
  usingPostgres,
  type OrganizationFixture,
  type TestApp,
} from '../support/test-app.js';

let app: TestApp;
// Near real time: the fixtures' JWTs are checked against the test clock and live one hour.
const start = new Date(Math.floor(Date.now() / 1000) * 1000);

before(async () => {
  app = await startTestApp();
  app.clock.set(start);
});
after(async () => {
  await app.close();
});

const uniqueCode = (prefix = 'CODE') => `${prefix}-${randomBytes(5).toString('hex')}`;

async function createCode(values: Record<string, unknown> = {}): Promise<any> {
  const result = await http(app, 'POST', '/admin/credit-codes', {
    headers: app.admin,
    body: { code: uniqueCode(), amount_in_cents: 2500, currency: 'USD', ...values },
  });
  assert.equal(result.status, 201, result.text);
  return result.body;
}

const redeem = (org: OrganizationFixture, code: unknown, headers = org.owner) =>
  http(app, 'POST', `/organization/${org.id}/creditCode`, { headers, body: { code } });

const credits = (org: OrganizationFixture, headers = org.owner, query = '') => http(app, 'GET', `/organization/${org.id}/credits${query}`, { headers });

async function ledgerRows(where: string, params: unknown[]): Promise<Array<{ organization_id: string; amount_minor: bigint }>> {
  const { rows } = await app.database.query<{ organization_id: string; amount_minor: bigint }>(
    `SELECT organization_id, amount_minor FROM credit_ledger_entries WHERE ${where}`,
    params,
  );
  return rows;
}

async function setOrganizationCurrency(org: OrganizationFixture, currency: string): Promise<void> {
  // No endpoint changes an organization's billing currency yet: set it as an operator would in the database.
  await app.database.query('UPDATE organizations SET currency = $2 WHERE id = $1', [org.id, currency]);
}

describe('operator: POST /admin/credit-codes', () => {
  test('creates a code, stored upper-case, and audits it with no organization', async () => {
    const code = uniqueCode('welcome').toLowerCase();
    const result = await http(app, 'POST', '/admin/credit-codes', {
      headers: app.admin,
      body: { code, amount_in_cents: 5000, currency: 'EUR', expires_at: '2099-01-01T00:00:00Z', max_redemptions: 10 },
    });
    assert.equal(result.status, 201, result.text);
    assert.match(result.body.id, /^[0-9a-f-]{36}$/);
    assert.deepEqual({ ...result.body, id: undefined, created_at: undefined }, {
      id: undefined,
      created_at: undefined,
      code: code.toUpperCase(),
      amount_in_cents: 5000,
      amount: 50,
      currency: 'EUR',
      expires_at: '2099-01-01T00:00:00.000Z',
      max_redemptions: 10,
      redemption_count: 0,
      status: 'active',
      disabled_at: null,
    });
    const { rows } = await app.database.query<{ type: string; organization_id: string | null; actor_type: string; changes: any }>(
      "SELECT type, organization_id, actor_type, changes FROM audit_events WHERE type = 'CREDIT_CODE_CREATE' AND changes->>'creditCodeId' = $1",
      [result.body.id],
    );
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.organization_id, null);
    assert.equal(rows[0]!.actor_type, 'operator');
    assert.equal(rows[0]!.changes.code, code.toUpperCase());
    assert.equal(rows[0]!.changes.amountMinor, '5000');
  });

  test('optional fields default to no expiry and unlimited uses', async () => {
    const created = await createCode({ expires_at: undefined, max_redemptions: null });
    assert.equal(created.expires_at, null);
    assert.equal(created.max_redemptions, null);
  });

  test('a code taken in any case is a 409', async () => {
    const created = await createCode();
    const again = await http(app, 'POST', '/admin/credit-codes', {
      headers: app.admin,
      body: { code: created.code.toLowerCase(), amount_in_cents: 100, currency: 'USD' },
    });
    assert.equal(again.status, 409);
    assert.equal(again.body.error, 'credit_code_taken');
  });

  test('refuses bad input with 400 naming the field', async () => {
    const base = { code: uniqueCode(), amount_in_cents: 100, currency: 'USD' };
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ code: 'ab' }, 'code', 'validation_error'],
      [{ code: 'has space' }, 'code', 'validation_error'],
      [{ code: 'A'.repeat(65) }, 'code', 'validation_error'],
      [{ code: 42 }, 'code', 'validation_error'],
      [{ amount_in_cents: 0 }, 'amount_in_cents', 'validation_error'],
      [{ amount_in_cents: -5 }, 'amount_in_cents', 'validation_error'],
      [{ amount_in_cents: 12.5 }, 'amount_in_cents', 'validation_error'],
      [{ amount_in_cents: '100' }, 'amount_in_cents', 'validation_error'],
      [{ amount_in_cents: 2 ** 53 }, 'amount_in_cents', 'validation_error'],
      [{ currency: 'usd' }, 'currency', 'validation_error'],
      [{ currency: 'ABC' }, 'currency', 'invalid_input'],
      [{ expires_at: 'tomorrow' }, 'expires_at', 'validation_error'],
      [{ expires_at: new Date(start.getTime() - 1000).toISOString() }, 'expires_at', 'invalid_input'],
      [{ max_redemptions: 0 }, 'max_redemptions', 'validation_error'],
      [{ max_redemptions: 1.5 }, 'max_redemptions', 'validation_error'],
      [{ max_redemptions: 2 ** 31 }, 'max_redemptions', 'validation_error'],
      [{ surprise: true }, 'surprise', 'validation_error'],
    ];
    for (const [override, field, error] of cases) {
      const result = await http(app, 'POST', '/admin/credit-codes', { headers: app.admin, body: { ...base, ...override } });
      assert.equal(result.status, 400, `${JSON.stringify(override)}: ${result.text}`);
      assert.equal(result.body.error, error, JSON.stringify(override));
      assert.ok(
        result.body.fields.some((f: { field: string }) => f.field === field),
        `${JSON.stringify(override)} names ${field}: ${result.text}`,
      );
    }
    for (const missing of ['code', 'amount_in_cents', 'currency']) {
      const body: Record<string, unknown> = { ...base };
      delete body[missing];
      const result = await http(app, 'POST', '/admin/credit-codes', { headers: app.admin, body });
      assert.equal(result.status, 400);
      assert.ok(result.body.fields.some((f: { field: string }) => f.field === missing), result.text);
    }
    const { rows } = await app.database.query('SELECT 1 FROM credit_codes WHERE code = $1', [base.code.toUpperCase()]);
    assert.equal(rows.length, 0, 'nothing was created');
  });

  test('malformed JSON, an oversize body and a body of the wrong type are refused', async () => {
    const malformed = await http(app, 'POST', '/admin/credit-codes', { headers: app.admin, body: '{"code": "ABC",' });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.error, 'malformed_json');
    const oversize = await http(app, 'POST', '/admin/credit-codes', {
      headers: app.admin,
      body: { code: uniqueCode(), amount_in_cents: 1, currency: 'USD', padding: 'x'.repeat(70 * 1024) },
    });
    assert.equal(oversize.status, 413);
    const array = await http(app, 'POST', '/admin/credit-codes', { headers: app.admin, body: [] });
    assert.equal(array.status, 400);
  });

  test('only operators manage codes', async () => {
    const org = await createOrganization(app);
    const body = { code: uniqueCode(), amount_in_cents: 100, currency: 'USD' };
    const asOwner = await http(app, 'POST', '/admin/credit-codes', { headers: org.owner, body });
    assert.equal(asOwner.status, 403);
    const anonymous = await http(app, 'POST', '/admin/credit-codes', { body });
    assert.equal(anonymous.status, 401);
    assert.equal((await http(app, 'GET', '/admin/credit-codes', { headers: org.owner })).status, 403);
    const created = await createCode();
    assert.equal((await http(app, 'POST', `/admin/credit-codes/${created.id}/disable`, { headers: org.owner })).status, 403);
  });
});

describe('operator: GET /admin/credit-codes and disable', () => {
  test('lists codes newest first with their redemption count and status', async () => {
    app.clock.set(new Date(start.getTime() + 1_000));
    const older = await createCode({ max_redemptions: 1 });
    app.clock.set(new Date(start.getTime() + 2_000));
    const newer = await createCode();
    app.clock.set(start);
    const org = await createOrganization(app);
    assert.equal((await redeem(org, older.code)).status, 200);

    const list = await http(app, 'GET', '/admin/credit-codes', { headers: app.admin });
    assert.equal(list.status, 200);
    const codes: string[] = list.body.results.map((c: { code: string }) => c.code);
    assert.ok(codes.indexOf(newer.code) < codes.indexOf(older.code), 'newest first');
    const listedOlder = list.body.results.find((c: { id: string }) => c.id === older.id);
    assert.equal(listedOlder.redemption_count, 1);
    assert.equal(listedOlder.status, 'exhausted');

    const limited = await http(app, 'GET', '/admin/credit-codes?limit=1', { headers: app.admin });
    assert.equal(limited.body.results.length, 1);
    assert.equal((await http(app, 'GET', '/admin/credit-codes?limit=many', { headers: app.admin })).status, 400);
  });

  test('disabling answers the disabled code, once audited; an unknown id is a 404', async () => {
    const created = await createCode();
    const disabled = await http(app, 'POST', `/admin/credit-codes/${created.id}/disable`, { headers: app.admin });
    assert.equal(disabled.status, 200, disabled.text);
    assert.equal(disabled.body.status, 'disabled');
    assert.ok(new Date(disabled.body.disabled_at).getTime() >= start.getTime(), 'disabled at the test clock');
    const again = await http(app, 'POST', `/admin/credit-codes/${created.id}/disable`, { headers: app.admin });
    assert.equal(again.status, 200);
    assert.equal(again.body.disabled_at, disabled.body.disabled_at);
    const { rows } = await app.database.query(
      "SELECT 1 FROM audit_events WHERE type = 'CREDIT_CODE_DISABLE' AND organization_id IS NULL AND changes->>'creditCodeId' = $1",
      [created.id],
    );
    assert.equal(rows.length, 1);

    const unknown = await http(app, 'POST', '/admin/credit-codes/00000000-0000-4000-8000-000000000000/disable', { headers: app.admin });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error, 'not_found');
    assert.equal((await http(app, 'POST', '/admin/credit-codes/not-a-uuid/disable', { headers: app.admin })).status, 400);
  });
});

describe('POST /organization/{organizationId}/creditCode', () => {
  test('adds the amount to the balance through a ledger row, audited; the code matches in any case', async () => {
    const org = await createOrganization(app);
    const code = await createCode({ amount_in_cents: 2500 });
    const result = await redeem(org, `  ${code.code.toLowerCase()} `);
    assert.equal(result.status, 200, result.text);
    assert.equal(result.body.currency_code, 'USD');
    assert.equal(result.body.balance_in_cents, 2500);
    assert.equal(result.body.balance, 25);
    assert.equal(result.body.entry.amount_in_cents, 2500);
    assert.equal(result.body.entry.amount, 25);
    assert.equal(result.body.entry.reason, 'credit_code');
    assert.equal(result.body.entry.reference, code.id);
    assert.equal(result.body.entry.description, `Credit code ${code.code}`);
    assert.ok(new Date(result.body.entry.created_at).getTime() >= start.getTime());

    const second = await createCode({ amount_in_cents: 1000 });
    const after = await redeem(org, second.code, org.billing);
    assert.equal(after.status, 200);
    assert.equal(after.body.balance_in_cents, 3500);

    const statement = await credits(org);
    assert.equal(statement.status, 200);
    assert.equal(statement.body.balance_in_cents, 3500);
    assert.equal(statement.body.balance, 35);
    assert.deepEqual(
      statement.body.entries.map((e: { amount_in_cents: number; reference: string }) => [e.amount_in_cents, e.reference]),
      [
        [1000, second.id],
        [2500, code.id],
      ],
      'newest first',
    );

    const events = (await auditEvents(app, org.id)).filter((e) => e.type === 'CREDIT_CODE_REDEEM');
    assert.equal(events.length, 2);
    assert.equal(events[1].changes.creditCodeId, code.id);
    assert.equal(events[1].changes.amountMinor, '2500');
    assert.equal(events[1].changes.ledgerEntryId, result.body.entry.id);
    assert.equal(events[1].actor_type, 'user');
  });

  test('the same organization redeeming the same code twice gets 409 and nothing more', async () => {
    const org = await createOrganization(app);
    const code = await createCode({ amount_in_cents: 700 });
    assert.equal((await redeem(org, code.code)).status, 200);
    const again = await redeem(org, code.code.toLowerCase(), org.admin);
    assert.equal(again.status, 409);
    assert.equal(again.body.error, 'credit_code_already_redeemed');
    assert.equal((await credits(org)).body.balance_in_cents, 700);
    assert.equal((await ledgerRows('organization_id = $1', [org.id])).length, 1);
  });

  test('an unknown code is a 400 credit_code_not_found', async () => {
    const org = await createOrganization(app);
    for (const code of ['NO-SUCH-CODE', 'x', 'not a code', 'ÉTÉ']) {
      const result = await redeem(org, code);
      assert.equal(result.status, 400, code);
      assert.equal(result.body.error, 'credit_code_not_found', code);
    }
  });

  test('an expired code is refused with credit_code_expired', async () => {
    const org = await createOrganization(app);
    const code = await createCode({ expires_at: new Date(start.getTime() + 600_000).toISOString() });
    app.clock.set(new Date(start.getTime() + 600_000));
    try {
      const result = await redeem(org, code.code);
      assert.equal(result.status, 400);
      assert.equal(result.body.error, 'credit_code_expired');
      const listed = await http(app, 'GET', '/admin/credit-codes?limit=1000', { headers: app.admin });
      assert.equal(listed.body.results.find((c: { id: string }) => c.id === code.id).status, 'expired');
    } finally {
      app.clock.set(start);
    }
    // One second before expiry it still works.
    app.clock.set(new Date(start.getTime() + 599_000));
    try {
      assert.equal((await redeem(org, code.code)).status, 200);
    } finally {
      app.clock.set(start);
    }
  });

  test('a disabled code is refused with credit_code_disabled', async () => {
    const org = await createOrganization(app);
    const code = await createCode();
    assert.equal((await http(app, 'POST', `/admin/credit-codes/${code.id}/disable`, { headers: app.admin })).status, 200);
    const result = await redeem(org, code.code);
    assert.equal(result.status, 400);
    assert.equal(result.body.error, 'credit_code_disabled');
  });

  test('a used-up code is refused with credit_code_exhausted and writes nothing', async () => {
    const code = await createCode({ max_redemptions: 2 });
    const [first, second, third] = [await createOrganization(app), await createOrganization(app), await createOrganization(app)];
    assert.equal((await redeem(first!, code.code)).status, 200);
    assert.equal((await redeem(second!, code.code)).status, 200);
    const refused = await redeem(third!, code.code);
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error, 'credit_code_exhausted');
    assert.equal((await ledgerRows('organization_id = $1', [third!.id])).length, 0);
    assert.equal((await auditEvents(app, third!.id)).filter((e) => e.type === 'CREDIT_CODE_REDEEM').length, 0);
    const { rows } = await app.database.query<{ redemption_count: number }>('SELECT redemption_count FROM credit_codes WHERE id = $1', [code.id]);
    assert.equal(rows[0]!.redemption_count, 2);
  });

  test("a code in another currency than the organization's is refused", async () => {
    const org = await createOrganization(app);
    const code = await createCode({ currency: 'EUR' });
    const result = await redeem(org, code.code);
    assert.equal(result.status, 400);
    assert.equal(result.body.error, 'credit_code_currency_mismatch');
    assert.match(result.body.message, /EUR.*USD/);
    const { rows } = await app.database.query<{ redemption_count: number }>('SELECT redemption_count FROM credit_codes WHERE id = $1', [code.id]);
    assert.equal(rows[0]!.redemption_count, 0);
  });

  test('zero- and three-decimal currencies: JPY balance equals its minor units, BHD has three decimals', async () => {
    const yenOrg = await createOrganization(app);
    await setOrganizationCurrency(yenOrg, 'JPY');
    const yen = await createCode({ currency: 'JPY', amount_in_cents: 1500 });
    assert.equal(yen.amount, 1500);
    const result = await redeem(yenOrg, yen.code);
    assert.equal(result.status, 200, result.text);
    assert.equal(result.body.currency_code, 'JPY');
    assert.equal(result.body.balance_in_cents, 1500);
    assert.equal(result.body.balance, 1500);
    const statement = await credits(yenOrg);
    assert.equal(statement.body.balance, statement.body.balance_in_cents);
    assert.equal(statement.body.entries[0].amount, 1500);

    const dinarOrg = await createOrganization(app);
    await setOrganizationCurrency(dinarOrg, 'BHD');
    const dinar = await createCode({ currency: 'BHD', amount_in_cents: 12345 });
    const dinarResult = await redeem(dinarOrg, dinar.code);
    assert.equal(dinarResult.status, 200);
    assert.equal(dinarResult.body.balance, 12.345);
  });

  test('roles: owner, admin and billing may redeem; a member gets 403; a non-member and an unknown organization 404', async () => {
    const org = await createOrganization(app);
    const stranger = await createOrganization(app);
    for (const role of ['owner', 'admin', 'billing'] as const) {
      const code = await createCode({ amount_in_cents: 100 });
      const result = await redeem(org, code.code, org[role]);
      assert.equal(result.status, 200, `${role}: ${result.text}`);
    }
    const code = await createCode();
    const asMember = await redeem(org, code.code, org.member);
    assert.equal(asMember.status, 403);
    assert.equal(asMember.body.error, 'forbidden');
    const asStranger = await redeem(org, code.code, stranger.owner);
    assert.equal(asStranger.status, 404);
    // A non-member learns nothing about codes either: an unknown code is also a 404.
    assert.equal((await redeem(org, 'NO-SUCH-CODE', stranger.owner)).status, 404);
    const unknownOrg = await http(app, 'POST', '/organization/00000000-0000-4000-8000-000000000000/creditCode', {
      headers: org.owner,
      body: { code: code.code },
    });
    assert.equal(unknownOrg.status, 404);
    assert.equal((await http(app, 'POST', `/organization/${org.id}/creditCode`, { body: { code: code.code } })).status, 401);
    const { rows } = await app.database.query<{ redemption_count: number }>('SELECT redemption_count FROM credit_codes WHERE id = $1', [code.id]);
    assert.equal(rows[0]!.redemption_count, 0, 'refused callers used nothing');
    assert.equal((await credits(org)).body.balance_in_cents, 300);
  });

  test('bad bodies: missing code, wrong types, unknown fields, malformed JSON, oversize', async () => {
    const org = await createOrganization(app);
    const path = `/organization/${org.id}/creditCode`;
    const missing = await http(app, 'POST', path, { headers: org.owner, body: {} });
    assert.equal(missing.status, 400);
    assert.deepEqual(missing.body.fields.map((f: { field: string }) => f.field), ['code']);
    const blank = await http(app, 'POST', path, { headers: org.owner, body: { code: '   ' } });
    assert.equal(blank.status, 400);
    assert.deepEqual(blank.body.fields.map((f: { field: string }) => f.field), ['code']);
    for (const body of [{ code: 42 }, { code: null }, { code: ['ABC'] }, { code: 'ABC', amount: 100 }, 'null', '"ABC"']) {
      const result = await http(app, 'POST', path, { headers: org.owner, body });
      assert.equal(result.status, 400, `${JSON.stringify(body)}: ${result.text}`);
      assert.equal(result.body.error, 'validation_error', JSON.stringify(body));
    }
    const malformed = await http(app, 'POST', path, { headers: org.owner, body: '{"code":' });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.error, 'malformed_json');
    const tooLong = await http(app, 'POST', path, { headers: org.owner, body: { code: 'A'.repeat(256) } });
    assert.equal(tooLong.status, 400);
    const oversize = await http(app, 'POST', path, { headers: org.owner, body: { code: 'A'.repeat(70 * 1024) } });
    assert.equal(oversize.status, 413);
    assert.equal((await ledgerRows('organization_id = $1', [org.id])).length, 0);
  });

  test(`concurrent redemptions of a single-use code by 10 organizations: exactly one succeeds (${usingPostgres ? 'PostgreSQL' : 'PGlite'})`, async () => {
    const code = await createCode({ max_redemptions: 1, amount_in_cents: 999 });
    const organizations = await Promise.all(Array.from({ length: 10 }, () => createOrganization(app)));
    const results = await Promise.all(organizations.map((org) => redeem(org, code.code)));
    const statuses = results.map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 400, 400, 400, 400, 400, 400, 400, 400, 400], JSON.stringify(results.map((r) => r.body)));
    for (const result of results.filter((r) => r.status === 400)) assert.equal(result.body.error, 'credit_code_exhausted');
    const winner = organizations[results.findIndex((r) => r.status === 200)]!;
    const rows = await ledgerRows("reason = 'credit_code' AND reference = $1", [code.id]);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.organization_id, winner.id);
    assert.equal(rows[0]!.amount_minor, 999n);
    const counted = await app.database.query<{ redemption_count: number; redemptions: bigint }>(
      'SELECT redemption_count, (SELECT count(*) FROM credit_code_redemptions WHERE credit_code_id = $1)::int8 AS redemptions FROM credit_codes WHERE id = $1',
      [code.id],
    );
    assert.equal(counted.rows[0]!.redemption_count, 1);
    assert.equal(counted.rows[0]!.redemptions, 1n);
  });

  test('concurrent redemptions of one code by the same organization: one succeeds, the others 409', async () => {
    const org = await createOrganization(app);
    const code = await createCode({ amount_in_cents: 300 });
    const results = await Promise.all(Array.from({ length: 6 }, () => redeem(org, code.code)));
    assert.deepEqual(results.map((r) => r.status).sort(), [200, 409, 409, 409, 409, 409]);
    for (const result of results.filter((r) => r.status === 409)) assert.equal(result.body.error, 'credit_code_already_redeemed');
    assert.equal((await credits(org)).body.balance_in_cents, 300);
    const { rows } = await app.database.query<{ redemption_count: number }>('SELECT redemption_count FROM credit_codes WHERE id = $1', [code.id]);
    assert.equal(rows[0]!.redemption_count, 1);
  });
});

describe('Idempotency-Key on POST creditCode', () => {
  const redeemWithKey = (org: OrganizationFixture, code: string, key: string, headers = org.owner) =>
    http(app, 'POST', `/organization/${org.id}/creditCode`, { headers: { ...headers, 'idempotency-key': key }, body: { code } });

  test('a retry with the same key and body answers the first 200 and credits once', async () => {
    const org = await createOrganization(app);
    const code = await createCode({ amount_in_cents: 4200 });
    const key = randomBytes(8).toString('hex');
    const first = await redeemWithKey(org, code.code, key);
    assert.equal(first.status, 200, first.text);
    const retry = await redeemWithKey(org, code.code, key);
    assert.equal(retry.status, 200, retry.text);
    assert.equal(retry.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(retry.body, first.body);
    assert.equal((await credits(org)).body.balance_in_cents, 4200);
    assert.equal((await ledgerRows('organization_id = $1', [org.id])).length, 1);
    // Without the key, the second redemption is refused rather than credited again.
    assert.equal((await redeem(org, code.code)).status, 409);
  });

  test('the same key with another body is a 422; a failed attempt can be retried with its key', async () => {
    const org = await createOrganization(app);
    const code = await createCode();
    const key = randomBytes(8).toString('hex');
    assert.equal((await redeemWithKey(org, code.code, key)).status, 200);
    const reused = await redeemWithKey(org, (await createCode()).code, key);
    assert.equal(reused.status, 422);
    assert.equal(reused.body.error, 'idempotency_key_reused');

    const later = uniqueCode('LATER');
    const otherKey = randomBytes(8).toString('hex');
    const early = await redeemWithKey(org, later, otherKey);
    assert.equal(early.body.error, 'credit_code_not_found');
    await createCode({ code: later });
    const retried = await redeemWithKey(org, later, otherKey);
    assert.equal(retried.status, 200, retried.text);
    assert.equal(retried.headers.get('idempotent-replayed'), null);
  });

  test('a key does not open the door to members or strangers, and a bad key is a 400', async () => {
    const org = await createOrganization(app);
    const stranger = await createOrganization(app);
    const code = await createCode();
    assert.equal((await redeemWithKey(org, code.code, 'k-member', org.member)).status, 403);
    assert.equal((await redeemWithKey(org, code.code, 'k-stranger', stranger.owner)).status, 404);
    assert.equal((await redeemWithKey(org, code.code, 'k'.repeat(256))).status, 400);
    assert.equal((await ledgerRows('organization_id = $1', [org.id])).length, 0);
  });

  test('an operator naming an organization that does not exist gets a 404, with a key as without', async () => {
    const code = await createCode();
    const missing = { id: randomUUID() } as OrganizationFixture;
    const withKey = await redeemWithKey(missing, code.code, 'k-operator', app.admin);
    assert.equal(withKey.status, 404, withKey.text);
    assert.equal(withKey.body.error, 'not_found');
    const withoutKey = await http(app, 'POST', `/organization/${missing.id}/creditCode`, { headers: app.admin, body: { code: code.code } });
    assert.equal(withoutKey.status, 404, withoutKey.text);
  });
});

describe('GET /organization/{organizationId}/credits', () => {
  test('an organization with no credits has a zero balance in its currency', async () => {
    const org = await createOrganization(app);
    const result = await credits(org, org.billing);
    assert.equal(result.status, 200);
    assert.deepEqual(result.body, { currency_code: 'USD', balance_in_cents: 0, balance: 0, entries: [] });
  });

  test('the balance is the sum of the ledger, uses included; ?limit bounds the entries, not the balance', async () => {
    const org = await createOrganization(app);
    for (const amount of [1000, 2000, 3000]) assert.equal((await redeem(org, (await createCode({ amount_in_cents: amount })).code)).status, 200);
    // A use of credits as the invoicing code writes it.
    await app.database.query(
      `INSERT INTO credit_ledger_entries (id, organization_id, amount_minor, currency, reason, reference, description, created_at)
       VALUES ('00000000-0000-4000-8000-00000000c0de', $1, -1500, 'USD', 'invoice', 'INV-1', 'Credits applied to invoice INV-1', $2)`,
      [org.id, start],
    );
    const full = await credits(org);
    assert.equal(full.body.balance_in_cents, 4500);
    assert.equal(full.body.balance, 45);
    assert.equal(full.body.entries.length, 4);
    assert.deepEqual(full.body.entries[0], {
      id: '00000000-0000-4000-8000-00000000c0de',
      amount_in_cents: -1500,
      amount: -15,
      currency_code: 'USD',
      reason: 'invoice',
      reference: 'INV-1',
      description: 'Credits applied to invoice INV-1',
      created_at: start.toISOString(),
    });
    const limited = await credits(org, org.owner, '?limit=2');
    assert.equal(limited.status, 200);
    assert.deepEqual(limited.body.entries.map((e: { amount_in_cents: number }) => e.amount_in_cents), [-1500, 3000]);
    assert.equal(limited.body.balance_in_cents, 4500);
    for (const query of ['?limit=abc', '?limit=-1', '?other=1']) assert.equal((await credits(org, org.owner, query)).status, 400, query);
  });

  test("another organization cannot see the ledger (404); a member gets 403", async () => {
    const org = await createOrganization(app);
    const stranger = await createOrganization(app);
    assert.equal((await redeem(org, (await createCode()).code)).status, 200);
    const asStranger = await credits(org, stranger.owner);
    assert.equal(asStranger.status, 404);
    assert.doesNotMatch(asStranger.text, /balance/);
    const tokenOfStranger = await http(app, 'POST', `/admin/organizations/${stranger.id}/api-tokens`, {
      headers: app.admin,
      body: { name: 'ci', role: 'owner' },
    });
    assert.equal((await credits(org, { authorization: `Token ${tokenOfStranger.body.token}` })).status, 404);
    assert.equal((await credits(org, org.member)).status, 403);
    assert.equal((await credits(org, org.admin)).status, 200);
    assert.equal((await credits(stranger, stranger.owner)).body.entries.length, 0);
  });

  test('the OpenAPI document describes both endpoints', async () => {
    const spec = (await http(app, 'GET', '/openapi.json')).body;
    assert.equal(spec.paths['/organization/{organizationId}/credits'].get.operationId, 'getOrganizationCredits');
    assert.equal(spec.paths['/organization/{organizationId}/creditCode'].post.operationId, 'addCreditCode');
    const schema = spec.paths['/organization/{organizationId}/credits'].get.responses['200'].content['application/json'].schema;
    assert.deepEqual(Object.keys(schema.properties).sort(), ['balance', 'balance_in_cents', 'currency_code', 'entries']);
    assert.ok(spec.paths['/admin/credit-codes'].post);
    assert.ok(spec.paths['/admin/credit-codes/{creditCodeId}/disable'].post);
  });
});
