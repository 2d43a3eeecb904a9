import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { systemClock, type Clock } from '../../src/clock.js';
import type { AttachedPaymentMethod, CardInput } from '../../src/providers/payments/payment-provider.js';
import { SandboxPaymentProvider } from '../../src/providers/payments/sandbox-payment-provider.js';
import { auditEvents, createOrganization, http, mintJwt, startTestApp, type OrganizationFixture, type TestApp } from '../support/test-app.js';

/** The sandbox provider with a memory of what Bursar asked of it, and switches to make it misbehave. */
class RecordingSandbox extends SandboxPaymentProvider {
  readonly attached: AttachedPaymentMethod[] = [];
  readonly detached: string[] = [];
  /** When set, the attach answer is altered (e.g. a last4 the database refuses, so that the local write fails). */
  alterAttached: ((attached: AttachedPaymentMethod) => AttachedPaymentMethod) | null = null;
  failDetaches = 0;
  attachDelayMs = 0;

  constructor(clockHolder: { clock: Clock }) {
    super({ fingerprintSecret: 'recording-sandbox-fingerprint-secret', clock: { now: () => clockHolder.clock.now() } });
  }

  override async attachPaymentMethod(customerReference: string, card: CardInput): Promise<AttachedPaymentMethod> {
    if (this.attachDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.attachDelayMs));
    const attached = await super.attachPaymentMethod(customerReference, card);
    this.attached.push(attached);
    return this.alterAttached ? this.alterAttached(attached) : attached;
  }

  override async detachPaymentMethod(paymentMethodReference: string): Promise<void> {
    if (this.failDetaches > 0) {
      this.failDetaches -= 1;
      throw new Error('sandbox detach failure switch');
    }
    await super.detachPaymentMethod(paymentMethodReference);
    this.detached.push(paymentMethodReference);
  }
}

const YEAR = new Date().getUTCFullYear();
const CVV = '123';

function card(number: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { number, cvv: CVV, expiry_month: 6, expiry_year: YEAR + 3, ...overrides };
}

let app: TestApp;
const clockHolder: { clock: Clock } = { clock: systemClock };
const provider = new RecordingSandbox(clockHolder);

before(async () => {
  app = await startTestApp({}, { payments: provider });
  clockHolder.clock = app.clock;
});
after(async () => {
  await app.close();
});
beforeEach(() => {
  app.clock.set(new Date());
  provider.alterAttached = null;
  provider.failDetaches = 0;
  provider.attachDelayMs = 0;
});

function cardsPath(org: OrganizationFixture): string {
  return `/organization/${org.id}/creditCard`;
}

async function addCard(org: OrganizationFixture, body: unknown, headers: Record<string, string> = {}) {
  return http(app, 'POST', cardsPath(org), { headers: { ...org.billing, ...headers }, body });
}

async function listCards(org: OrganizationFixture): Promise<any[]> {
  // A JWT valid for years, so that tests may move the clock far ahead.
  const owner = { authorization: `Bearer ${await mintJwt(`owner-${org.id}`, { org_id: org.id }, { expiresIn: '20y' })}` };
  const listed = await http(app, 'GET', cardsPath(org), { headers: owner });
  assert.equal(listed.status, 200, listed.text);
  return listed.body.results;
}

async function rowCount(table: string, organizationId: string): Promise<number> {
  const { rows } = await app.database.query<{ count: bigint }>(`SELECT count(*) AS count FROM ${table} WHERE organization_id = $1`, [organizationId]);
  return Number(rows[0]!.count);
}

function fieldsOf(body: any): string[] {
  return (body.fields ?? []).map((f: { field: string }) => f.field).sort();
}

