/**
 * A billing run over BENCH_ORGANIZATIONS organizations (default 100,000) on an invoiced plan, each with a billing
 * profile, one cluster and usage in the closed month, seeded with set-based SQL (generate_series).
 * Real: `executeBillingRun` (what POST /admin/billing-runs runs): batches of 500 organizations, each one
 * transaction under the organizations' locks, reading plans, clusters, usage and profiles with one query per kind,
 * numbering from the counter, writing invoices, lines, audit events and charge jobs with multi-row statements. Baseline, in the same run: the same invoice and line rows copied into twin tables (same columns,
 * indexes and unique keys) in batches of 1,000 rows with `INSERT … SELECT`.
 */
import type { AppContext } from '../src/app-context.js';
import { systemCaller } from '../src/domain/actor.js';
import { executeBillingRun } from '../src/billing/invoices/execute-billing-run.js';
import { periodContaining, previousPeriod } from '../src/domain/billing-period.js';
import { openBenchDatabase, round, startBenchApp, type BenchFigure } from './support.js';

const BATCH = 1000;

function organizationCount(): number {
  const raw = process.env.BENCH_ORGANIZATIONS;
  const count = raw === undefined || raw === '' ? 100_000 : Number(raw);
  if (!Number.isInteger(count) || count < 1) throw new Error(`BENCH_ORGANIZATIONS must be a positive integer, got ${raw}`);
  return count;
}

async function seed(context: AppContext, count: number, period: { start: Date; end: Date }): Promise<void> {
  const db = context.database;
  const createdAt = new Date(period.start.getTime() - 86_400_000);
  await db.query(
    `INSERT INTO plans (code, name, monthly_price_minor, currency, kind, trial_days, created_at, updated_at)
     VALUES ('BENCH', 'Bench', 2900, 'USD', 'invoiced', 0, $1, $1)`,
    [createdAt],
  );
  // Deterministic ids from the row number: md5 text is 32 hex digits, a valid uuid literal.
  const orgId = `md5('org-' || g)::uuid`;
  await db.query(
    `INSERT INTO organizations (id, slug, name, plan, created_at, updated_at)
     SELECT ${orgId}, 'bench-' || g, 'Bench organization ' || g, 'BENCH', $2, $2 FROM generate_series(1, $1) AS g`,
    [count, createdAt],
  );
  await db.query(
    `INSERT INTO plan_subscriptions (id, organization_id, plan_code, started_at)
     SELECT md5('sub-' || g)::uuid, ${orgId}, 'BENCH', $2 FROM generate_series(1, $1) AS g`,
    [count, createdAt],
  );
  await db.query(
    `INSERT INTO billing_profiles (organization_id, contact_first_name, contact_last_name, email, tax_id, tax_id_type, updated_at)
     SELECT ${orgId}, 'Jane', 'Doe ' || g, 'billing-' || g || '@bench.test', 'FR' || lpad(g::text, 11, '0'), 'eu_vat', $2
       FROM generate_series(1, $1) AS g`,
    [count, createdAt],
  );
  await db.query(
    `INSERT INTO billing_addresses (id, organization_id, name, company, address_line1, city, postal_code, country, is_default, created_at, updated_at)
     SELECT 'billing_bench_' || g, ${orgId}, 'Billing address', 'Company ' || g, g || ' Rue de la Paix', 'Paris', '75002', 'FR', true, $2, $2
       FROM generate_series(1, $1) AS g`,
    [count, createdAt],
  );
  await db.query(
    `INSERT INTO clusters (id, organization_id, name, hourly_price_per_node_minor, min_nodes, max_nodes, fixed_monthly_minor, currency, active_from, created_at)
     SELECT md5('cluster-' || g)::uuid, ${orgId}, 'cluster-' || g, 12, 1, 4, 1000, 'USD', $2, $2 FROM generate_series(1, $1) AS g`,
    [count, createdAt],
  );
  // Three usage events per cluster in the closed month.
  await db.query(
    `INSERT INTO usage_events (id, organization_id, cluster_id, metric, quantity, occurred_at, received_at)
     SELECT 'usage-' || g || '-' || e, ${orgId}, md5('cluster-' || g)::uuid, 'node_hours', 100 + (g % 50), $2::timestamptz + make_interval(days => e * 7), $2
       FROM generate_series(1, $1) AS g, generate_series(1, 3) AS e`,
    [count, period.start],
  );
  await db.execute('ANALYZE');
}

