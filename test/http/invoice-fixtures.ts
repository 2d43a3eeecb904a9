/** Helpers shared by the invoice test files: plans, billing details, clusters, usage, billing runs, PDFs and ZIPs. */
import assert from 'node:assert/strict';
import { PDFParse } from 'pdf-parse';
import { billingRunJobKey } from '../../src/billing/invoices/execute-billing-run.js';
import { billingRunExecutionQueue } from '../../src/jobs/queues.js';
import { readZipEntries } from '../fixtures/read-zip.js';
import { createOrganization, http, mintJwt, type OrganizationFixture, type TestApp } from '../support/test-app.js';

/**
 * An organization whose members' tokens stay valid while the test clock moves over months and years
 * (the fixtures' default tokens last an hour of wall-clock time).
 */
export async function createBillingOrganization(app: TestApp, values: { name?: string; plan?: string } = {}): Promise<OrganizationFixture> {
  const org = await createOrganization(app, values);
  for (const role of ['owner', 'admin', 'billing', 'member'] as const) {
    org[role] = { authorization: `Bearer ${await mintJwt(`${role}-${org.id}`, { org_id: org.id }, { expiresIn: '100y' })}` };
  }
  return org;
}

export async function putPlan(
  app: TestApp,
  code: string,
  values: { monthly: number; kind: 'credits' | 'invoiced'; trialDays?: number; currency?: string; name?: string },
): Promise<void> {
  const result = await http(app, 'PUT', `/admin/plans/${code}`, {
    headers: app.admin,
    body: {
      name: values.name ?? code,
      monthly_price_in_cents: values.monthly,
      currency: values.currency ?? 'USD',
      kind: values.kind,
      trial_days: values.trialDays ?? 0,
    },
  });
  assert.ok(result.status === 200 || result.status === 201, `put plan ${code}: ${result.status} ${result.text}`);
}

export interface BillingInfoValues {
  first_name: string;
  last_name: string;
  email: string;
  address: string;
  city: string;
  zip: string;
  country_code: string;
  company?: string | null;
  vat_number?: string | null;
  state?: string | null;
}

export const acmeBillingInfo: BillingInfoValues = {
  first_name: 'Jane',
  last_name: 'Doe',
  email: 'billing@acme.test',
  address: '42 Rue de la Paix',
  city: 'Paris',
  zip: '75002',
  country_code: 'FR',
  company: 'Acme SAS',
  vat_number: 'FR12345678901',
};

export async function setBillingInfo(app: TestApp, org: OrganizationFixture, values: BillingInfoValues): Promise<void> {
  const result = await http(app, 'PUT', `/organization/${org.id}/billingInfo`, { headers: org.owner, body: values });
  assert.equal(result.status, 200, result.text);
}

export async function changePlan(app: TestApp, org: OrganizationFixture, plan: string): Promise<void> {
  const result = await http(app, 'POST', `/organization/${org.id}/changePlan`, { headers: org.owner, body: { plan } });
  assert.equal(result.status, 200, result.text);
}

export async function registerCluster(
  app: TestApp,
  organizationId: string,
  values: { name: string; hourly: number; minNodes: number; maxNodes: number; fixedMonthly?: number; activeFrom?: string },
): Promise<string> {
  const result = await http(app, 'POST', `/admin/organizations/${organizationId}/clusters`, {
    headers: app.admin,
    body: {
      name: values.name,
      hourly_price_per_node_in_cents: values.hourly,
      min_nodes: values.minNodes,
      max_nodes: values.maxNodes,
      ...(values.fixedMonthly !== undefined ? { fixed_monthly_in_cents: values.fixedMonthly } : {}),
      ...(values.activeFrom !== undefined ? { active_from: values.activeFrom } : {}),
    },
  });
  assert.equal(result.status, 201, result.text);
  return result.body.id;
}

/**
 * Organizations with usage in `month` (YYYY-MM): each created at the month's first instant with one cluster, and
 * 10 + its index node-hours recorded on the 5th (usage is recorded once it happened: an event more than 5 minutes
 * ahead of the clock is refused). Leaves the clock on the 5th.
 */