describe('adding a card', () => {
  test('by number: 201 with the card, stored without number or CVV, first card is the default, audited', async () => {
    const org = await createOrganization(app);
    const added = await addCard(org, card('4242 4242 4242 4242'));
    assert.equal(added.status, 201, added.text);
    assert.match(added.body.id, /^[0-9a-f-]{36}$/);
    assert.equal(added.body.last_digit, '4242');
    assert.equal(added.body.brand, 'visa');
    assert.equal(added.body.expiry_month, 6);
    assert.equal(added.body.expiry_year, YEAR + 3);
    assert.equal(added.body.is_expired, false);
    assert.ok(!Number.isNaN(Date.parse(added.body.created_at)));
    assert.deepEqual(Object.keys(added.body).sort(), ['brand', 'created_at', 'expiry_month', 'expiry_year', 'id', 'is_default', 'is_expired', 'last_digit']);
    assert.equal(added.body.is_default, true, 'the first card is the default');

    const { rows } = await app.database.query<Record<string, unknown>>('SELECT * FROM payment_methods WHERE organization_id = $1', [org.id]);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.is_default, true);
    assert.equal(rows[0]!.provider, 'sandbox');
    assert.equal(rows[0]!.last4, '4242');
    assert.ok(!JSON.stringify(rows[0], (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)).includes('4242424242424242'));

    const events = await auditEvents(app, org.id);
    const event = events.find((e) => e.type === 'PAYMENT_METHOD_ADD');
    assert.ok(event, 'PAYMENT_METHOD_ADD recorded');
    assert.equal(event.changes.creditCardId, added.body.id);
    assert.equal(event.changes.last4, '4242');
    assert.equal(event.changes.isDefault, true);
  });

  test('by token: the number, CVV and expiry may be left out', async () => {
    const org = await createOrganization(app);
    const added = await addCard(org, { token: 'tok_mastercard' });
    assert.equal(added.status, 201, added.text);
    assert.equal(added.body.brand, 'mastercard');
    assert.equal(added.body.last_digit, '4444');
  });

  test('a client generated from the reference schema sends every field with a token: the token wins', async () => {
    const org = await createOrganization(app);
    const added = await addCard(org, { number: '', cvv: '', expiry_month: 0, expiry_year: 0, token: 'tok_amex' });
    assert.equal(added.status, 201, added.text);
    assert.equal(added.body.brand, 'amex');
    assert.equal(added.body.last_digit, '0005');
  });

  test('token null with the card fields uses the card fields', async () => {
    const org = await createOrganization(app);
    const added = await addCard(org, { ...card('5555555555554444'), token: null });
    assert.equal(added.status, 201, added.text);
    assert.equal(added.body.last_digit, '4444');
  });

  test('owner and admin may add cards too', async () => {
    const org = await createOrganization(app);
    assert.equal((await http(app, 'POST', cardsPath(org), { headers: org.owner, body: { token: 'tok_visa' } })).status, 201);
    assert.equal((await http(app, 'POST', cardsPath(org), { headers: org.admin, body: { token: 'tok_mastercard' } })).status, 201);
  });

  test('the card that attaches but fails every charge is accepted (4000 0000 0000 0341)', async () => {
    const org = await createOrganization(app);
    const added = await addCard(org, card('4000000000000341'));
    assert.equal(added.status, 201, added.text);
  });

  test('the same card twice: one row, the stored card answered, the duplicate detached at the provider', async () => {
    const org = await createOrganization(app);
    const first = await addCard(org, card('4242424242424242'));
    assert.equal(first.status, 201);
    const second = await addCard(org, card('4242-4242-4242-4242', { expiry_month: 6 }));
    assert.equal(second.status, 201, second.text);
    assert.equal(second.body.id, first.body.id);
    assert.equal(await rowCount('payment_methods', org.id), 1);
    const duplicateReference = provider.attached.at(-1)!.providerReference;
    await app.app.context.jobs.runUntilIdle();
    assert.ok(provider.detached.includes(duplicateReference), 'the duplicate provider-side method is detached');
    const adds = (await auditEvents(app, org.id)).filter((e) => e.type === 'PAYMENT_METHOD_ADD');
    assert.equal(adds.length, 1);
  });

  test('the same card added twice at once: one row, both answer it, one provider-side method detached', async () => {
    const org = await createOrganization(app);
    provider.attachDelayMs = 50;
    const [a, b] = await Promise.all([addCard(org, card('4242424242424242')), addCard(org, card('4242424242424242'))]);
    assert.equal(a.status, 201);
    assert.equal(b.status, 201);
    assert.equal(a.body.id, b.body.id);
    assert.equal(await rowCount('payment_methods', org.id), 1);
    const references = provider.attached.slice(-2).map((m) => m.providerReference);
    await app.app.context.jobs.runUntilIdle();
    assert.equal(references.filter((r) => provider.detached.includes(r)).length, 1);
  });

  test('the same card in two organizations is two cards', async () => {
    const one = await createOrganization(app);
    const two = await createOrganization(app);
    const a = await addCard(one, card('4242424242424242'));
    const b = await addCard(two, card('4242424242424242'));
    assert.equal(a.status, 201);
    assert.equal(b.status, 201);
    assert.notEqual(a.body.id, b.body.id);
  });

  test('a local write failing after the provider attached the card undoes the attach', async () => {
    const org = await createOrganization(app);
    provider.alterAttached = (attached) => ({ ...attached, last4: 'x' }); // violates the last4 CHECK
    const added = await addCard(org, card('6011111111111117'));
    assert.equal(added.status, 500);
    assert.equal(added.body.error, 'internal_error');
    assert.equal(await rowCount('payment_methods', org.id), 0);
    assert.ok(provider.detached.includes(provider.attached.at(-1)!.providerReference));
    assert.equal((await auditEvents(app, org.id)).filter((e) => e.type === 'PAYMENT_METHOD_ADD').length, 0);
  });

  test('an undo that fails at the provider is retried through the job queue', async () => {
    const org = await createOrganization(app);
    provider.alterAttached = (attached) => ({ ...attached, last4: 'x' });
    provider.failDetaches = 1;
    const added = await addCard(org, card('6011111111111117'));
    assert.equal(added.status, 500);
    const reference = provider.attached.at(-1)!.providerReference;
    assert.ok(!provider.detached.includes(reference));
    await app.app.context.jobs.runUntilIdle();
    assert.ok(provider.detached.includes(reference));
  });

  test('is_expired is decided when the card is read', async () => {
    const org = await createOrganization(app);
    const added = await addCard(org, card('4242424242424242', { expiry_month: 1, expiry_year: YEAR + 1 }));
    assert.equal(added.body.is_expired, false);
    app.clock.set(new Date(Date.UTC(YEAR + 1, 1, 1))); // 1 February of the expiry year
    const [listed] = await listCards(org);
    assert.equal(listed.id, added.body.id);
    assert.equal(listed.is_expired, true);
    app.clock.set(new Date(Date.UTC(YEAR + 1, 0, 31, 23, 59)));
    assert.equal((await listCards(org))[0].is_expired, false);
  });
});

