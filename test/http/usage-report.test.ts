/**
 * Issue 9: the billing usage report (CSV behind signed links), the billing external id, the deployment restriction
 * and empty bodies whatever their content type.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { auditEvents, http, startTestApp, type TestApp } from '../support/test-app.js';
import { createBillingOrganization, runBilling } from './invoice-fixtures.js';

let app: TestApp;
before(async () => {
  app = await startTestApp();
  app.clock.set(new Date('2026-11-01T00:00:00Z'));
  for (const [code, body] of [
    ['REPORT_TEAM', { name: 'Team', monthly_price_in_cents: 29900, currency: 'USD', kind: 'invoiced', trial_days: 0 }],
    ['REPORT_USAGE', { name: 'Usage', monthly_price_in_cents: 0, currency: 'USD', kind: 'credits', trial_days: 0 }],
  ] as const) {
    const plan = await http(app, 'PUT', `/admin/plans/${code}`, { headers: app.admin, body });
    assert.ok([200, 201].includes(plan.status), plan.text);
  }
});
after(async () => {
  await app.close();
});

/** The shared fixture whose tokens stay valid however far the test clock moves. */
const createOrganization = (values: { plan?: string } = {}) => createBillingOrganization(app, values);

async function completeBillingInfo(org: { id: string; owner: Record<string, string> }) {
  const info = await http(app, 'PUT', `/organization/${org.id}/billingInfo`, {
    headers: org.owner,
    body: { first_name: 'Ada', last_name: 'Lovelace', email: 'ada@example.com', address: '1 Analytical Way', city: 'London', zip: 'N1 9GU', country_code: 'GB' },
  });
  assert.equal(info.status, 200, info.text);
}

async function addCluster(organizationId: string, body: Record<string, unknown>): Promise<string> {
  const result = await http(app, 'POST', `/admin/organizations/${organizationId}/clusters`, { headers: app.admin, body });
  assert.equal(result.status, 201, result.text);
  return result.body.id;
}

async function recordUsage(organizationId: string, clusterId: string, events: Array<[string, number]>) {
  const result = await http(app, 'POST', '/admin/usage-events', {
    headers: app.admin,
    body: {
      events: events.map(([at, quantity], index) => ({
        id: `evt-${clusterId}-${index}`,
        organization_id: organizationId,
        cluster_id: clusterId,
        metric: 'node_hours',
        quantity,
        occurred_at: at,
      })),
    },
  });
  assert.ok(result.status >= 200 && result.status < 300, result.text);
  assert.deepEqual(result.body.rejected, [], result.text);
}

interface CsvRow {
  [column: string]: string;
}

