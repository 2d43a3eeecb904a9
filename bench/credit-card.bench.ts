/**
 * POST /organization/{id}/creditCard under load (50 connections, JWT-authenticated, sandbox provider), every request
 * a real new card: a distinct valid card number per request, spread over many organizations whose provider customers
 * exist already and which have their first (default) card: what is measured is the steady state of a card added
 * beside a default one. Baseline: plain Fastify on the same database doing
 * the minimal equivalent, one INSERT of the card row and one audit INSERT in one transaction. A third figure adds an
 * Idempotency-Key to every Bursar request.
 */
import { createHash, randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import { ensureProviderCustomer } from '../src/billing/payment-methods/ensure-provider-customer.js';
import {
  compareUnderLoad,
  openBaselinePool,
  openBenchDatabase,
  round,
  startBenchApp,
  throughputFigures,
  warmUp,
  type BenchFigure,
  type RequestTemplate,
  seedOrganizations,
} from './support.js';

const ORGANIZATIONS = 1001;
/** Distinct cards per measured run: more than a 5 s run can send, so every request adds a card. */
const CARDS_PER_RUN = 15_000;
const WARM_UP_CARDS = 2_000;
const EXPIRY_YEAR = new Date().getUTCFullYear() + 3;


/** The Luhn check digit that makes `partial` + digit a valid card number. */
function luhnCheckDigit(partial: string): string {
  let sum = 0;
  for (let index = 0; index < partial.length; index += 1) {
    let digit = Number(partial[partial.length - 1 - index]);
    if (index % 2 === 0) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return String((10 - (sum % 10)) % 10);
}

/** Valid 16-digit Visa numbers, distinct across sets (two set digits, 0–99) and far from the sandbox's test numbers. */
function cardNumber(set: number, index: number): string {
  const partial = `4${String(set).padStart(2, '0')}${String(500_000_000_000 + index).padStart(12, '0')}`;
  return partial + luhnCheckDigit(partial);
}

function cardBody(number: string): string {
  return JSON.stringify({ number, cvv: '123', expiry_month: 12, expiry_year: EXPIRY_YEAR });
}

/** One request per template, a few at a time; throws on an answer other than 201. */
async function addFirstCards(baseUrl: string, requests: RequestTemplate[]): Promise<void> {
  const CONCURRENCY = 10;
  for (let start = 0; start < requests.length; start += CONCURRENCY) {
    await Promise.all(
      requests.slice(start, start + CONCURRENCY).map(async (request) => {
        const response = await fetch(baseUrl + request.path, { method: request.method, headers: request.headers, body: request.body });
        if (response.status !== 201) throw new Error(`first card answered ${response.status}: ${await response.text()}`);
      }),
    );
  }
}

export async function run(): Promise<BenchFigure[]> {
  const bench = await openBenchDatabase();
  const app = await startBenchApp(bench);
  const pool = openBaselinePool(bench);
  const baseline = Fastify({ logger: false });
  try {
    const organizations = await seedOrganizations(bench.database, ORGANIZATIONS, 'billing');
    // Provider customers exist already: the first card of an organization is not the common case.
    for (const organization of organizations) await ensureProviderCustomer(app.context, organization.id);

    baseline.post<{ Params: { id: string }; Body: { number: string; expiry_month: number; expiry_year: number } }>(
      '/baseline/:id/creditCard',
      async (request, reply) => {
        const { number, expiry_month: expiryMonth, expiry_year: expiryYear } = request.body;
        const id = randomUUID();
        const now = new Date();
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          await client.query(
            `INSERT INTO payment_methods (id, organization_id, provider, provider_reference, brand, last4, expiry_month, expiry_year,
                                          fingerprint, is_default, created_at)
             VALUES ($1, $2, 'baseline', $3, 'visa', $4, $5, $6, $7, false, $8)`,
            [id, request.params.id, `pm_${randomUUID()}`, number.slice(-4), expiryMonth, expiryYear, createHash('sha256').update(number).digest('hex'), now],
          );
          await client.query(
            `INSERT INTO audit_events (id, organization_id, type, actor_type, actor_id, surface, changes, request_id, created_at)
             VALUES ($1, $2, 'PAYMENT_METHOD_ADD', 'user', $3, 'baseline', $4, $5, $6)`,
            [randomUUID(), request.params.id, 'user', JSON.stringify({ creditCardId: id, last4: number.slice(-4) }), request.id, now],
          );
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK');
          throw error;
        } finally {
          client.release();
        }
        return reply.status(201).send({ id, last_digit: number.slice(-4), expiry_month: expiryMonth, expiry_year: expiryYear, brand: 'visa' });
      },
    );
    const baselineUrl = await baseline.listen({ port: 0, host: '127.0.0.1' });

    const real = (set: number, count: number, withKey = false): RequestTemplate[] =>
      Array.from({ length: count }, (_, index) => {
        const organization = organizations[index % organizations.length]!;
        return {
          method: 'POST',
          path: `/organization/${organization.id}/creditCard`,
          headers: {
            authorization: organization.authorization,
            'content-type': 'application/json',
            ...(withKey ? { 'idempotency-key': `bench-${set}-${index}` } : {}),
          },
          body: cardBody(cardNumber(set, index)),
        };
      });
    const plain = (set: number, count: number): RequestTemplate[] =>
      Array.from({ length: count }, (_, index) => ({
        method: 'POST',
        path: `/baseline/${organizations[index % organizations.length]!.id}/creditCard`,
        headers: { 'content-type': 'application/json' },
        body: cardBody(cardNumber(set, index)),
      }));

    // Every organization gets its first card before the measure (it becomes the default, and the billing status
    // moves on from NO_CREDIT_CARD): what is measured is a card added beside a default one, the steady state.
    await addFirstCards(app.baseUrl, real(0, organizations.length));
    await warmUp(app.baseUrl, real(1, WARM_UP_CARDS));
    await warmUp(baselineUrl, plain(2, WARM_UP_CARDS));
    // Alternating rounds (see compareUnderLoad), each with cards of its own: a card is added once.
    const figures = [
      ...(await compareUnderLoad(
        'POST creditCard',
        { url: app.baseUrl, requests: (round) => real(10 + round, CARDS_PER_RUN) },
        { url: baselineUrl, requests: (round) => plain(30 + round, CARDS_PER_RUN) },
      )),
      ...(await compareUnderLoad(
        'POST creditCard with Idempotency-Key',
        { url: app.baseUrl, requests: (round) => real(50 + round, CARDS_PER_RUN, true) },
        { url: baselineUrl, requests: (round) => plain(70 + round, CARDS_PER_RUN) },
      )),
    ];
    const stored = await bench.database.query<{ count: bigint }>("SELECT count(*)::int8 AS count FROM payment_methods WHERE provider = 'sandbox'");
    figures[0]!.note = [figures[0]!.note, `${stored.rows[0]!.count} cards stored (incl. first cards and warm-up)`].filter(Boolean).join('; ');
    return figures.map((figure) => ({ ...figure, ratio: round(figure.ratio) }));
  } finally {
    await baseline.close();
    await pool.end();
    await app.close();
    await bench.drop();
  }
}

