/**
 * Peak memory of the "e-mail me all my invoices" job for one organization with BENCH_ARCHIVE_INVOICES invoices
 * (default 5,000), seeded with set-based SQL. The job runs for real: it renders and stores each PDF (none exist
 * yet), streams the ZIP to a file, and writes the mail with the ZIP attached to the outbox folder. The figures are
 * those of the usual request, which finds every PDF stored and only streams, and of that first one.
 * Memory (heap used + array buffers, and RSS growth) is sampled every 5 ms during the job; the baseline, in the same
 * run, is the same sampling while the same PDFs are held in memory at once (read from the database into an array),
 * the least that building the archive in memory would need. Each side runs in a fresh child process.
 */
import { fork } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import v8 from 'node:v8';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import { emailInvoiceArchive } from '../src/billing/invoices/email-invoice-archive.js';
import { openDatabase, type Database } from '../src/db/database.js';
import { runMigrations } from '../src/db/migrate.js';
import { openBenchDatabase, round, startBenchApp, type BenchFigure } from './support.js';

const MB = 1024 * 1024;

function collectGarbage(): () => void {
  v8.setFlagsFromString('--expose-gc');
  const gc: unknown = runInNewContext('gc');
  return typeof gc === 'function' ? () => gc() : () => undefined;
}

interface Peak {
  /** Heap used + array buffers, sampled as they are (garbage not yet collected included). */
  heapMb: number;
  rssMb: number;
  /** Heap used + array buffers right after a forced collection, every 250 ms: what is really kept. */
  liveMb: number;
}

/**
 * Runs `work` while sampling memory; the peak above the level measured just before it started. With `live`, a
 * collection is also forced every 250 ms (which changes what the plain samples see, so the two are separate runs).
 */
async function peakDuring<T>(gc: () => void, work: () => Promise<T>, live: boolean): Promise<{ result: T; peak: Peak }> {
  gc();
  const start = process.memoryUsage();
  const startHeap = start.heapUsed + start.arrayBuffers;
  let peakHeap = 0;
  let peakRss = 0;
  let peakLive = 0;
  const sample = () => {
    const now = process.memoryUsage();
    peakHeap = Math.max(peakHeap, now.heapUsed + now.arrayBuffers - startHeap);
    peakRss = Math.max(peakRss, now.rss - start.rss);
  };
  const sampleLive = () => {
    gc();
    const now = process.memoryUsage();
    peakLive = Math.max(peakLive, now.heapUsed + now.arrayBuffers - startHeap);
  };
  const timer = setInterval(sample, 5);
  const liveTimer = live ? setInterval(sampleLive, 250) : undefined;
  try {
    const result = await work();
    sample();
    if (live) sampleLive();
    return { result, peak: { heapMb: peakHeap / MB, rssMb: peakRss / MB, liveMb: peakLive / MB } };
  } finally {
    clearInterval(timer);
    clearInterval(liveTimer);
  }
}

