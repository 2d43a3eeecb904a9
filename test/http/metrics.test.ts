/** GET /metrics (issue 10): Prometheus text, for the operator token or the metrics token only. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createOrganization, http, mintJwt, startTestApp, type TestApp } from '../support/test-app.js';
import { acmeBillingInfo, changePlan, createBillingOrganization, putPlan, runBilling, setBillingInfo } from './invoice-fixtures.js';

const METRICS_TOKEN = 'metrics-token-for-the-scraper';
let app: TestApp;
before(async () => {
  app = await startTestApp({ BURSAR_METRICS_TOKEN: METRICS_TOKEN });
});
after(async () => {
  await app.close();
});

/** Samples of the Prometheus text format: `name{labels} value` lines, every line checked to parse. */
function parseSamples(text: string): Array<{ name: string; labels: Record<string, string>; value: number }> {
  const samples: Array<{ name: string; labels: Record<string, string>; value: number }> = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) {
      assert.match(line, /^(|# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .*)$/);
      continue;
    }
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(match, `not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const label of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[label[1]!] = label[2]!;
    // Prometheus numbers are Go floats: `NaN` (prom-client writes `Nan`), `+Inf`, `-Inf` or a decimal.
    const raw = match[3]!;
    assert.match(raw, /^(nan|[+-]inf|[+-]?\d+(\.\d+)?(e[+-]?\d+)?)$/i, `not a number: ${line}`);
    const value = /^nan$/i.test(raw) ? NaN : /^[+-]inf$/i.test(raw) ? (raw.startsWith('-') ? -Infinity : Infinity) : Number(raw);
    samples.push({ name: match[1]!, labels, value });
  }
  return samples;
}

describe('GET /metrics', () => {
  test('401 without a token, 403 for a user, 401 for a wrong token', async () => {
    assert.equal((await http(app, 'GET', '/metrics')).status, 401);
    assert.equal((await http(app, 'GET', '/metrics', { headers: { authorization: 'Bearer not-the-metrics-token' } })).status, 401);
    const user = { authorization: `Bearer ${await mintJwt('just-a-user')}` };
    assert.equal((await http(app, 'GET', '/metrics', { headers: user })).status, 403);
  });

  test('the operator token and the metrics token read it; it holds requests, jobs, billing runs and the pool', async () => {
    const org = await createOrganization(app);
    assert.equal((await http(app, 'GET', `/organization/${org.id}/billingInfo`, { headers: org.owner })).status, 200);
    // A failed job, and a billing run that issued one invoice.
    await app.database.query(`INSERT INTO jobs (queue, payload, state, attempts, last_error) VALUES ('metrics-test', '{}', 'failed', 8, 'boom')`);
    app.clock.set(new Date('2026-03-01T00:00:00Z'));
    await putPlan(app, 'PRO_METRICS', { monthly: 4900, kind: 'invoiced' });
    const billed = await createBillingOrganization(app);
    await setBillingInfo(app, billed, acmeBillingInfo);
    await changePlan(app, billed, 'PRO_METRICS');
    app.clock.set(new Date('2026-04-01T00:00:01Z'));
    await runBilling(app, '2026-04-01T00:00:00Z');

    const byOperator = await http(app, 'GET', '/metrics', { headers: app.admin });
    assert.equal(byOperator.status, 200, byOperator.text);
    assert.match(byOperator.headers.get('content-type') ?? '', /^text\/plain/);
    const byScraper = await http(app, 'GET', '/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    assert.equal(byScraper.status, 200, byScraper.text);

    const samples = parseSamples(byScraper.text);
    const find = (name: string, labels: Record<string, string> = {}) =>
      samples.filter((s) => s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value));

    const billingInfoRequests = find('bursar_http_requests_total', { method: 'GET', route: '/organization/:organizationId/billingInfo', status: '200' });
    assert.equal(billingInfoRequests.length, 1);
    assert.ok(billingInfoRequests[0]!.value >= 1);
    assert.ok(find('bursar_http_requests_total', { route: '/metrics', status: '401' }).length === 1);
    assert.ok(find('bursar_http_request_duration_seconds_bucket', { method: 'GET', route: '/organization/:organizationId/billingInfo', status: '200', le: '+Inf' }).length === 1);
    assert.ok(find('bursar_http_request_duration_seconds_count').length > 0);

    assert.equal(find('bursar_jobs', { queue: 'metrics-test', state: 'failed' })[0]?.value, 1);
    assert.ok(find('bursar_jobs', { state: 'pending' }).length > 0, 'the invoice jobs of the billing run wait in the queue');
    assert.equal(find('bursar_jobs_retrying').every((s) => s.value >= 0), true);

    assert.equal(find('bursar_billing_runs_in_progress')[0]?.value, 0);
    assert.equal(find('bursar_billing_run_invoices_issued')[0]?.value, 1);
    assert.ok((find('bursar_billing_run_organizations_seen')[0]?.value ?? 0) >= 1);

    assert.equal(find('bursar_db_pool_connections', { state: 'busy' }).length, 1);
    assert.equal(find('bursar_db_pool_connections', { state: 'idle' }).length, 1);
    assert.ok((find('bursar_db_pool_max_connections')[0]?.value ?? 0) >= 1);
    assert.equal(find('bursar_db_pool_waiting').length, 1);
    assert.ok(find('process_resident_memory_bytes').length === 1, 'Node.js runtime metrics');
  });

  test('without BURSAR_METRICS_TOKEN only the operator reads it', async () => {
    const plain = await startTestApp();
    try {
      assert.equal((await http(plain, 'GET', '/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status, 401);
      assert.equal((await http(plain, 'GET', '/metrics', { headers: plain.admin })).status, 200);
    } finally {
      await plain.close();
    }
  });
});
