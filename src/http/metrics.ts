/**
 * Prometheus metrics (`GET /metrics`, prom-client): this process's requests, connection pool and Node.js runtime;
 * and, read from the database at each scrape so that every process reports the same, the job queue and billing runs.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AppContext } from '../app-context.js';
import { readBillingRunProgress } from '../billing/invoices/billing-run-progress.js';
import { countJobs } from '../jobs/job-counts.js';

export class Metrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly requestDuration: Histogram<'method' | 'route' | 'status'>;

  constructor(context: AppContext) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({
      name: 'bursar_http_requests_total',
      help: 'HTTP requests answered, by route (the route pattern, not the path) and status',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.requestDuration = new Histogram({
      name: 'bursar_http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });

    const { database } = context;
    new Gauge({
      name: 'bursar_db_pool_connections',
      help: 'Database connections of this process, by state (busy, idle); PGlite has one',
      labelNames: ['state'],
      registers,
      collect() {
        const usage = database.poolUsage();
        this.set({ state: 'busy' }, usage.busy);
        this.set({ state: 'idle' }, usage.idle);
      },
    });
    new Gauge({
      name: 'bursar_db_pool_max_connections',
      help: 'Size limit of the connection pool',
      registers,
      collect() {
        this.set(database.poolUsage().max);
      },
    });
    new Gauge({
      name: 'bursar_db_pool_waiting',
      help: 'Callers of this process waiting for a database connection',
      registers,
      collect() {
        this.set(database.poolUsage().waiting);
      },
    });

    new Gauge({
      name: 'bursar_jobs',
      help: 'Jobs by queue and state: pending and active are the queue depth, failed ones gave up after their last attempt',
      labelNames: ['queue', 'state'],
      registers,
      async collect() {
        this.reset();
        for (const row of await countJobs(database)) this.set({ queue: row.queue, state: row.state }, row.jobs);
      },
    });
    new Gauge({
      name: 'bursar_jobs_retrying',
      help: 'Pending jobs that failed at least once and wait for their next attempt, by queue',
      labelNames: ['queue'],
      registers,
      async collect() {
        this.reset();
        for (const row of await countJobs(database)) if (row.state === 'pending') this.set({ queue: row.queue }, row.withErrors);
      },
    });

    new Gauge({
      name: 'bursar_billing_runs_in_progress',
      help: 'Billing runs running now',
      registers,
      async collect() {
        this.set((await readBillingRunProgress(database)).runsInProgress);
      },
    });
    new Gauge({
      name: 'bursar_billing_run_organizations_seen',
      help: 'Organizations the latest billing run has gone through so far',
      registers,
      async collect() {
        this.set((await readBillingRunProgress(database)).latest?.organizationsSeen ?? 0);
      },
    });
    new Gauge({
      name: 'bursar_billing_run_invoices_issued',
      help: 'Invoices the latest billing run has issued so far',
      registers,
      async collect() {
        this.set((await readBillingRunProgress(database)).latest?.invoicesCreated ?? 0);
      },
    });
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    const labels = { method, route, status: String(status) };
    this.requests.inc(labels);
    this.requestDuration.observe(labels, seconds);
  }
}