async function seed(database: Database, count: number): Promise<string> {
  const organizationId = '6d6f6e74-6873-4000-8000-000000000001';
  const issued = new Date('2026-01-01T00:00:00Z');
  await database.query(`INSERT INTO organizations (id, slug, name, created_at, updated_at) VALUES ($1, 'archive-bench', 'Archive bench', $2, $2)`, [
    organizationId,
    issued,
  ]);
  await database.query(
    `INSERT INTO billing_profiles (organization_id, contact_first_name, contact_last_name, email, tax_id, updated_at)
     VALUES ($1, 'Jane', 'Doe', 'ap@archive.test', 'FR12345678901', $2)`,
    [organizationId, issued],
  );
  // One invoice per month, going back `count` months (period_start is unique per organization).
  await database.query(
    `INSERT INTO invoices (id, organization_id, number, sequence_number, period_start, period_end, plan_code, plan_kind, currency, status,
                           subtotal_minor, credits_applied_minor, total_minor, bill_to, seller, issued_at, paid_at, created_at)
     SELECT md5('invoice-' || g)::uuid, $1, 'INV-' || lpad(g::text, 6, '0'), g,
            $2::timestamptz - make_interval(months => g), $2::timestamptz - make_interval(months => g - 1), 'FREE', 'invoiced', 'USD', 'PAID',
            4900 + g, 0, 4900 + g,
            jsonb_build_object('company', 'Acme SAS', 'contactName', 'Jane Doe', 'addressLines', jsonb_build_array('42 Rue de la Paix', '75002 Paris'),
                               'country', 'FR', 'countryName', 'France', 'taxId', 'FR12345678901'),
            jsonb_build_object('name', 'Bursar Cloud', 'addressLines', jsonb_build_array('Hauptstrasse 1', '10115 Berlin')),
            $2::timestamptz - make_interval(months => g - 1), $2::timestamptz - make_interval(months => g - 1), $2::timestamptz - make_interval(months => g - 1)
       FROM generate_series(1, $3) AS g`,
    [organizationId, issued, count],
  );
  await database.query(
    `INSERT INTO invoice_lines (invoice_id, position, organization_id, kind, description, quantity, amount_minor)
     SELECT md5('invoice-' || g)::uuid, l, $1, CASE l WHEN 1 THEN 'plan' ELSE 'usage' END,
            CASE l WHEN 1 THEN 'Plan Startup' ELSE 'Cluster production (node-hours)' END, CASE l WHEN 1 THEN NULL ELSE g::text END,
            CASE l WHEN 1 THEN 4900 ELSE g END
       FROM generate_series(1, $2) AS g, generate_series(1, 2) AS l`,
    [organizationId, count],
  );
  return organizationId;
}

interface ChildResult {
  peak: Peak;
  detail: { entryCount?: number; zipBytes?: number; mailBytes?: number; pdfBytes?: number; seconds: number };
}

/** Each side runs in a fresh process, so that RSS is comparable (it rarely shrinks once grown). */
function inChild(role: 'job' | 'hold', live: boolean, bench: { url: string; schema: string }, organizationId: string): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [], {
      execArgv: ['--import', 'tsx', '--expose-gc'],
      env: { ...process.env, ARCHIVE_BENCH_ROLE: role, ARCHIVE_BENCH_LIVE: live ? '1' : '0', ARCHIVE_BENCH_URL: bench.url, ARCHIVE_BENCH_SCHEMA: bench.schema, ARCHIVE_BENCH_ORGANIZATION: organizationId },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.once('message', (message: ChildResult | { error: string }) => ('error' in message ? reject(new Error(message.error)) : resolve(message)));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`archive bench child (${role}) exited with ${code}`));
    });
  });
}

async function childMain(role: string): Promise<ChildResult> {
  const gc = collectGarbage();
  const database = await openDatabase({ url: process.env.ARCHIVE_BENCH_URL!, dataDirectory: null, searchPath: process.env.ARCHIVE_BENCH_SCHEMA!, poolSize: 4 });
  const app = await startBenchApp({ database, url: null, schema: null, drop: async () => undefined }, { BURSAR_MAX_ATTACHMENT_BYTES: String(100 * MB) });
  const organizationId = process.env.ARCHIVE_BENCH_ORGANIZATION!;
  const live = process.env.ARCHIVE_BENCH_LIVE === '1';
  try {
    const started = Date.now();
    if (role === 'job') {
      const job = await peakDuring(gc, () => emailInvoiceArchive(app.context, { organizationId, requestBaseUrl: null }), live);
      if (job.result.sent !== 'attachment') throw new Error(`archive job: ${JSON.stringify(job.result)}`);
      const outbox = await readdir(app.context.config.outboxDirectory);
      const mailBytes = (await stat(path.join(app.context.config.outboxDirectory, outbox[0]!))).size;
      return { peak: job.peak, detail: { entryCount: job.result.entryCount, zipBytes: job.result.bytes, mailBytes, seconds: (Date.now() - started) / 1000 } };
    }
    // The baseline: every PDF of the organization in memory at once.
    // The rows are the result, so they are still held when the last sample is taken.
    const held = await peakDuring(
      gc,
      async () =>
        (await app.context.database.query<{ pdf: Uint8Array }>('SELECT pdf FROM invoice_documents WHERE organization_id = $1', [organizationId])).rows,
      live,
    );
    const pdfBytes = held.result.reduce((sum, row) => sum + row.pdf.byteLength, 0);
    return { peak: held.peak, detail: { pdfBytes, seconds: (Date.now() - started) / 1000 } };
  } finally {
    await app.close();
    await database.close();
  }
}

