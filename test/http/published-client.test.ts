/**
 * The published TypeScript client (`qovery-typescript-axios`, a dev dependency) run unchanged against a real Bursar:
 * every one of the 16 methods of its BillingApi, with the documented status codes and the fields of each model.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { AxiosResponse, RawAxiosRequestConfig } from 'axios';
import { BillingApi, Configuration } from 'qovery-typescript-axios';
import { createOrganization, http, mintJwt, startTestApp, type OrganizationFixture, type TestApp } from '../support/test-app.js';
import { runBilling } from './invoice-fixtures.js';

let app: TestApp;
let org: OrganizationFixture;
let billing: BillingApi;
/** Every status lands in the answer, so that the test asserts it rather than axios throwing. */
const anyStatus: RawAxiosRequestConfig = { validateStatus: () => true };

before(async () => {
  app = await startTestApp();
  app.clock.set(new Date('2026-11-01T00:00:00Z'));
  const plan = await http(app, 'PUT', '/admin/plans/CLIENT_TEAM', {
    headers: app.admin,
    body: { name: 'Team', monthly_price_in_cents: 29900, currency: 'USD', kind: 'invoiced', trial_days: 0 },
  });
  assert.ok([200, 201].includes(plan.status), plan.text);
  const code = await http(app, 'POST', '/admin/credit-codes', {
    headers: app.admin,
    body: { code: 'CLIENT50', amount_in_cents: 5000, currency: 'USD', max_redemptions: 10, expires_at: '2030-01-01T00:00:00Z' },
  });
  assert.equal(code.status, 201, code.text);
  org = await createOrganization(app);
  const token = await mintJwt(`owner-${org.id}`, { org_id: org.id }, { expiresIn: '100y' });
  billing = new BillingApi(new Configuration({ basePath: app.baseUrl, accessToken: token }));
});
after(async () => {
  await app.close();
});

function expectStatus(response: AxiosResponse, status: number): void {
  assert.equal(response.status, status, `${response.config.method?.toUpperCase()} ${response.config.url}: ${JSON.stringify(response.data)}`);
}

function hasFields(value: object, fields: Record<string, string>): void {
  for (const [field, type] of Object.entries(fields)) {
    const actual = (value as Record<string, unknown>)[field];
    assert.equal(actual === null ? 'null' : typeof actual, type, `${field} of ${JSON.stringify(value)}`);
  }
}

const isoDate = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