describe('bad input answers 400 naming the field, before the provider is called', () => {
  let org: OrganizationFixture;
  before(async () => {
    org = await createOrganization(app);
  });

  async function rejected(body: unknown, fields: string[], code?: string) {
    const attachedBefore = provider.attached.length;
    const result = await addCard(org, body);
    assert.equal(result.status, 400, result.text);
    if (code) assert.equal(result.body.error, code);
    assert.deepEqual(fieldsOf(result.body), fields);
    assert.equal(provider.attached.length, attachedBefore, 'the provider was not called');
    return result;
  }

  test('a number failing the Luhn check', async () => {
    const result = await rejected(card('4242424242424241'), ['number'], 'invalid_card');
    assert.ok(!result.text.includes('4242424242424241'));
  });
  test('a number of no known brand', async () => {
    await rejected(card('1234567890123'), ['number'], 'invalid_card');
  });
  test('letters in the number', async () => {
    await rejected(card('4242abcd42424242'), ['number'], 'invalid_card');
  });
  test('month 13 and month 0', async () => {
    await rejected(card('4242424242424242', { expiry_month: 13 }), ['expiry_month'], 'invalid_card');
    await rejected(card('4242424242424242', { expiry_month: 0 }), ['expiry_month'], 'invalid_card');
  });
  test('a two-digit year', async () => {
    await rejected(card('4242424242424242', { expiry_year: 30 }), ['expiry_year'], 'invalid_card');
  });
  test('an expired card (last year; earlier this year by the clock)', async () => {
    await rejected(card('4242424242424242', { expiry_year: YEAR - 1 }), ['expiry_year'], 'invalid_card');
    app.clock.set(new Date(Date.UTC(YEAR, 5, 15)));
    await rejected(card('4242424242424242', { expiry_month: 5, expiry_year: YEAR }), ['expiry_month'], 'invalid_card');
    const stillValid = await addCard(org, card('4242424242424242', { expiry_month: 6, expiry_year: YEAR }));
    assert.equal(stillValid.status, 201, 'a card is valid through its expiry month');
  });
  test('a CVV of the wrong length (3 for Visa, 4 for Amex)', async () => {
    await rejected(card('4242424242424242', { cvv: '12' }), ['cvv'], 'invalid_card');
    await rejected(card('378282246310005', { cvv: '123' }), ['cvv'], 'invalid_card');
  });
  test('missing fields without a token: each one named', async () => {
    await rejected({}, ['cvv', 'expiry_month', 'expiry_year', 'number'], 'invalid_input');
    await rejected({ number: '4242424242424242', cvv: CVV }, ['expiry_month', 'expiry_year'], 'invalid_input');
    await rejected({ token: null, expiry_month: 6, expiry_year: YEAR + 1 }, ['cvv', 'number'], 'invalid_input');
  });
  test('wrong types', async () => {
    await rejected({ ...card('4242424242424242'), number: 4242424242424242 }, ['number'], 'validation_error');
    await rejected({ ...card('4242424242424242'), expiry_month: '6' }, ['expiry_month'], 'validation_error');
    await rejected({ ...card('4242424242424242'), expiry_year: 2030.5 }, ['expiry_year'], 'validation_error');
    await rejected({ token: 42 }, ['token'], 'validation_error');
    await rejected({ token: '' }, ['token'], 'validation_error');
  });
  test('an unknown field', async () => {
    await rejected({ ...card('4242424242424242'), holder: 'Forrest Gump' }, ['holder'], 'validation_error');
  });
  test('malformed JSON', async () => {
    const result = await addCard(org, '{"number": "4242424242424242", ');
    assert.equal(result.status, 400);
    assert.equal(result.body.error, 'malformed_json');
    assert.ok(!result.text.includes('4242424242424242'));
  });
  test('a body over 64 KiB answers 413', async () => {
    const result = await addCard(org, { ...card('4242424242424242'), padding: 'x'.repeat(70 * 1024) });
    assert.equal(result.status, 413);
    assert.equal(result.body.error, 'payload_too_large');
  });
  test('a malformed card id answers 400', async () => {
    const result = await http(app, 'DELETE', `${cardsPath(org)}/not-a-uuid`, { headers: org.owner });
    assert.equal(result.status, 400);
  });
});

