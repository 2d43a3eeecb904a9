/**
 * Usage ingestion and live costs under load, each against a plain Fastify baseline on the same database:
 * - POST /admin/usage-events, batches of 100 new events (10 connections, as a few metering senders would, 2 s runs):
 *   Bursar inserts the batch in one statement that also checks every event's cluster belongs to its organization and
 *   the event lies in the cluster's life, waits for any invoicing of the organizations and reads their invoices; the
 *   baseline inserts the same rows with the same `INSERT … SELECT FROM unnest … ON CONFLICT DO NOTHING`.
 * Both loads alternate real and baseline rounds (BENCH_ROUNDS) and keep the median of each side.
 * - GET /organization/{id}/currentCost (50 connections, JWT-authenticated) over 1,000 organizations with 2 clusters
 *   and 100 usage events each; the baseline runs the same reads (membership, organization, plan rows, clusters,
 *   usage sums, credit balance) and adds the amounts up without the proration and clamping rules.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { SignJWT } from 'jose';
import type pg from 'pg';
import type { Database } from '../src/db/database.js';
import { periodContaining } from '../src/domain/billing-period.js';
import {
  BENCH_JWT_SECRET,
  compareUnderLoad,
  medianUnderLoad,
  loadNote,
  openBaselinePool,
  openBenchDatabase,
  round,
  startBenchApp,
  warmUp,
  type BenchFigure,
  type RequestTemplate,
} from './support.js';

const COST_ORGANIZATIONS = 1000;
const EVENTS_PER_CLUSTER = 50;
const USAGE_ORGANIZATIONS = 100;
const EVENTS_PER_BATCH = 100;
/** Ingestion runs are short so that distinct batches outlast them: every measured event is new (the note checks it). */
const USAGE_SECONDS = 2;
const USAGE_BATCHES = 3000;

interface BenchCluster {
  organizationId: string;
  clusterId: string;
}

export async function run(): Promise<BenchFigure[]> {
  const bench = await openBenchDatabase();
  const app = await startBenchApp(bench);
  const pool = openBaselinePool(bench);
  const baseline = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  try {
    const now = new Date();
    const period = periodContaining(now);
    await seedPlan(bench.database);
    const costOrganizations = await seedOrganizations(bench.database, 'cost', COST_ORGANIZATIONS, period.start);
    await seedUsage(bench.database, period.start, now);
    const usageClusters = await seedOrganizations(bench.database, 'usage', USAGE_ORGANIZATIONS, period.start);

    registerBaselineRoutes(baseline, pool);
    const baselineUrl = await baseline.listen({ port: 0, host: '127.0.0.1' });

    // Usage ingestion.
    const occurredAt = now.toISOString();
    const batches = (prefix: string, path: string, headers: Record<string, string>) =>
      Array.from({ length: USAGE_BATCHES }, (_, batch): RequestTemplate => ({
        method: 'POST',
        path,
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({
          events: Array.from({ length: EVENTS_PER_BATCH }, (_, index) => {
            const cluster = usageClusters[(batch * EVENTS_PER_BATCH + index) % usageClusters.length]!;
            return {
              id: `${prefix}-${batch}-${index}`,
              organization_id: cluster.organizationId,
              cluster_id: cluster.clusterId,
              metric: 'node_hours',
              quantity: 1,
              occurred_at: occurredAt,
            };
          }),
        }),
      }));
    await warmUp(app.baseUrl, batches('warm-real', '/admin/usage-events', app.admin).slice(0, 200));
    await warmUp(baselineUrl, batches('warm-baseline', '/baseline/usage-events', {}).slice(0, 200));
    // Alternating rounds, each with batches of its own (a resent batch is cheaper: ON CONFLICT DO NOTHING).
    const { real: usageReal, baseline: usageBaseline } = await medianUnderLoad(
      { url: app.baseUrl, requests: (round) => batches(`real-${round}`, '/admin/usage-events', app.admin) },
      { url: baselineUrl, requests: (round) => batches(`baseline-${round}`, '/baseline/usage-events', {}) },
      { connections: 10, durationSeconds: USAGE_SECONDS },
    );
    const stored = await bench.database.query<{ real: bigint; baseline: bigint }>(
      "SELECT count(*) FILTER (WHERE id LIKE 'real-%')::int8 AS real, count(*) FILTER (WHERE id LIKE 'baseline-%')::int8 AS baseline FROM usage_events",
    );
    const eventsPerSecond = (requestsPerSecond: number) => Math.round(requestsPerSecond * EVENTS_PER_BATCH);
    // 1 when no batch was sent twice (a resent batch is cheaper: ON CONFLICT DO NOTHING).
    const newShare = (rows: bigint, requests: number) => round(Number(rows) / Math.max(requests * EVENTS_PER_BATCH, 1));
    const usageFigures: BenchFigure[] = [
      {
        name: 'POST usage-events (batches of 100)',
        unit: 'events/s',
        value: eventsPerSecond(usageReal.requestsPerSecond),
        baseline: eventsPerSecond(usageBaseline.requestsPerSecond),
        ratio: round(usageReal.requestsPerSecond / usageBaseline.requestsPerSecond),
        note: loadNote(
          usageReal,
          usageBaseline,
          `new rows per event sent: real ${newShare(stored.rows[0]!.real, usageReal.total)}, baseline ${newShare(stored.rows[0]!.baseline, usageBaseline.total)}`,
        ),
      },
      {
        name: 'POST usage-events p99 latency',
        unit: 'ms',
        value: usageReal.p99Ms,
        baseline: usageBaseline.p99Ms,
        ratio: round(usageReal.p99Ms / Math.max(usageBaseline.p99Ms, 1)),
        note: 'lower is better',
      },
    ];

    // Live cost.
    const costRequests = (path: (id: string) => string, withAuth: boolean) =>
      costOrganizations.map(
        (organization): RequestTemplate => ({
          method: 'GET',
          path: path(organization.organizationId),
          headers: withAuth ? { authorization: organization.authorization } : { 'x-user-id': `user-${organization.organizationId}` },
        }),
      );
    const real = costRequests((id) => `/organization/${id}/currentCost`, true);
    const plain = costRequests((id) => `/baseline/${id}/currentCost`, false);
    await warmUp(app.baseUrl, real);
    await warmUp(baselineUrl, plain);
    const costFigures = await compareUnderLoad('GET currentCost', { url: app.baseUrl, requests: real }, { url: baselineUrl, requests: plain });

    return [...usageFigures, ...costFigures].map((figure) => ({ ...figure, ratio: round(figure.ratio) }));
  } finally {
    await baseline.close();
    await pool.end();
    await app.close();
    await bench.drop();
  }
}