/** A small RFC 4180 reader (quoted fields, doubled quotes, CRLF). */
function parseCsv(text: string): { header: string[]; rows: CsvRow[] } {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  const body = text.replace(/^\uFEFF/, '');
  for (let index = 0; index < body.length; index += 1) {
    const char = body[index]!;
    if (quoted) {
      if (char === '"' && body[index + 1] === '"') (field += '"'), (index += 1);
      else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') record.push(field), (field = '');
    else if (char === '\r' && body[index + 1] === '\n') {
      record.push(field);
      records.push(record);
      (record = []), (field = ''), (index += 1);
    } else field += char;
  }
  const [header, ...rest] = records;
  return { header: header!, rows: rest.map((values) => Object.fromEntries(header!.map((name, index) => [name, values[index] ?? '']))) };
}

const sumMinor = (rows: CsvRow[]) => rows.reduce((sum, row) => sum + BigInt(row.amount_in_minor_units!), 0n);

async function generateReport(org: { id: string; owner: Record<string, string> }, body: Record<string, unknown>) {
  return http(app, 'POST', `/organization/${org.id}/billingUsageReport`, { headers: org.owner, body });
}

async function downloadReport(url: string) {
  const response = await fetch(url);
  return { status: response.status, type: response.headers.get('content-type'), disposition: response.headers.get('content-disposition'), text: await response.text() };
}

describe('POST /organization/{id}/billingUsageReport', () => {
  test('a past month agrees with its invoice to the minor unit; the current month with currentCost', async () => {
    app.clock.set(new Date('2026-11-01T00:00:00Z'));
    const org = await createOrganization({ plan: 'REPORT_USAGE' });
    await completeBillingInfo(org);
    app.clock.set(new Date('2026-11-10T09:30:00Z'));
    const plan = await http(app, 'POST', `/organization/${org.id}/changePlan`, { headers: org.owner, body: { plan: 'REPORT_TEAM' } });
    assert.equal(plan.status, 200, plan.text);
    assert.equal(plan.body.billing_deployment_restriction, 'NO_CREDIT_CARD');
    const card = await http(app, 'POST', `/organization/${org.id}/creditCard`, { headers: org.owner, body: { token: 'tok_visa' } });
    assert.equal(card.status, 201, card.text);

    app.clock.set(new Date('2026-11-03T00:00:00Z'));
    const capped = await addCluster(org.id, { name: 'prod, "main"', hourly_price_per_node_in_cents: 7, min_nodes: 1, max_nodes: 2, fixed_monthly_in_cents: 3001 });
    const raised = await addCluster(org.id, { name: '=cmd', hourly_price_per_node_in_cents: 13, min_nodes: 3, max_nodes: 5, fixed_monthly_in_cents: 0 });
    // Usage is recorded once it happened (an event more than 5 minutes ahead of the clock is refused).
    app.clock.set(new Date('2026-11-30T00:00:00Z'));
    await recordUsage(org.id, capped, [['2026-11-03T05:00:00Z', 40], ['2026-11-04T23:59:59Z', 500], ['2026-11-20T12:00:00Z', 2000]]);
    await recordUsage(org.id, raised, [['2026-11-05T01:00:00Z', 10], ['2026-11-29T01:00:00Z', 7]]);

    app.clock.set(new Date('2026-12-01T00:00:00Z'));
    await runBilling(app, '2026-12-01T00:00:00Z');
    const invoices = await http(app, 'GET', `/organization/${org.id}/invoice`, { headers: org.owner });
    const invoice = await http(app, 'GET', `/organization/${org.id}/invoice/${invoices.body.results[0].id}`, { headers: org.owner });
    assert.equal(invoice.status, 200, invoice.text);
    const lines = invoice.body.lines as Array<{ kind: string; amount_in_cents: number }>;
    const linesOf = (kind: string) => lines.filter((line) => line.kind === kind).reduce((sum, line) => sum + BigInt(line.amount_in_cents), 0n);

    const generated = await generateReport(org, { from: '2026-11-01T00:00:00Z', to: '2026-12-01T00:00:00Z', report_expiration_in_seconds: 3600 });
    assert.equal(generated.status, 200, generated.text);
    assert.match(generated.body.report_url, /\/documents\/[0-9a-f-]+\/usage-reports\/[0-9a-f-]+\.csv\?expires=\d+&signature=/);
    const download = await downloadReport(generated.body.report_url);
    assert.equal(download.status, 200, download.text);
    assert.equal(download.type, 'text/csv; charset=utf-8');
    assert.match(download.disposition ?? '', /^attachment; filename="usage-report-.*-20261101-20261201\.csv"$/);
    const { header, rows } = parseCsv(download.text);
    assert.deepEqual(header, [
      'organization_id', 'organization_name', 'cluster_id', 'cluster_name', 'date', 'metric', 'description',
      'quantity', 'unit_price', 'amount', 'amount_in_minor_units', 'currency',
    ]);
    const total = rows.at(-1)!;
    const items = rows.slice(0, -1);
    assert.equal(total.metric, 'total');
    assert.equal(sumMinor(items.filter((row) => row.metric === 'plan_fee')), linesOf('plan'));
    assert.equal(sumMinor(items.filter((row) => row.cluster_id !== '')), linesOf('usage'));
    assert.equal(BigInt(total.amount_in_minor_units!), BigInt(invoice.body.subtotal_in_cents));
    assert.equal(total.amount, (invoice.body.subtotal_in_cents / 100).toFixed(2));
    // one node_hours row per cluster per day it is active (Nov 3 – Nov 30: 28 days)
    assert.equal(items.filter((row) => row.cluster_id === capped && row.metric === 'node_hours').length, 28);
    const nov4 = items.find((row) => row.cluster_id === capped && row.date === '2026-11-04' && row.metric === 'node_hours')!;
    assert.deepEqual([nov4.quantity, nov4.unit_price, nov4.amount], ['500', '0.07', '35.00']);
    assert.ok(items.some((row) => row.cluster_id === capped && row.metric === 'range_adjustment' && BigInt(row.amount_in_minor_units!) < 0n), 'capped at max');
    assert.ok(items.some((row) => row.cluster_id === raised && row.metric === 'range_adjustment' && BigInt(row.amount_in_minor_units!) > 0n), 'raised to min');
    assert.equal(items.find((row) => row.cluster_id === raised)!.cluster_name, "'=cmd", 'a formula-looking name is neutralised');
    assert.match(download.text, /,"prod, ""main""",/);

    // the current month, up to now, is what currentCost shows
    app.clock.set(new Date('2026-12-10T12:34:56Z'));
    await recordUsage(org.id, capped, [['2026-12-02T00:00:00Z', 30]]);
    const current = await http(app, 'GET', `/organization/${org.id}/currentCost`, { headers: org.owner });
    const report = await generateReport(org, { from: '2026-12-01T00:00:00Z', to: '2027-01-01T00:00:00Z', report_expiration_in_seconds: 60 });
    assert.equal(report.status, 200, report.text);
    const december = parseCsv((await downloadReport(report.body.report_url)).text).rows;
    assert.equal(BigInt(december.at(-1)!.amount_in_minor_units!), BigInt(current.body.cost.total_in_cents));

    // a span across both months is the sum of both
    const both = await generateReport(org, { from: '2026-11-01T00:00:00Z', to: '2027-01-01T00:00:00Z', report_expiration_in_seconds: 60 });
    const bothRows = parseCsv((await downloadReport(both.body.report_url)).text).rows;
    assert.equal(BigInt(bothRows.at(-1)!.amount_in_minor_units!), BigInt(invoice.body.subtotal_in_cents) + BigInt(current.body.cost.total_in_cents));

    const events = await auditEvents(app, org.id);
    assert.ok(events.some((event) => event.type === 'BILLING_USAGE_REPORT'));
  });

  test('the delete link removes the report at once; links expire; expired reports are purged', async () => {
    app.clock.set(new Date('2026-11-01T00:00:00Z'));
    const org = await createOrganization();
    const generated = await generateReport(org, { from: '2026-10-01T00:00:00Z', to: '2026-11-01T00:00:00Z', report_expiration_in_seconds: 600 });
    assert.equal(generated.status, 200, generated.text);
    const { report_url: reportUrl, delete_report_url: deleteUrl } = generated.body;
    assert.equal((await downloadReport(reportUrl)).status, 200);
    assert.ok((await fetch(reportUrl, { method: 'DELETE' })).status >= 400, 'the read link cannot delete');
    assert.equal((await downloadReport(reportUrl)).status, 200);
    assert.equal((await fetch(deleteUrl.replace(/signature=[^&]+/, 'signature=' + 'A'.repeat(43)), { method: 'DELETE' })).status, 403);
    assert.equal((await fetch(deleteUrl, { method: 'DELETE' })).status, 204);
    assert.equal((await downloadReport(reportUrl)).status, 404);
    assert.equal((await fetch(deleteUrl, { method: 'DELETE' })).status, 404);

    const short = await generateReport(org, { from: '2026-10-01T00:00:00Z', to: '2026-11-01T00:00:00Z', report_expiration_in_seconds: 60 });
    app.clock.set(new Date('2026-11-01T00:01:01Z'));
    const expired = await downloadReport(short.body.report_url);
    assert.equal(expired.status, 403);
    assert.equal(JSON.parse(expired.text).error, 'link_expired');
    await generateReport(org, { from: '2026-10-01T00:00:00Z', to: '2026-11-01T00:00:00Z', report_expiration_in_seconds: 60 });
    const { rows } = await app.database.query<{ expired: bigint }>(
      'SELECT count(*)::int8 AS expired FROM billing_usage_reports WHERE organization_id = $1 AND expires_at <= $2',
      [org.id, new Date('2026-11-01T00:01:01Z')],
    );
    assert.equal(rows[0]!.expired, 0n);
  });

  test('bad input is a 400 naming the field', async () => {
    app.clock.set(new Date('2026-11-01T00:00:00Z'));
    const org = await createOrganization();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ from: '2026-10-02T00:00:00Z', to: '2026-10-01T00:00:00Z', report_expiration_in_seconds: 60 }, 'to'],
      [{ from: '2026-10-01T00:00:00Z', to: '2026-10-01T00:00:00Z', report_expiration_in_seconds: 60 }, 'to'],
      [{ from: '2025-01-01T00:00:00Z', to: '2026-01-03T00:00:00Z', report_expiration_in_seconds: 60 }, 'to'],
      [{ from: 'yesterday', to: '2026-10-01T00:00:00Z', report_expiration_in_seconds: 60 }, 'from'],
      [{ from: '2026-10-01T00:00:00Z', to: '2026-13-45T00:00:00Z', report_expiration_in_seconds: 60 }, 'to'],
      [{ from: '2026-10-01T00:00:00Z', to: '2026-11-01T00:00:00Z', report_expiration_in_seconds: 59 }, 'report_expiration_in_seconds'],
      [{ from: '2026-10-01T00:00:00Z', to: '2026-11-01T00:00:00Z', report_expiration_in_seconds: 604801 }, 'report_expiration_in_seconds'],
      [{ from: '2026-10-01T00:00:00Z', to: '2026-11-01T00:00:00Z' }, 'report_expiration_in_seconds'],
    ];
    for (const [body, field] of cases) {
      const result = await generateReport(org, body);
      assert.equal(result.status, 400, `${JSON.stringify(body)}: ${result.text}`);
      assert.ok(result.body.fields.some((entry: { field: string }) => entry.field === field), `${JSON.stringify(body)} names ${field}: ${result.text}`);
    }
    const fullYear = await generateReport(org, { from: '2024-01-01T00:00:00Z', to: '2025-01-01T00:00:00Z', report_expiration_in_seconds: 60 });
    assert.equal(fullYear.status, 200, '366 days (a leap year) is allowed');
  });

  test('members 403, outsiders 404, no credentials 401', async () => {
    const org = await createOrganization();
    const other = await createOrganization();
    const body = { from: '2026-10-01T00:00:00Z', to: '2026-11-01T00:00:00Z', report_expiration_in_seconds: 60 };
    assert.equal((await http(app, 'POST', `/organization/${org.id}/billingUsageReport`, { headers: org.member, body })).status, 403);
    assert.equal((await http(app, 'POST', `/organization/${org.id}/billingUsageReport`, { headers: other.owner, body })).status, 404);
    assert.equal((await http(app, 'POST', `/organization/${org.id}/billingUsageReport`, { body })).status, 401);
    assert.equal((await http(app, 'POST', `/organization/${org.id}/billingUsageReport`, { headers: org.billing, body })).status, 200);
  });
});