describe('provider refusals answer 402 with a stable code', () => {
  const refusals: Array<[string, string]> = [
    ['4000000000000002', 'card_declined'],
    ['4000000000000069', 'expired_card'],
    ['4000000000000127', 'incorrect_cvc'],
    ['4000000000000119', 'processing_error'],
  ];
  for (const [number, code] of refusals) {
    test(`${number} → ${code}`, async () => {
      const org = await createOrganization(app);
      const result = await addCard(org, card(number));
      assert.equal(result.status, 402, result.text);
      assert.equal(result.body.error, code);
      assert.equal(typeof result.body.message, 'string');
      assert.ok(result.body.message.length > 0);
      assert.ok(!result.text.includes(number) && !result.text.includes(CVV));
      assert.equal(await rowCount('payment_methods', org.id), 0);
    });
  }
  test('a refused token → 402 too; an unknown token → incorrect_number', async () => {
    const org = await createOrganization(app);
    const declined = await addCard(org, { token: 'tok_chargeDeclined' });
    assert.equal(declined.status, 402);
    assert.equal(declined.body.error, 'card_declined');
    const unknown = await addCard(org, { token: 'tok_nothing_like_it' });
    assert.equal(unknown.status, 402);
    assert.equal(unknown.body.error, 'incorrect_number');
  });
});

