/**
 * Outgoing webhooks to a local receiver: deliveries per second (a backlog of BENCH_WEBHOOKS events, default 2,000,
 * written in transactions of 100) and commit-to-delivery latency (one event at a time on an idle system, from the
 * commit's return to the receiver's arrival), p50 and p99. Baseline: the same signed bodies POSTed with plain `fetch`
 * from one process (32 at a time for the throughput, one at a time for the latency, timed from just before signing).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createWebhookEndpoint } from '../src/billing/webhooks/manage-webhook-endpoints.js';
import { recordBillingEvent } from '../src/events/billing-event.js';
import { webhookBody } from '../src/events/webhook-dispatcher.js';
import { signWebhook } from '../src/events/webhook-signature.js';
import { openBenchDatabase, round, startBenchApp, type BenchFigure } from './support.js';

const BACKLOG = Number(process.env.BENCH_WEBHOOKS ?? 2000);
const LATENCY_SAMPLES = Number(process.env.BENCH_WEBHOOK_SAMPLES ?? 200);
const BASELINE_CONCURRENCY = 32;

interface Receiver {
  url: string;
  /** webhook-id → arrival (performance.now()). */
  arrivals: Map<string, number>;
  waitFor(id: string): Promise<number>;
  waitForCount(count: number): Promise<void>;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const arrivals = new Map<string, number>();
  const waiting = new Map<string, (at: number) => void>();
  let countWaiter: { count: number; resolve: () => void } | null = null;
  const server: Server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const id = String(request.headers['webhook-id']);
      const at = performance.now();
      arrivals.set(id, at);
      response.writeHead(204).end();
      waiting.get(id)?.(at);
      waiting.delete(id);
      if (countWaiter && arrivals.size >= countWaiter.count) countWaiter.resolve();
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    arrivals,
    waitFor: (id) => {
      const known = arrivals.get(id);
      return known !== undefined ? Promise.resolve(known) : new Promise((resolve) => waiting.set(id, resolve));
    },
    waitForCount: (count) => (arrivals.size >= count ? Promise.resolve() : new Promise((resolve) => (countWaiter = { count, resolve }))),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))]!;
}

export async function run(): Promise<BenchFigure[]> {
  const bench = await openBenchDatabase();
  const app = await startBenchApp(bench, { BURSAR_WEBHOOK_ALLOW_PRIVATE: '1' });
  const receiver = await startReceiver();
  try {
    const endpoint = await createWebhookEndpoint(app.context, { actor: { type: 'operator' }, surface: 'bench', requestId: null }, { url: receiver.url });
    await app.context.webhooks.start();
    const database = app.context.database;
    const data = { plan: 'PRO', previous_plan: 'FREE', plan_kind: 'invoiced', currency: 'USD', trial_ends_at: null };
    const emit = async (count: number): Promise<string[]> =>
      database.transaction(async (tx) => {
        const ids: string[] = [];
        for (let index = 0; index < count; index += 1) {
          ids.push(await recordBillingEvent(tx, new Date(), { type: 'plan.changed', organizationId: null, data }));
        }
        return ids;
      });

    // Warm-up: connections, prepared plans, the receiver.
    for (let index = 0; index < 20; index += 1) await receiver.waitFor((await emit(1))[0]!);

    // Latency: one event at a time, from the commit to its arrival.
    const latencies: number[] = [];
    for (let index = 0; index < LATENCY_SAMPLES; index += 1) {
      const before = receiver.arrivals.size;
      const [id] = await emit(1);
      const committed = performance.now();
      const arrived = await receiver.waitFor(id!);
      latencies.push(Math.max(0, arrived - committed));
      if (receiver.arrivals.size <= before) throw new Error('nothing arrived');
    }

    // Throughput: a backlog written as fast as the database takes it, delivered as the commits land.
    const already = receiver.arrivals.size;
    const started = performance.now();
    for (let written = 0; written < BACKLOG; written += 100) await emit(Math.min(100, BACKLOG - written));
    await receiver.waitForCount(already + BACKLOG);
    const deliveriesPerSecond = BACKLOG / ((performance.now() - started) / 1000);

    // Baselines: the same signed bodies, plain fetch from one process.
    const body = webhookBody('plan.changed', new Date(), { organization_id: null, ...data });
    const post = async (id: string): Promise<void> => {
      const response = await fetch(receiver.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'webhook-id': id,
          'webhook-timestamp': Math.floor(Date.now() / 1000).toString(),
          'webhook-signature': signWebhook([endpoint.secret], id, new Date(), body),
        },
        body,
      });
      await response.arrayBuffer();
    };
    for (let index = 0; index < 20; index += 1) await post(`warm_${index}`);
    const baselineLatencies: number[] = [];
    for (let index = 0; index < LATENCY_SAMPLES; index += 1) {
      const sent = performance.now();
      await post(`lat_${index}`);
      baselineLatencies.push(performance.now() - sent);
    }
    let next = 0;
    const baselineStarted = performance.now();
    await Promise.all(
      Array.from({ length: BASELINE_CONCURRENCY }, async () => {
        while (next < BACKLOG) await post(`tp_${next++}`);
      }),
    );
    const baselinePerSecond = BACKLOG / ((performance.now() - baselineStarted) / 1000);

    const p50 = percentile(latencies, 0.5);
    const p99 = percentile(latencies, 0.99);
    const baselineP50 = percentile(baselineLatencies, 0.5);
    const baselineP99 = percentile(baselineLatencies, 0.99);
    return [
      { name: 'webhook deliveries', unit: 'deliveries/s', value: Math.round(deliveriesPerSecond), baseline: Math.round(baselinePerSecond), ratio: round(deliveriesPerSecond / baselinePerSecond) },
      { name: 'webhook commit-to-delivery p50', unit: 'ms', value: round(p50), baseline: round(baselineP50), ratio: round(p50 / Math.max(baselineP50, 0.01)), note: 'lower is better; baseline = one fetch POST' },
      { name: 'webhook commit-to-delivery p99', unit: 'ms', value: round(p99), baseline: round(baselineP99), ratio: round(p99 / Math.max(baselineP99, 0.01)), note: 'lower is better; baseline = one fetch POST' },
    ];
  } finally {
    await app.context.webhooks.stop();
    await receiver.close();
    await app.close();
    await bench.drop();
  }
}