describe('GET /organization/{id}/billingExternalId', () => {
  test('creates the provider customer on first need and answers the same id afterwards; same access as billing info', async () => {
    const org = await createOrganization();
    const first = await http(app, 'GET', `/organization/${org.id}/billingExternalId`, { headers: org.owner });
    assert.equal(first.status, 200, first.text);
    assert.equal(typeof first.body.id, 'string');
    assert.ok(first.body.id.length > 0);
    const second = await http(app, 'GET', `/organization/${org.id}/billingExternalId`, { headers: org.billing });
    assert.deepEqual(second.body, first.body);
    const card = await http(app, 'POST', `/organization/${org.id}/creditCard`, { headers: org.owner, body: { token: 'tok_visa' } });
    assert.equal(card.status, 201, card.text);
    assert.deepEqual((await http(app, 'GET', `/organization/${org.id}/billingExternalId`, { headers: org.admin })).body, first.body, 'the card went to the same customer');
    const other = await createOrganization();
    assert.equal((await http(app, 'GET', `/organization/${org.id}/billingExternalId`, { headers: org.member })).status, 403);
    assert.equal((await http(app, 'GET', `/organization/${org.id}/billingExternalId`, { headers: other.owner })).status, 404);
    assert.equal((await http(app, 'GET', `/organization/${org.id}/billingExternalId`)).status, 401);
  });
});

