/**
 * POST /organization/{id}/creditCode under load (50 connections, JWT-authenticated), every request a real redemption:
 * multi-use codes × organizations, each (code, organization) pair sent once, consecutive requests on different codes
 * and different organizations. Baseline: plain Fastify on the same database doing the minimal equivalent in one
 * transaction (conditional UPDATE of the counter, INSERT ledger row, INSERT redemption). A third figure adds an
 * Idempotency-Key to every Bursar request.
 */
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import type { Database } from '../src/db/database.js';
import {
  compareUnderLoad,
  openBaselinePool,
  openBenchDatabase,
  round,
  startBenchApp,
  warmUp,
  type BenchFigure,
  type RequestTemplate,
  seedOrganizations,
  type BenchOrganization,
} from './support.js';

// 1001 and the code counts below share no factor, so pair j = (code j mod K, organization j mod 1001) is unique
// for j < K × 1001: 15 015 distinct redemptions per measured round, more than a 5 s round can send.
const ORGANIZATIONS = 1001;
const MEASURED_CODES = 15;
const WARM_UP_CODES = 4;
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));


export async function run(): Promise<BenchFigure[]> {
  const bench = await openBenchDatabase();
  const app = await startBenchApp(bench);
  const pool = openBaselinePool(bench);
  const baseline = Fastify({ logger: false });
  try {
    const organizations = await seedOrganizations(bench.database, ORGANIZATIONS);
    const codeSet = (name: string, count: number) => seedCodes(bench.database, name, count);
    // Each round redeems codes of its own (a code is redeemed once per organization): see compareUnderLoad.
    const roundCodes = async (name: string) => {
      const sets: string[][] = [];
      for (let round = 0; round < ROUNDS; round += 1) sets.push(await codeSet(`${name}${round}`, MEASURED_CODES));
      return sets;
    };
    const realWarmCodes = await codeSet('RW', WARM_UP_CODES);
    const baselineWarmCodes = await codeSet('BW', WARM_UP_CODES);
    const [realCodes, keyedCodes, baselineCodes, keyedBaselineCodes] = [
      await roundCodes('R'),
      await roundCodes('K'),
      await roundCodes('B'),
      await roundCodes('BK'),
    ];

    baseline.post<{ Params: { id: string }; Body: { code: string } }>('/baseline/:id/creditCode', async (request, reply) => {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const taken = await client.query<{ id: string; amount_minor: string; currency: string }>(
          `UPDATE credit_codes SET redemption_count = redemption_count + 1
            WHERE code = $1 AND disabled_at IS NULL
              AND (max_redemptions IS NULL OR redemption_count < max_redemptions)
              AND (expires_at IS NULL OR expires_at > $2)
            RETURNING id, amount_minor, currency`,
          [request.body.code.toUpperCase(), new Date()],
        );
        const code = taken.rows[0];
        if (!code) {
          await client.query('ROLLBACK');
          return reply.status(400).send({ error: 'credit_code_exhausted' });
        }
        const entryId = randomUUID();
        await client.query(
          `INSERT INTO credit_ledger_entries (id, organization_id, amount_minor, currency, reason, reference, description, created_at)
           VALUES ($1, $2, $3, $4, 'credit_code', $5, 'Credit code', now())`,
          [entryId, request.params.id, code.amount_minor, code.currency, code.id],
        );
        await client.query(
          'INSERT INTO credit_code_redemptions (credit_code_id, organization_id, ledger_entry_id, redeemed_at) VALUES ($1, $2, $3, now())',
          [code.id, request.params.id, entryId],
        );
        await client.query('COMMIT');
        return { amount_in_cents: Number(code.amount_minor) };
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      } finally {
        client.release();
      }
    });
    const baselineUrl = await baseline.listen({ port: 0, host: '127.0.0.1' });

    const real = (codes: string[], withKey = false) =>
      pairs(codes, organizations, (code, organization, index) => ({
        method: 'POST',
        path: `/organization/${organization.id}/creditCode`,
        headers: {
          authorization: organization.authorization,
          'content-type': 'application/json',
          ...(withKey ? { 'idempotency-key': `bench-${code}-${index}` } : {}),
        },
        body: JSON.stringify({ code }),
      }));
    const plain = (codes: string[]) =>
      pairs(codes, organizations, (code, organization) => ({
        method: 'POST',
        path: `/baseline/${organization.id}/creditCode`,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ code }),
      }));

    await warmUp(app.baseUrl, real(realWarmCodes));
    await warmUp(baselineUrl, plain(baselineWarmCodes));
    const figures = [
      ...(await compareUnderLoad(
        'POST creditCode',
        { url: app.baseUrl, requests: (round) => real(realCodes[round]!) },
        { url: baselineUrl, requests: (round) => plain(baselineCodes[round]!) },
      )),
      ...(await compareUnderLoad(
        'POST creditCode with Idempotency-Key',
        { url: app.baseUrl, requests: (round) => real(keyedCodes[round]!, true) },
        { url: baselineUrl, requests: (round) => plain(keyedBaselineCodes[round]!) },
      )),
    ];
    const ledgerRows = await bench.database.query<{ count: bigint }>("SELECT count(*)::int8 AS count FROM credit_ledger_entries WHERE reason = 'credit_code'");
    figures[0]!.note = [figures[0]!.note, `${ledgerRows.rows[0]!.count} ledger rows written (both sides, incl. warm-up)`].filter(Boolean).join('; ');
    return figures.map((figure) => ({ ...figure, ratio: round(figure.ratio) }));
  } finally {
    await baseline.close();
    await pool.end();
    await app.close();
    await bench.drop();
  }
}

/** Request j redeems code j mod K for organization j mod N: each pair once, neighbours on different rows. */
function pairs(
  codes: string[],
  organizations: BenchOrganization[],
  template: (code: string, organization: BenchOrganization, index: number) => RequestTemplate,
): RequestTemplate[] {
  const templates: RequestTemplate[] = [];
  for (let index = 0; index < codes.length * organizations.length; index += 1) {
    templates.push(template(codes[index % codes.length]!, organizations[index % organizations.length]!, index));
  }
  return templates;
}


/** Unlimited USD codes named `BENCH-<set>-<n>`. */
async function seedCodes(database: Database, set: string, count: number): Promise<string[]> {
  const { rows } = await database.query<{ code: string }>(
    `INSERT INTO credit_codes (id, code, amount_minor, currency, created_at)
     SELECT gen_random_uuid(), 'BENCH-' || $1 || '-' || n, 500, 'USD', now() FROM generate_series(1, $2) AS n
     RETURNING code`,
    [set, count],
  );
  return rows.map((row) => row.code);
}