describe('listing and deleting', () => {
  test('default first, then newest first; deleting the default promotes the most recent remaining card', async () => {
    const org = await createOrganization(app);
    const first = await addCard(org, card('4242424242424242'));
    app.clock.set(new Date(Date.now() + 60_000));
    const second = await addCard(org, card('5555555555554444'));
    app.clock.set(new Date(Date.now() + 120_000));
    const third = await addCard(org, card('378282246310005', { cvv: '1234' }));
    assert.deepEqual((await listCards(org)).map((c) => c.id), [first.body.id, third.body.id, second.body.id]);

    const removed = await http(app, 'DELETE', `${cardsPath(org)}/${first.body.id}`, { headers: org.billing });
    assert.equal(removed.status, 204);
    assert.equal(removed.text, '');
    assert.deepEqual((await listCards(org)).map((c) => c.id), [third.body.id, second.body.id]);
    const { rows } = await app.database.query<{ id: string }>('SELECT id FROM payment_methods WHERE organization_id = $1 AND is_default', [org.id]);
    assert.deepEqual(rows.map((r) => r.id), [third.body.id]);

    const events = await auditEvents(app, org.id);
    const removal = events.find((e) => e.type === 'PAYMENT_METHOD_REMOVE');
    assert.ok(removal);
    assert.equal(removal.changes.creditCardId, first.body.id);
    assert.equal(removal.changes.wasDefault, true);
    assert.equal(removal.changes.promotedCreditCardId, third.body.id);

    // Deleting a card that is not the default leaves the default alone.
    assert.equal((await http(app, 'DELETE', `${cardsPath(org)}/${second.body.id}`, { headers: org.owner })).status, 204);
    assert.deepEqual((await listCards(org)).map((c) => c.id), [third.body.id]);
    assert.equal((await http(app, 'DELETE', `${cardsPath(org)}/${third.body.id}`, { headers: org.owner })).status, 204);
    assert.deepEqual(await listCards(org), []);
  });

  test('the provider-side detach runs after the commit, and its failure never brings the card back', async () => {
    await app.app.context.jobs.runUntilIdle(); // earlier tests' detaches, so that the failure switch hits this one
    const org = await createOrganization(app);
    const added = await addCard(org, card('4242424242424242'));
    const reference = provider.attached.at(-1)!.providerReference;
    provider.failDetaches = 1;
    assert.equal((await http(app, 'DELETE', `${cardsPath(org)}/${added.body.id}`, { headers: org.owner })).status, 204);
    await app.app.context.jobs.runUntilIdle();
    assert.ok(!provider.detached.includes(reference), 'first detach attempt failed');
    assert.deepEqual(await listCards(org), []);
    await app.app.context.jobs.runUntilIdle({ horizonSeconds: 3600 });
    assert.ok(provider.detached.includes(reference), 'the retry detached it');
    assert.deepEqual(await listCards(org), []);
  });

  test("another organization's card id and an unknown id answer 404 and change nothing", async () => {
    const mine = await createOrganization(app);
    const theirs = await createOrganization(app);
    const theirCard = await addCard(theirs, card('4242424242424242'));
    const result = await http(app, 'DELETE', `${cardsPath(mine)}/${theirCard.body.id}`, { headers: mine.owner });
    assert.equal(result.status, 404);
    assert.equal(result.body.error, 'not_found');
    const unknown = await http(app, 'DELETE', `${cardsPath(mine)}/00000000-0000-4000-8000-000000000000`, { headers: mine.owner });
    assert.equal(unknown.status, 404);
    assert.equal((await listCards(theirs)).length, 1);
    assert.deepEqual(await listCards(mine), []);
  });
});