describe('deployment restriction', () => {
  test('null with a usable card, INVOICE_UNPAID once an invoice is overdue, NO_CREDIT_LEFT on a credits plan without credit', async () => {
    app.clock.set(new Date('2026-11-01T00:00:00Z'));
    const org = await createOrganization({ plan: 'REPORT_USAGE' });
    const credits = await http(app, 'GET', `/organization/${org.id}/billingStatus`, { headers: org.owner });
    assert.equal(credits.body.reason, 'NO_CREDIT_LEFT');
    await completeBillingInfo(org);
    assert.equal((await http(app, 'POST', `/organization/${org.id}/creditCard`, { headers: org.owner, body: { token: 'tok_chargeCustomerFail' } })).status, 201);
    const plan = await http(app, 'POST', `/organization/${org.id}/changePlan`, { headers: org.owner, body: { plan: 'REPORT_TEAM' } });
    assert.equal(plan.body.billing_deployment_restriction, null);
    const status = await http(app, 'GET', `/organization/${org.id}/billingStatus`, { headers: org.owner });
    assert.deepEqual(status.body, { is_valid: true, message: 'Billing is in good standing.', reason: null });

    app.clock.set(new Date('2026-12-01T00:00:00Z'));
    await runBilling(app, '2026-12-01T00:00:00Z');
    app.clock.set(new Date('2026-12-09T00:00:00Z'));
    const overdue = await http(app, 'GET', `/organization/${org.id}/billingStatus`, { headers: org.owner });
    assert.equal(overdue.body.is_valid, false);
    assert.equal(overdue.body.reason, 'INVOICE_UNPAID');
    const again = await http(app, 'POST', `/organization/${org.id}/changePlan`, { headers: org.owner, body: { plan: 'REPORT_TEAM' } });
    assert.equal(again.body.billing_deployment_restriction, 'INVOICE_UNPAID');
  });
});