/** The baseline: the same invoice and line rows, copied in batches of 1,000 invoices into twin tables. */
async function baselineInsert(context: AppContext): Promise<{ seconds: number; invoices: number }> {
  const db = context.database;
  await db.execute(`
    CREATE TABLE baseline_invoices (LIKE invoices INCLUDING ALL);
    CREATE TABLE baseline_invoice_lines (LIKE invoice_lines INCLUDING ALL);`);
  // Statistics of the rows the run wrote: without them (the tables were analyzed empty, at seeding), the planner
  // could join each batch to the lines by a scan of the whole lines table, and the baseline's time varied from run
  // to run (3 s or 9 s for 100,000 invoices).
  await db.execute('ANALYZE invoices, invoice_lines');
  const started = process.hrtime.bigint();
  let after = 0n;
  let invoices = 0;
  for (;;) {
    const { rows } = await db.query<{ last: bigint | null; count: bigint }>(
      `WITH batch AS (
         INSERT INTO baseline_invoices SELECT * FROM invoices WHERE sequence_number > $1 ORDER BY sequence_number LIMIT $2
         RETURNING id, sequence_number),
       lines AS (
         INSERT INTO baseline_invoice_lines SELECT l.* FROM invoice_lines l JOIN batch b ON b.id = l.invoice_id RETURNING 1)
       SELECT max(sequence_number)::int8 AS last, count(*)::int8 AS count FROM batch`,
      [after, BATCH],
    );
    const row = rows[0]!;
    if (row.count === 0n || row.last === null) break;
    invoices += Number(row.count);
    after = row.last;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { seconds, invoices };
}

export async function run(): Promise<BenchFigure[]> {
  const count = organizationCount();
  console.log(`  billing run over ${count.toLocaleString('en-US')} organizations (BENCH_ORGANIZATIONS)`);
  const bench = await openBenchDatabase();
  const app = await startBenchApp(bench);
  try {
    const context = app.context;
    const period = previousPeriod(periodContaining(context.clock.now()));
    const seedStarted = Date.now();
    await seed(context, count, period);
    console.log(`  seeded in ${((Date.now() - seedStarted) / 1000).toFixed(1)} s`);

    const started = process.hrtime.bigint();
    const summary = await executeBillingRun(context, systemCaller('bench'), { asOf: period.end });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (summary.invoicesCreated !== count || summary.organizationsFailed !== 0) {
      throw new Error(`expected ${count} invoices, got ${summary.invoicesCreated} (${summary.organizationsFailed} failed)`);
    }
    const lines = await context.database.query<{ count: bigint }>('SELECT count(*)::int8 AS count FROM invoice_lines');

    const baseline = await baselineInsert(context);
    if (baseline.invoices !== count) throw new Error(`baseline copied ${baseline.invoices} invoices, expected ${count}`);
    const real = count / seconds;
    const plain = count / baseline.seconds;
    return [
      {
        name: `billing run, ${count.toLocaleString('en-US')} organizations`,
        unit: 'invoices/s',
        value: Math.round(real),
        baseline: Math.round(plain),
        ratio: round(real / plain, 3),
        note: `run ${seconds.toFixed(1)} s vs batched INSERT of the same ${count} invoices and ${lines.rows[0]!.count} lines ${baseline.seconds.toFixed(1)} s; ${context.database.kind}`,
      },
    ];
  } finally {
    await app.close();
    await bench.drop();
  }
}