export async function organizationsWithUsage(app: TestApp, count: number, month: string): Promise<OrganizationFixture[]> {
  const organizations: OrganizationFixture[] = [];
  for (let index = 0; index < count; index++) {
    app.clock.set(new Date(`${month}-01T00:00:00Z`));
    const org = await createBillingOrganization(app);
    const cluster = await registerCluster(app, org.id, { name: `c${index}`, hourly: 2, minNodes: 0, maxNodes: 3 });
    app.clock.set(new Date(`${month}-05T00:00:00Z`));
    await sendUsage(app, org.id, cluster, 10 + index, `${month}-05T00:00:00Z`);
    organizations.push(org);
  }
  return organizations;
}

let usageCounter = 0;

/** Sends one usage event and checks that it was recorded (not refused: inside the cluster's life, not in the future). */
export async function sendUsage(app: TestApp, organizationId: string, clusterId: string, nodeHours: number, occurredAt: string): Promise<void> {
  usageCounter += 1;
  const result = await http(app, 'POST', '/admin/usage-events', {
    headers: app.admin,
    body: {
      events: [
        {
          id: `usage-${clusterId}-${usageCounter}-${occurredAt}`,
          organization_id: organizationId,
          cluster_id: clusterId,
          metric: 'node_hours',
          quantity: nodeHours,
          occurred_at: occurredAt,
        },
      ],
    },
  });
  assert.equal(result.status, 200, result.text);
  assert.deepEqual(result.body.rejected, [], `the usage event of ${occurredAt} was refused: ${result.text}`);
}

/** Starts a billing run (202), works its job now (only that job: the invoices' own jobs stay queued) and reads it back. */
export async function runBilling(app: TestApp, asOf: string): Promise<any> {
  const started = await http(app, 'POST', '/admin/billing-runs', { headers: app.admin, body: { as_of: asOf } });
  assert.equal(started.status, 202, started.text);
  return finishBillingRun(app, started.body.id);
}

/** Works the job of a started run in this test's process and answers the finished run. */
export async function finishBillingRun(app: TestApp, runId: string): Promise<any> {
  await app.app.context.jobs.runNow(billingRunExecutionQueue, billingRunJobKey(runId));
  const result = await http(app, 'GET', `/admin/billing-runs/${runId}`, { headers: app.admin });
  assert.equal(result.status, 200, result.text);
  assert.ok(result.body.status === 'completed' || result.body.status === 'failed', `run ${runId} is ${result.body.status}`);
  return result.body;
}

export async function listInvoices(app: TestApp, org: OrganizationFixture): Promise<any[]> {
  const result = await http(app, 'GET', `/organization/${org.id}/invoice`, { headers: org.owner });
  assert.equal(result.status, 200, result.text);
  return result.body.results;
}

export async function getInvoice(app: TestApp, org: OrganizationFixture, invoiceId: string): Promise<any> {
  const result = await http(app, 'GET', `/organization/${org.id}/invoice/${invoiceId}`, { headers: org.owner });
  assert.equal(result.status, 200, result.text);
  return result.body;
}

/** Asks for the signed link and fetches it without credentials. */
export async function downloadInvoicePdf(app: TestApp, org: OrganizationFixture, invoiceId: string): Promise<{ url: string; pdf: Buffer; contentType: string | null }> {
  const link = await http(app, 'GET', `/organization/${org.id}/invoice/${invoiceId}/download`, { headers: org.billing });
  assert.equal(link.status, 200, link.text);
  assert.deepEqual(Object.keys(link.body), ['url']);
  const response = await fetch(link.body.url);
  assert.equal(response.status, 200, await response.clone().text());
  return { url: link.body.url, pdf: Buffer.from(await response.arrayBuffer()), contentType: response.headers.get('content-type') };
}

/** The text of a PDF, with the no-break spaces of some currency formats made plain. */
export async function pdfText(pdf: Buffer): Promise<string> {
  const parser = new PDFParse({ data: new Uint8Array(pdf) });
  try {
    const result = await parser.getText();
    return result.text.replace(/[\u00a0\u202f]/g, ' ');
  } finally {
    await parser.destroy();
  }
}

export function assertContainsAll(text: string, fragments: string[]): void {
  for (const fragment of fragments) assert.ok(text.includes(fragment), `text lacks ${JSON.stringify(fragment)}:\n${text}`);
}

/** Every entry of a ZIP, by name. */
export async function readZip(zipBytes: Buffer): Promise<Map<string, Buffer>> {
  const entries = await readZipEntries(zipBytes);
  return new Map([...entries].map(([name, entry]) => [name, entry.content]));
}

/** Runs every queued job that is due now (workers do not run by themselves in tests). */
export async function runJobs(app: TestApp): Promise<number> {
  return app.app.context.jobs.runUntilIdle();
}