if (process.env.ARCHIVE_BENCH_ROLE && process.send) {
  const send = process.send.bind(process);
  childMain(process.env.ARCHIVE_BENCH_ROLE).then(
    (result) => {
      send(result, () => process.exit(0));
    },
    (error: unknown) => {
      send({ error: error instanceof Error ? error.stack ?? error.message : String(error) }, () => process.exit(1));
    },
  );
}

export async function run(): Promise<BenchFigure[]> {
  const count = Number(process.env.BENCH_ARCHIVE_INVOICES ?? 5000);
  const bench = await openBenchDatabase();
  try {
    if (!bench.url || !bench.schema) throw new Error('the archive bench needs PostgreSQL (its two sides run in separate processes)');
    await runMigrations(bench.database);
    const organizationId = await seed(bench.database, count);
    // The first request renders and stores every PDF (none exist yet); the usual request finds them stored (they
    // are rendered when each invoice is e-mailed) and only streams. The baseline reads them all at once.
    const where = { url: bench.url, schema: bench.schema };
    const first = await inChild('job', false, where, organizationId);
    if (first.detail.entryCount !== count) throw new Error(`archive has ${first.detail.entryCount} entries, expected ${count}`);
    const job = await inChild('job', false, where, organizationId);
    const held = await inChild('hold', false, where, organizationId);
    // What is really kept: the same two again, with a collection forced every 250 ms.
    const jobLive = await inChild('job', true, where, organizationId);
    const heldLive = await inChild('hold', true, where, organizationId);
    const pdfMb = (held.detail.pdfBytes ?? 0) / MB;
    const zip = `ZIP ${((job.detail.zipBytes ?? 0) / MB).toFixed(1)} MB, mail ${((job.detail.mailBytes ?? 0) / MB).toFixed(1)} MB`;
    return [
      {
        name: `invoice archive job, ${count} invoices: peak heap + buffers`,
        unit: 'MB',
        value: round(job.peak.heapMb, 1),
        baseline: round(held.peak.heapMb, 1),
        ratio: round(job.peak.heapMb / held.peak.heapMb),
        note: `lower is better; sampled every 5 ms (uncollected garbage included); baseline holds the ${count} PDFs (${pdfMb.toFixed(1)} MB) at once; ${zip}; job ${job.detail.seconds.toFixed(1)} s`,
      },
      {
        name: `invoice archive job, ${count} invoices: peak RSS growth`,
        unit: 'MB',
        value: round(job.peak.rssMb, 1),
        baseline: round(held.peak.rssMb, 1),
        ratio: round(job.peak.rssMb / Math.max(held.peak.rssMb, 0.1)),
        note: 'lower is better; each side in a fresh process',
      },
      {
        name: `invoice archive job, ${count} invoices: live memory after GC`,
        unit: 'MB',
        value: round(jobLive.peak.liveMb, 1),
        baseline: round(heldLive.peak.liveMb, 1),
        ratio: round(jobLive.peak.liveMb / heldLive.peak.liveMb),
        note: 'lower is better; a collection forced every 250 ms; what remains is the zip writer\'s per-entry records (central directory)',
      },
      {
        name: `first archive request, ${count} invoices, rendering every PDF: peak heap + buffers`,
        unit: 'MB',
        value: round(first.peak.heapMb, 1),
        baseline: round(held.peak.heapMb, 1),
        ratio: round(first.peak.heapMb / held.peak.heapMb),
        note: `lower is better; rendering garbage included; RSS growth ${round(first.peak.rssMb, 1)} MB; job ${first.detail.seconds.toFixed(1)} s`,
      },
    ];
  } finally {
    await bench.drop();
  }
}