describe('empty bodies', () => {
  test('a route that takes no body accepts an empty one whatever its content type; a JSON route still refuses other types', async () => {
    const org = await createOrganization();
    await completeBillingInfo(org); // downloadInvoices needs a billing e-mail (issue 8)
    for (const type of ['application/x-www-form-urlencoded', 'application/json', 'text/plain', 'application/octet-stream']) {
      const result = await http(app, 'POST', `/organization/${org.id}/downloadInvoices`, { headers: { ...org.owner, 'content-type': type }, body: '' });
      assert.equal(result.status, 202, `${type}: ${result.text}`);
    }
    const nonEmpty = await http(app, 'POST', `/organization/${org.id}/downloadInvoices`, {
      headers: { ...org.owner, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'a=1',
    });
    assert.equal(nonEmpty.status, 415, nonEmpty.text);
    const json = await http(app, 'POST', `/organization/${org.id}/creditCode`, { headers: { ...org.owner, 'content-type': 'text/plain' }, body: 'WELCOME' });
    assert.equal(json.status, 415, json.text);
    const emptyForm = await http(app, 'POST', `/organization/${org.id}/creditCode`, {
      headers: { ...org.owner, 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    assert.equal(emptyForm.status, 415, emptyForm.text);
  });
});

describe('OpenAPI', () => {
  test('the three routes carry the client schema names', async () => {
    const document = (await http(app, 'GET', '/openapi.json')).body;
    const report = document.paths['/organization/{organizationId}/billingUsageReport'].post;
    assert.equal(report.operationId, 'generateBillingUsageReport');
    assert.equal(report.requestBody.content['application/json'].schema.title, 'OrganizationBillingUsageReportRequest');
    assert.deepEqual(report.requestBody.content['application/json'].schema.required, ['from', 'to', 'report_expiration_in_seconds']);
    assert.equal(report.responses['200'].content['application/json'].schema.title, 'OrganizationBillingUsageReportResponse');
    const externalId = document.paths['/organization/{organizationId}/billingExternalId'].get;
    assert.equal(externalId.operationId, 'getOrganizationBillingExternalId');
    assert.equal(externalId.responses['200'].content['application/json'].schema.title, 'BillingExternalId');
    const downloads = document.paths['/organization/{organizationId}/downloadInvoices'].post;
    assert.equal(downloads.operationId, 'organizationDownloadAllInvoices');
    const organization = document.paths['/organization/{organizationId}/changePlan'].post.responses['200'].content['application/json'].schema;
    assert.equal(organization.title, 'Organization');
    assert.ok(JSON.stringify(organization.properties.billing_deployment_restriction).includes('NO_CREDIT_CARD'));
  });
});