test('all 16 BillingApi methods of the published client work unchanged', async () => {
  const called = new Set<string>();
  const call = async <T>(name: keyof BillingApi, run: () => Promise<AxiosResponse<T>>, status: number): Promise<T> => {
    const response = await run();
    expectStatus(response, status);
    called.add(name);
    return response.data;
  };

  const info = await call(
    'editOrganizationBillingInfo',
    () =>
      billing.editOrganizationBillingInfo(
        org.id,
        { first_name: 'Forrest', last_name: 'Gump', email: 'forrest@gump.com', address: '21 Jenny Street', city: 'Greenbow', zip: '36744', country_code: 'US', state: 'Alabama' },
        anyStatus,
      ),
    200,
  );
  assert.equal(info.email, 'forrest@gump.com');
  const read = await call('getOrganizationBillingInfo', () => billing.getOrganizationBillingInfo(org.id, anyStatus), 200);
  assert.deepEqual(
    { ...read },
    { first_name: 'Forrest', last_name: 'Gump', email: 'forrest@gump.com', address: '21 Jenny Street', city: 'Greenbow', zip: '36744', state: 'Alabama', country_code: 'US', company: null, vat_number: null },
  );

  const card = await call(
    'addCreditCard',
    () => billing.addCreditCard(org.id, { number: '4242 4242 4242 4242', cvv: '123', expiry_month: 6, expiry_year: 2030 }, anyStatus),
    201,
  );
  hasFields(card, { id: 'string', created_at: 'string', expiry_month: 'number', expiry_year: 'number', last_digit: 'string', is_expired: 'boolean', brand: 'string' });
  assert.equal(card.last_digit, '4242');
  const cards = await call('listOrganizationCreditCards', () => billing.listOrganizationCreditCards(org.id, anyStatus), 200);
  assert.deepEqual(cards.results?.map((entry) => entry.id), [card.id]);

  await call('addCreditCode', () => billing.addCreditCode(org.id, { code: 'client50' }, anyStatus), 200);

  const organization = await call('changePlan', () => billing.changePlan(org.id, { plan: 'CLIENT_TEAM' }, anyStatus), 200);
  hasFields(organization, { id: 'string', name: 'string', created_at: 'string', billing_deployment_restriction: 'null' });
  assert.equal(organization.organization_plan?.plan, 'CLIENT_TEAM');

  const status = await call('getOrganizationBillingStatus', () => billing.getOrganizationBillingStatus(org.id, anyStatus), 200);
  hasFields(status, { is_valid: 'boolean', message: 'string' });
  assert.equal(status.is_valid, true);

  const cluster = await http(app, 'POST', `/admin/organizations/${org.id}/clusters`, {
    headers: app.admin,
    body: { name: 'prod', hourly_price_per_node_in_cents: 10, min_nodes: 1, max_nodes: 3, fixed_monthly_in_cents: 3000 },
  });
  assert.equal(cluster.status, 201, cluster.text);
  app.clock.set(new Date('2026-11-15T00:00:00Z'));
  const usage = await http(app, 'POST', '/admin/usage-events', {
    headers: app.admin,
    body: { events: [{ id: 'client-evt-1', organization_id: org.id, cluster_id: cluster.body.id, metric: 'node_hours', quantity: 24, occurred_at: '2026-11-02T00:00:00Z' }] },
  });
  assert.ok(usage.status < 300, usage.text);
  assert.equal(usage.body.accepted, 1, usage.text);

  const range = await call('getClusterCurrentCost', () => billing.getClusterCurrentCost(org.id, cluster.body.id, anyStatus), 200);
  hasFields(range, { min_cost_in_cents: 'number', min_cost: 'number', max_cost_in_cents: 'number', max_cost: 'number', currency_code: 'string' });
  assert.ok(range.min_cost_in_cents! <= range.max_cost_in_cents!);
  const current = await call('getOrganizationCurrentCost', () => billing.getOrganizationCurrentCost(org.id, anyStatus), 200);
  hasFields(current, { plan: 'string', remaining_trial_day: 'number', renewal_at: 'string', cost: 'object' });
  hasFields(current.cost!, { total_in_cents: 'number', total: 'number', currency_code: 'string' });

  const externalId = await call('getOrganizationBillingExternalId', () => billing.getOrganizationBillingExternalId(org.id, anyStatus), 200);
  hasFields(externalId, { id: 'string' });

  const report = await call(
    'generateBillingUsageReport',
    () => billing.generateBillingUsageReport(org.id, { from: '2026-11-01T00:00:00.000Z', to: '2026-11-15T00:00:00.000Z', report_expiration_in_seconds: 3600 }, anyStatus),
    200,
  );
  hasFields(report, { report_url: 'string', delete_report_url: 'string' });
  const csv = await fetch(report.report_url!);
  assert.equal(csv.status, 200);
  assert.match(await csv.text(), /^\uFEFF?organization_id,organization_name,cluster_id,/);

  app.clock.set(new Date('2026-12-01T00:00:00Z'));
  await runBilling(app, '2026-12-01T00:00:00Z');

  const invoices = await call('listOrganizationInvoice', () => billing.listOrganizationInvoice(org.id, anyStatus), 200);
  assert.equal(invoices.results?.length, 1);
  const invoice = await call('getOrganizationInvoice', () => billing.getOrganizationInvoice(org.id, invoices.results![0]!.id, anyStatus), 200);
  hasFields(invoice, { id: 'string', created_at: 'string', status: 'string', total_in_cents: 'number', total: 'number', currency_code: 'string' });
  assert.match(invoice.created_at, isoDate);
  const link = await call('getOrganizationInvoicePDF', () => billing.getOrganizationInvoicePDF(org.id, invoice.id, anyStatus), 200);
  const url = (link as unknown as { url: string }).url;
  assert.equal((await fetch(url)).headers.get('content-type'), 'application/pdf');

  // axios sends this POST with Content-Type application/x-www-form-urlencoded and no body
  await call('organizationDownloadAllInvoices', () => billing.organizationDownloadAllInvoices(org.id, anyStatus), 202);

  await call('deleteCreditCard', () => billing.deleteCreditCard(org.id, card.id, anyStatus), 204);
  const after = await call('listOrganizationCreditCards', () => billing.listOrganizationCreditCards(org.id, anyStatus), 200);
  assert.deepEqual(after.results, []);

  const methods = Object.getOwnPropertyNames(BillingApi.prototype).filter((name) => name !== 'constructor');
  assert.equal(methods.length, 16);
  assert.deepEqual([...called].sort(), methods.sort());
});

test('the client sees the documented errors: 401 without a token, 403 for a member, 404 for an outsider, 400 naming a field', async () => {
  const anonymous = new BillingApi(new Configuration({ basePath: app.baseUrl }));
  expectStatus(await anonymous.getOrganizationBillingInfo(org.id, anyStatus), 401);
  const member = new BillingApi(new Configuration({ basePath: app.baseUrl, accessToken: await mintJwt(`member-${org.id}`, {}, { expiresIn: '100y' }) }));
  expectStatus(await member.getOrganizationBillingExternalId(org.id, anyStatus), 403);
  expectStatus(await member.generateBillingUsageReport(org.id, { from: '2026-11-01T00:00:00Z', to: '2026-11-02T00:00:00Z', report_expiration_in_seconds: 60 }, anyStatus), 403);
  const outsider = new BillingApi(new Configuration({ basePath: app.baseUrl, accessToken: await mintJwt('nobody', {}, { expiresIn: '100y' }) }));
  expectStatus(await outsider.organizationDownloadAllInvoices(org.id, anyStatus), 404);
  const bad = await billing.generateBillingUsageReport(org.id, { from: '2026-11-02T00:00:00Z', to: '2026-11-01T00:00:00Z', report_expiration_in_seconds: 60 }, anyStatus);
  expectStatus(bad, 400);
  assert.deepEqual((bad.data as unknown as { fields: Array<{ field: string }> }).fields.map((entry) => entry.field), ['to']);
});
