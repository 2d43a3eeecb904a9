/**
 * Card numbers and CVVs pass through Bursar once, to the provider: after adding cards every way we can (accepted,
 * duplicate, refused, invalid, with an Idempotency-Key, through the sandbox and the Stripe SDK), neither appears in any
 * row of any table, in any log line, or in any answer.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startStripeStandIn, type StripeStandIn } from '../fixtures/stripe-stand-in.js';
import { createOrganization, http, startTestApp, type TestApp } from '../support/test-app.js';

const YEAR = new Date().getUTCFullYear();

interface CardAttempt {
  number: string;
  cvv: string;
  expectedStatus: number;
}

// Distinct CVVs, so that each one can be looked for.
const ATTEMPTS: CardAttempt[] = [
  { number: '4242 4242 4242 4242', cvv: '857', expectedStatus: 201 },
  { number: '4242424242424242', cvv: '857', expectedStatus: 201 }, // the duplicate
  { number: '5555-5555-5555-4444', cvv: '639', expectedStatus: 201 },
  { number: '378282246310005', cvv: '7416', expectedStatus: 201 },
  { number: '6011111111111117', cvv: '593', expectedStatus: 201 },
  { number: '4000000000000002', cvv: '718', expectedStatus: 402 },
  { number: '4000000000000069', cvv: '826', expectedStatus: 402 },
  { number: '4000000000000127', cvv: '935', expectedStatus: 402 },
  { number: '4000000000000119', cvv: '684', expectedStatus: 402 },
  { number: '4242424242424241', cvv: '572', expectedStatus: 400 }, // fails the Luhn check
  { number: '4012888888881881', cvv: '46', expectedStatus: 400 }, // CVV too short
];

function digitsOf(number: string): string {
  return number.replace(/\D/g, '');
}

/** The CVV as a value of its own: not inside a longer run of digits, letters, ids, times or numbers. */
function cvvPattern(cvv: string): RegExp {
  return new RegExp(`(?<![0-9A-Za-z_.:+-])${cvv}(?![0-9A-Za-z_.:+-])`);
}

async function dumpDatabase(app: TestApp): Promise<Array<{ table: string; row: string }>> {
  const { rows: tables } = await app.database.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables
      WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
      ORDER BY table_name`,
  );
  assert.ok(tables.some((t) => t.table_name === 'payment_methods'), 'the dump sees the application tables');
  const dump: Array<{ table: string; row: string }> = [];
  for (const { table_name: table } of tables) {
    const quoted = `"${table.replace(/"/g, '""')}"`;
    const { rows } = await app.database.query<{ row: string }>(`SELECT t::text AS row FROM ${quoted} t`);
    for (const { row } of rows) dump.push({ table, row });
  }
  return dump;
}

/** Every string value inside a log line, however deep. */
function stringValues(value: unknown, into: string[] = []): string[] {
  if (typeof value === 'string') into.push(value);
  else if (Array.isArray(value)) for (const item of value) stringValues(item, into);
  else if (typeof value === 'object' && value !== null) for (const item of Object.values(value)) stringValues(item, into);
  return into;
}

async function addEveryCard(app: TestApp): Promise<string[]> {
  const org = await createOrganization(app);
  const answers: string[] = [];
  for (const [index, attempt] of ATTEMPTS.entries()) {
    const body = { number: attempt.number, cvv: attempt.cvv, expiry_month: 9, expiry_year: YEAR + 2 };
    // Every other request carries an Idempotency-Key, so that its stored hash is in the dump too; one is retried.
    const headers = index % 2 === 0 ? { ...org.billing, 'idempotency-key': `card-${index}` } : org.billing;
    const result = await http(app, 'POST', `/organization/${org.id}/creditCard`, { headers, body });
    assert.equal(result.status, attempt.expectedStatus, `${attempt.number.slice(-4)}: ${result.text}`);
    answers.push(result.text);
    if (index === 0) {
      const retry = await http(app, 'POST', `/organization/${org.id}/creditCard`, { headers, body });
      assert.equal(retry.headers.get('idempotent-replayed'), 'true');
      answers.push(retry.text);
      const reused = await http(app, 'POST', `/organization/${org.id}/creditCard`, { headers, body: { ...body, cvv: '111' } });
      assert.equal(reused.status, 422);
      answers.push(reused.text);
    }
  }
  const listed = await http(app, 'GET', `/organization/${org.id}/creditCard`, { headers: org.billing });
  assert.equal(listed.body.results.length, 4);
  answers.push(listed.text);
  await app.app.context.jobs.runUntilIdle();
  const first = listed.body.results[0];
  const removed = await http(app, 'DELETE', `/organization/${org.id}/creditCard/${first.id}`, { headers: org.billing });
  assert.equal(removed.status, 204);
  await app.app.context.jobs.runUntilIdle();
  return answers;
}

async function assertNoCardData(app: TestApp, answers: string[]): Promise<void> {
  const dump = await dumpDatabase(app);
  // Positive control: what may be stored (the last four digits) is found, so the search does look at the rows.
  assert.ok(dump.some((d) => d.table === 'payment_methods' && d.row.includes(',4444,')), 'cards were stored with their last four digits');
  assert.ok(dump.some((d) => d.table === 'idempotency_keys'), 'idempotency keys were stored');
  assert.ok(app.logs.length > 0, 'log lines were captured');
  const logValues = app.logs.flatMap((line) => stringValues(JSON.parse(line)));

  for (const attempt of ATTEMPTS) {
    const number = digitsOf(attempt.number);
    const forms = [...new Set([number, attempt.number])];
    for (const { table, row } of dump) {
      for (const form of forms) assert.ok(!row.includes(form), `card number ending ${number.slice(-4)} found in table ${table}`);
      assert.ok(!cvvPattern(attempt.cvv).test(row), `CVV of the card ending ${number.slice(-4)} found in table ${table}: ${row.slice(0, 200)}`);
    }
    for (const line of app.logs) {
      for (const form of forms) assert.ok(!line.includes(form), `card number ending ${number.slice(-4)} found in a log line`);
      assert.ok(!cvvPattern(attempt.cvv).test(line), `CVV found in a log line: ${line.slice(0, 200)}`);
    }
    assert.ok(!logValues.includes(attempt.cvv), 'CVV as a logged value');
    for (const answer of answers) {
      for (const form of forms) assert.ok(!answer.includes(form), `card number ending ${number.slice(-4)} in an answer`);
      assert.ok(!cvvPattern(attempt.cvv).test(answer), `CVV in an answer: ${answer}`);
    }
  }
}

describe('sandbox provider', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp();
  });
  after(async () => {
    await app.close();
  });

  test('no card number or CVV in the database, the logs or the answers', async () => {
    const answers = await addEveryCard(app);
    await assertNoCardData(app, answers);
  });
});

describe('Stripe provider (real SDK, local stand-in)', () => {
  let app: TestApp;
  let standIn: StripeStandIn;
  before(async () => {
    standIn = await startStripeStandIn();
    app = await startTestApp({ PAYMENT_PROVIDER: 'stripe', STRIPE_SECRET_KEY: 'sk_test_x', STRIPE_API_BASE_URL: standIn.url });
  });
  after(async () => {
    await app.close();
    await standIn.close();
  });

  test('no card number or CVV in the database, the logs or the answers', async () => {
    const answers = await addEveryCard(app);
    await assertNoCardData(app, answers);
  });
});