function registerBaselineRoutes(baseline: FastifyInstance, pool: pg.Pool): void {
  baseline.post<{ Body: { events: Array<{ id: string; organization_id: string; cluster_id: string; metric: string; quantity: number; occurred_at: string }> } }>(
    '/baseline/usage-events',
    async (request) => {
      const events = request.body.events;
      const { rowCount } = await pool.query(
        `INSERT INTO usage_events (id, organization_id, cluster_id, metric, quantity, occurred_at, received_at)
         SELECT e.id, e.organization_id, e.cluster_id, e.metric, e.quantity, e.occurred_at, now()
           FROM unnest($1::text[], $2::uuid[], $3::uuid[], $4::text[], $5::int8[], $6::timestamptz[])
                AS e (id, organization_id, cluster_id, metric, quantity, occurred_at)
         ON CONFLICT (id) DO NOTHING`,
        [
          events.map((e) => e.id),
          events.map((e) => e.organization_id),
          events.map((e) => e.cluster_id),
          events.map((e) => e.metric),
          events.map((e) => String(e.quantity)),
          events.map((e) => e.occurred_at),
        ],
      );
      return { accepted: rowCount ?? 0, duplicates: events.length - (rowCount ?? 0) };
    },
  );

  baseline.get<{ Params: { id: string } }>('/baseline/:id/currentCost', async (request, reply) => {
    const id = request.params.id;
    const now = new Date();
    const period = periodContaining(now);
    const member = await pool.query('SELECT role FROM memberships WHERE organization_id = $1 AND user_id = $2', [id, request.headers['x-user-id']]);
    if (member.rows.length === 0) return reply.status(404).send({ error: 'not_found' });
    const organization = await pool.query<{ plan: string; currency: string }>('SELECT plan, currency, trial_ends_at FROM organizations WHERE id = $1', [id]);
    const plans = await pool.query<{ monthly_price_minor: string }>(
      `SELECT p.monthly_price_minor FROM plan_subscriptions s JOIN plans p ON p.code = s.plan_code
        WHERE s.organization_id = $1 AND s.started_at < $3 AND (s.ended_at IS NULL OR s.ended_at > $2)`,
      [id, period.start, now],
    );
    const clusters = await pool.query<{ fixed_monthly_minor: string }>(
      'SELECT fixed_monthly_minor FROM clusters WHERE organization_id = $1 AND active_from < $3 AND (active_until IS NULL OR active_until > $2)',
      [id, period.start, now],
    );
    const usage = await pool.query<{ used: string }>(
      `SELECT COALESCE(SUM(e.quantity * c.hourly_price_per_node_minor), 0)::int8 AS used
         FROM usage_events e JOIN clusters c ON c.id = e.cluster_id
        WHERE e.organization_id = $1 AND e.occurred_at >= $2 AND e.occurred_at < $3`,
      [id, period.start, now],
    );
    const credits = await pool.query<{ balance: string }>(
      'SELECT COALESCE(SUM(amount_minor), 0)::int8 AS balance FROM credit_ledger_entries WHERE organization_id = $1 AND currency = $2',
      [id, organization.rows[0]!.currency],
    );
    let total = BigInt(usage.rows[0]!.used);
    for (const row of plans.rows) total += BigInt(row.monthly_price_minor);
    for (const row of clusters.rows) total += BigInt(row.fixed_monthly_minor);
    return {
      plan: organization.rows[0]!.plan,
      cost: { total_in_cents: Number(total), currency_code: organization.rows[0]!.currency },
      remaining_credits: { total_in_cents: Number(credits.rows[0]!.balance) },
    };
  });
}