describe('access', () => {
  let org: OrganizationFixture;
  let cardId: string;
  before(async () => {
    org = await createOrganization(app);
    cardId = (await addCard(org, card('4242424242424242'))).body.id;
  });

  test('a plain member gets 403 on every card route', async () => {
    assert.equal((await http(app, 'GET', cardsPath(org), { headers: org.member })).status, 403);
    const attachedBefore = provider.attached.length;
    const post = await http(app, 'POST', cardsPath(org), { headers: org.member, body: card('5555555555554444') });
    assert.equal(post.status, 403);
    assert.equal(post.body.error, 'forbidden');
    assert.equal(provider.attached.length, attachedBefore);
    assert.equal((await http(app, 'DELETE', `${cardsPath(org)}/${cardId}`, { headers: org.member })).status, 403);
    assert.equal((await listCards(org)).length, 1);
    const keyed = await http(app, 'POST', cardsPath(org), { headers: { ...org.member, 'idempotency-key': 'member-key' }, body: card('5555555555554444') });
    assert.equal(keyed.status, 403);
    assert.equal(await rowCount('idempotency_keys', org.id), 0);
  });

  test('a non-member gets 404 on every card route, with or without an Idempotency-Key', async () => {
    const stranger = { authorization: `Bearer ${await mintJwt('stranger-user')}` };
    assert.equal((await http(app, 'GET', cardsPath(org), { headers: stranger })).status, 404);
    const attachedBefore = provider.attached.length;
    assert.equal((await http(app, 'POST', cardsPath(org), { headers: stranger, body: card('5555555555554444') })).status, 404);
    const keyed = await http(app, 'POST', cardsPath(org), { headers: { ...stranger, 'idempotency-key': 'stranger-key' }, body: card('5555555555554444') });
    assert.equal(keyed.status, 404);
    assert.equal(await rowCount('idempotency_keys', org.id), 0);
    assert.equal(provider.attached.length, attachedBefore);
    assert.equal((await http(app, 'DELETE', `${cardsPath(org)}/${cardId}`, { headers: stranger })).status, 404);
  });

  test('a billing manager removed after adding a card gets 404 on the next one, which stores nothing and is undone at the provider', async () => {
    const own = await createOrganization(app);
    assert.equal((await addCard(own, card('4242424242424242'))).status, 201);
    const removed = await http(app, 'DELETE', `/admin/organizations/${own.id}/members/billing-${own.id}`, { headers: app.admin });
    assert.ok(removed.status === 204 || removed.status === 200, removed.text);
    const attachedBefore = provider.attached.length;
    const again = await addCard(own, card('5555555555554444'));
    assert.equal(again.status, 404);
    assert.equal(await rowCount('payment_methods', own.id), 1);
    // The last add is remembered for a minute, so the card reached the provider; it was detached at once.
    assert.equal(provider.attached.length, attachedBefore + 1);
    assert.ok(provider.detached.includes(provider.attached.at(-1)!.providerReference));
    assert.equal((await auditEvents(app, own.id)).filter((e) => e.type === 'PAYMENT_METHOD_ADD').length, 1);
    // Forgotten with the refusal: the next try is refused before the provider.
    assert.equal((await addCard(own, card('378282246310005', { cvv: '1234' }))).status, 404);
    assert.equal(provider.attached.length, attachedBefore + 1);
  });

  test('no credentials answer 401', async () => {
    assert.equal((await http(app, 'GET', cardsPath(org))).status, 401);
    assert.equal((await http(app, 'POST', cardsPath(org), { body: card('5555555555554444') })).status, 401);
    assert.equal((await http(app, 'DELETE', `${cardsPath(org)}/${cardId}`)).status, 401);
    assert.equal((await listCards(org)).length, 1);
  });
});

