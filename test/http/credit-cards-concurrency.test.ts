/**
 * Adding a card writes without the organization lock (one guarded statement; the unique indexes keep the rules), so
 * adds and deletes racing on one organization must still leave exactly one default card, and nobody a 500 or a 409.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createOrganization, http, startTestApp, type OrganizationFixture, type TestApp } from '../support/test-app.js';

let app: TestApp;
before(async () => {
  app = await startTestApp();
});
after(async () => {
  await app.close();
});

/** Valid, distinct Visa numbers far from the sandbox's test numbers. */
function cardNumber(index: number): string {
  const partial = `4${String(7_000_000_000_000 + index).padStart(14, '0')}`;
  let sum = 0;
  for (let position = 0; position < partial.length; position += 1) {
    let digit = Number(partial[partial.length - 1 - position]);
    if (position % 2 === 0) digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
    sum += digit;
  }
  return partial + String((10 - (sum % 10)) % 10);
}

const EXPIRY_YEAR = new Date().getUTCFullYear() + 3;

function addCard(org: OrganizationFixture, index: number) {
  return http(app, 'POST', `/organization/${org.id}/creditCard`, {
    headers: org.billing,
    body: { number: cardNumber(index), cvv: '123', expiry_month: 6, expiry_year: EXPIRY_YEAR },
  });
}

test('adds and deletes at once on one organization leave exactly one default card', async () => {
  for (let round = 0; round < 8; round += 1) {
    const org = await createOrganization(app);
    const base = round * 100;
    const firstCards = await Promise.all([0, 1, 2, 3, 4].map((index) => addCard(org, base + index)));
    for (const added of firstCards) assert.equal(added.status, 201, added.text);

    const listed = await http(app, 'GET', `/organization/${org.id}/creditCard`, { headers: org.billing });
    const ids: string[] = listed.body.results.map((card: { id: string }) => card.id);
    // The default and the newest cards go (each deletion promotes the next) while new cards, one of them twice, come.
    const answers = await Promise.all([
      ...ids.slice(0, 3).map((id) => http(app, 'DELETE', `/organization/${org.id}/creditCard/${id}`, { headers: org.billing })),
      addCard(org, base + 10),
      addCard(org, base + 11),
      addCard(org, base + 11),
      addCard(org, base + 1),
    ]);
    for (const answer of answers) assert.ok(answer.status === 201 || answer.status === 204, `${answer.status} ${answer.text}`);

    const { rows } = await app.database.query<{ cards: bigint; defaults: bigint }>(
      `SELECT count(*)::int8 AS cards, count(*) FILTER (WHERE is_default)::int8 AS defaults FROM payment_methods WHERE organization_id = $1`,
      [org.id],
    );
    // Card 1 may be deleted before or after it is added again: 4 or 5 cards.
    assert.ok(rows[0]!.cards >= 4n);
    assert.equal(rows[0]!.defaults, 1n);
  }
});