async function seedPlan(database: Database): Promise<void> {
  await database.query(
    `INSERT INTO plans (code, name, monthly_price_minor, currency, kind, trial_days, created_at, updated_at)
     VALUES ('BENCH_TEAM', 'Team', 3000, 'USD', 'invoiced', 0, now(), now())`,
  );
}

/** Organizations on BENCH_TEAM since the period start, each with an owner, a credit grant and 2 clusters (the first returned). */
async function seedOrganizations(
  database: Database,
  prefix: string,
  count: number,
  periodStart: Date,
): Promise<Array<BenchCluster & { authorization: string }>> {
  const { rows } = await database.query<{ id: string }>(
    `INSERT INTO organizations (id, slug, name, plan, created_at, updated_at)
     SELECT gen_random_uuid(), $1 || '-' || n, 'Bench ' || n, 'BENCH_TEAM', $3, $3 FROM generate_series(1, $2) AS n
     RETURNING id`,
    [prefix, count, periodStart],
  );
  const ids = rows.map((row) => row.id);
  await database.query(
    `INSERT INTO memberships (organization_id, user_id, role, created_at) SELECT id, 'user-' || id, 'owner', now() FROM unnest($1::uuid[]) AS id`,
    [ids],
  );
  await database.query(
    `INSERT INTO plan_subscriptions (id, organization_id, plan_code, started_at) SELECT gen_random_uuid(), id, 'BENCH_TEAM', $2 FROM unnest($1::uuid[]) AS id`,
    [ids, periodStart],
  );
  await database.query(
    `INSERT INTO credit_ledger_entries (id, organization_id, amount_minor, currency, reason, description, created_at)
     SELECT gen_random_uuid(), id, 5000, 'USD', 'adjustment', 'bench grant', $2 FROM unnest($1::uuid[]) AS id`,
    [ids, periodStart],
  );
  const clusters = await database.query<{ id: string; organization_id: string }>(
    `INSERT INTO clusters (id, organization_id, name, hourly_price_per_node_minor, min_nodes, max_nodes, fixed_monthly_minor, currency, active_from, created_at)
     SELECT gen_random_uuid(), id, 'cluster-' || k, 10, 1, 3, 3000, 'USD', $2, $2 FROM unnest($1::uuid[]) AS id, generate_series(1, 2) AS k
     RETURNING id, organization_id`,
    [ids, periodStart],
  );
  const firstCluster = new Map<string, string>();
  for (const row of clusters.rows) if (!firstCluster.has(row.organization_id)) firstCluster.set(row.organization_id, row.id);
  const key = new TextEncoder().encode(BENCH_JWT_SECRET);
  return Promise.all(
    ids.map(async (id) => ({
      organizationId: id,
      clusterId: firstCluster.get(id)!,
      authorization: `Bearer ${await new SignJWT({ org_id: id }).setProtectedHeader({ alg: 'HS256' }).setSubject(`user-${id}`).setExpirationTime('2h').sign(key)}`,
    })),
  );
}

/** EVENTS_PER_CLUSTER usage events for every cluster seeded so far, spread over the period until now. */
async function seedUsage(database: Database, periodStart: Date, now: Date): Promise<void> {
  await database.query(
    `INSERT INTO usage_events (id, organization_id, cluster_id, metric, quantity, occurred_at, received_at)
     SELECT 'seed-' || c.id || '-' || n, c.organization_id, c.id, 'node_hours', 2, $2::timestamptz + ($3::timestamptz - $2::timestamptz) * (n::float8 / ($1 + 1)), $3
       FROM clusters c, generate_series(1, $1) AS n`,
    [EVENTS_PER_CLUSTER, periodStart, now],
  );
}