describe('Idempotency-Key', () => {
  test('a retry with the same key and body answers the first response and creates one card', async () => {
    const org = await createOrganization(app);
    const headers = { 'idempotency-key': 'add-card-1' };
    const attachedBefore = provider.attached.length;
    const first = await addCard(org, card('4242424242424242'), headers);
    assert.equal(first.status, 201);
    assert.equal(first.headers.get('idempotent-replayed'), null);
    const retry = await addCard(org, { expiry_year: YEAR + 3, expiry_month: 6, cvv: CVV, number: '4242424242424242' }, headers);
    assert.equal(retry.status, 201);
    assert.deepEqual(retry.body, first.body);
    assert.equal(retry.headers.get('idempotent-replayed'), 'true');
    assert.equal(provider.attached.length, attachedBefore + 1, 'the provider was called once');
    assert.equal(await rowCount('payment_methods', org.id), 1);
    assert.equal((await auditEvents(app, org.id)).filter((e) => e.type === 'PAYMENT_METHOD_ADD').length, 1);

    const { rows } = await app.database.query<{ request_hash: string; response_status: number }>(
      'SELECT request_hash, response_status FROM idempotency_keys WHERE organization_id = $1',
      [org.id],
    );
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.response_status, 201);
    assert.match(rows[0]!.request_hash, /^[0-9a-f]{64}$/);
  });

  test('the same key with another body answers 422 idempotency_key_reused', async () => {
    const org = await createOrganization(app);
    const headers = { 'idempotency-key': 'add-card-2' };
    assert.equal((await addCard(org, card('4242424242424242'), headers)).status, 201);
    const reused = await addCard(org, card('5555555555554444'), headers);
    assert.equal(reused.status, 422);
    assert.equal(reused.body.error, 'idempotency_key_reused');
    assert.ok(!reused.text.includes('5555555555554444'));
    assert.equal(await rowCount('payment_methods', org.id), 1);
  });

  test('keys are scoped per organization', async () => {
    const one = await createOrganization(app);
    const two = await createOrganization(app);
    const headers = { 'idempotency-key': 'shared-key' };
    const a = await addCard(one, card('4242424242424242'), headers);
    const b = await addCard(two, card('4242424242424242'), headers);
    assert.equal(a.status, 201);
    assert.equal(b.status, 201);
    assert.notEqual(a.body.id, b.body.id);
    assert.equal(b.headers.get('idempotent-replayed'), null);
  });

  test('a refused request stores nothing: a retry with the same key runs again', async () => {
    const org = await createOrganization(app);
    const headers = { 'idempotency-key': 'declined-once' };
    const attachedBefore = provider.attached.length;
    const declined = await addCard(org, card('4000000000000002'), headers);
    assert.equal(declined.status, 402);
    assert.equal(await rowCount('idempotency_keys', org.id), 0);
    const again = await addCard(org, card('4242424242424242'), headers);
    assert.equal(again.status, 201);
    assert.equal(provider.attached.length, attachedBefore + 1);
  });

  test('two concurrent requests with the same key never both run', async () => {
    const org = await createOrganization(app);
    provider.attachDelayMs = 150;
    const headers = { 'idempotency-key': 'concurrent' };
    const attachedBefore = provider.attached.length;
    const results = await Promise.all([1, 2, 3].map(() => addCard(org, card('4242424242424242'), headers)));
    const statuses = results.map((r) => r.status).sort();
    assert.ok(statuses.includes(201), `one succeeded: ${statuses.join(',')}`);
    for (const result of results) {
      assert.ok(result.status === 201 || result.status === 409, `status ${result.status}`);
      if (result.status === 409) assert.equal(result.body.error, 'idempotency_request_in_progress');
    }
    assert.equal(provider.attached.length, attachedBefore + 1, 'the provider was called once');
    assert.equal(await rowCount('payment_methods', org.id), 1);
    const replay = await addCard(org, card('4242424242424242'), headers);
    assert.equal(replay.status, 201);
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
  });

  test('a claim of another body answers 422; a claim left by a crashed request answers 409, then is taken over once stale', async () => {
    const org = await createOrganization(app);
    const now = new Date();
    const claim = (key: string, hash: string) =>
      app.database.query(
        `INSERT INTO idempotency_keys (organization_id, scope, key, request_hash, response_status, response_body, created_at)
         VALUES ($1, 'creditCard.add', $2, $3, 102, NULL, $4)`,
        [org.id, key, hash, now],
      );
    await claim('other-body', 'a hash of some other body');
    assert.equal((await addCard(org, { token: 'tok_visa' }, { 'idempotency-key': 'other-body' })).status, 422);

    // The real hash of this request, learnt from a first run, then the claim put back as if that run had crashed.
    assert.equal((await addCard(org, { token: 'tok_visa' }, { 'idempotency-key': 'learn' })).status, 201);
    const { rows } = await app.database.query<{ request_hash: string }>(
      `SELECT request_hash FROM idempotency_keys WHERE organization_id = $1 AND key = 'learn'`,
      [org.id],
    );
    await app.database.query('DELETE FROM payment_methods WHERE organization_id = $1', [org.id]);
    await claim('crashed', rows[0]!.request_hash);

    const inProgress = await addCard(org, { token: 'tok_visa' }, { 'idempotency-key': 'crashed' });
    assert.equal(inProgress.status, 409);
    assert.equal(inProgress.body.error, 'idempotency_request_in_progress');
    assert.equal(await rowCount('payment_methods', org.id), 0);

    app.clock.set(new Date(now.getTime() + 11 * 60 * 1000));
    const takenOver = await addCard(org, { token: 'tok_visa' }, { 'idempotency-key': 'crashed' });
    assert.equal(takenOver.status, 201, takenOver.text);
    assert.equal(takenOver.headers.get('idempotent-replayed'), null);
    assert.equal(await rowCount('payment_methods', org.id), 1);
  });

  test('an over-long key answers 400', async () => {
    const org = await createOrganization(app);
    const result = await addCard(org, card('4242424242424242'), { 'idempotency-key': 'k'.repeat(256) });
    assert.equal(result.status, 400);
    assert.equal(await rowCount('payment_methods', org.id), 0);
  });
});
