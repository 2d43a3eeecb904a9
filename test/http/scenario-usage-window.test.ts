/**
 * Scenario: usage events are checked against their cluster's life and the clock. An event before the cluster's
 * start, at or after its end, or more than 5 minutes in the future is refused with a reason (the rest of the batch
 * is kept); only usage inside the cluster's life is charged. An event for a period already invoiced is late usage:
 * billed on the next invoice as its own line naming its period, capped so that the period's total for the cluster
 * never exceeds the max of the cost range shown for it.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import sql from 'sql-template-tag';
import { lockOrganizationsInvoicing } from '../../src/billing/invoices/invoicing-lock.js';
import { http, startTestApp, type OrganizationFixture, type TestApp } from '../support/test-app.js';
import {
  acmeBillingInfo,
  changePlan,
  createBillingOrganization,
  downloadInvoicePdf,
  getInvoice,
  listInvoices,
  pdfText,
  putPlan,
  registerCluster,
  runBilling,
  setBillingInfo,
} from './invoice-fixtures.js';

let app: TestApp;
before(async () => {
  app = await startTestApp();
});
after(() => app.close());

function at(iso: string): void {
  app.clock.set(new Date(iso));
}

let eventCounter = 0;
function usageEvent(org: OrganizationFixture, clusterId: string, quantity: number, occurredAt: string) {
  return { id: `window-${++eventCounter}`, organization_id: org.id, cluster_id: clusterId, metric: 'node_hours', quantity, occurred_at: occurredAt };
}

async function sendUsage(events: Array<ReturnType<typeof usageEvent>>): Promise<any> {
  const result = await http(app, 'POST', '/admin/usage-events', { headers: app.admin, body: { events } });
  assert.equal(result.status, 200, result.text);
  return result.body;
}

async function invoiceFor(org: OrganizationFixture, periodStart: string): Promise<any> {
  const invoice = (await listInvoices(app, org)).find((item) => item.period_start === periodStart);
  assert.ok(invoice, `no invoice for the period starting ${periodStart}`);
  return getInvoice(app, org, invoice.id);
}

const usageLines = (invoice: any) => invoice.lines.filter((line: any) => line.kind === 'usage');

async function invoicedOrganization(name: string): Promise<OrganizationFixture> {
  const org = await createBillingOrganization(app, { name });
  await setBillingInfo(app, org, acmeBillingInfo);
  await changePlan(app, org, 'METERED');
  return org;
}

describe('usage outside a cluster’s life and in the future', () => {
  it('refuses each such event by index, id and reason, keeps the others, and charges only usage inside the life', async () => {
    at('2026-01-01T00:00:00Z');
    await putPlan(app, 'METERED', { monthly: 0, kind: 'invoiced', name: 'Metered' });
    const org = await invoicedOrganization('Window');
    // Registered on January 10; 20 cents a node-hour, 1 to 10 nodes.
    const cluster = await registerCluster(app, org.id, { name: 'production', hourly: 20, minNodes: 0, maxNodes: 10, activeFrom: '2026-01-10T00:00:00Z' });
    at('2026-01-20T00:00:00Z');
    const ended = await http(app, 'PATCH', `/admin/organizations/${org.id}/clusters/${cluster}`, { headers: app.admin, body: { active_until: '2026-01-20T00:00:00Z' } });
    assert.equal(ended.status, 200, ended.text);

    at('2026-01-28T00:00:00Z');
    const batch = [
      usageEvent(org, cluster, 50, '2026-01-05T00:00:00Z'), // before the registration
      usageEvent(org, cluster, 100, '2026-01-15T00:00:00Z'), // inside the life
      usageEvent(org, cluster, 500, '2026-01-25T00:00:00Z'), // after active_until
      usageEvent(org, cluster, 70, '2026-01-20T00:00:00Z'), // at active_until (exclusive)
      usageEvent(org, cluster, 9, '2031-01-01T00:00:00Z'), // in the future
    ];
    const answer = await sendUsage(batch);
    assert.equal(answer.accepted, 1);
    assert.equal(answer.duplicates, 0);
    assert.deepEqual(
      answer.rejected.map((item: any) => [item.index, item.id, item.reason]),
      [
        [0, batch[0]!.id, 'before_cluster_start'],
        [2, batch[2]!.id, 'after_cluster_end'],
        [3, batch[3]!.id, 'after_cluster_end'],
        [4, batch[4]!.id, 'in_the_future'],
      ],
    );
    for (const item of answer.rejected) assert.ok(item.message.length > 0);
    // Sent again, the refused events are refused again; the accepted one is a duplicate.
    const again = await sendUsage(batch);
    assert.equal(again.accepted, 0);
    assert.equal(again.duplicates, 1);
    assert.equal(again.rejected.length, 4);

    at('2026-02-01T00:00:05Z');
    await runBilling(app, '2026-02-01T00:00:00Z');
    const january = await invoiceFor(org, '2026-01-01T00:00:00.000Z');
    assert.deepEqual(usageLines(january).map((line: any) => [line.quantity, line.amount_in_cents]), [['100', 2000]]);
  });

  it('accepts an event up to 5 minutes ahead of the clock, refuses one further ahead', async () => {
    at('2026-03-01T00:00:00Z');
    const org = await invoicedOrganization('Drift');
    const cluster = await registerCluster(app, org.id, { name: 'drift', hourly: 20, minNodes: 0, maxNodes: 10 });
    at('2026-03-10T00:00:00Z');
    const answer = await sendUsage([usageEvent(org, cluster, 1, '2026-03-10T00:04:59Z'), usageEvent(org, cluster, 1, '2026-03-10T00:06:00Z')]);
    assert.equal(answer.accepted, 1);
    assert.deepEqual(answer.rejected.map((item: any) => [item.index, item.reason]), [[1, 'in_the_future']]);
  });

  it('stops charging usage recorded before the cluster’s end moved earlier', async () => {
    at('2026-04-01T00:00:00Z');
    const org = await invoicedOrganization('Moved end');
    const cluster = await registerCluster(app, org.id, { name: 'moved', hourly: 20, minNodes: 0, maxNodes: 10 });
    at('2026-04-20T00:00:00Z');
    const answer = await sendUsage([usageEvent(org, cluster, 100, '2026-04-05T00:00:00Z'), usageEvent(org, cluster, 200, '2026-04-15T00:00:00Z')]);
    assert.equal(answer.accepted, 2);
    const ended = await http(app, 'PATCH', `/admin/organizations/${org.id}/clusters/${cluster}`, { headers: app.admin, body: { active_until: '2026-04-10T00:00:00Z' } });
    assert.equal(ended.status, 200, ended.text);
    at('2026-05-01T00:00:05Z');
    await runBilling(app, '2026-05-01T00:00:00Z');
    const april = await invoiceFor(org, '2026-04-01T00:00:00.000Z');
    assert.deepEqual(usageLines(april).map((line: any) => [line.quantity, line.amount_in_cents]), [['100', 2000]]);
  });
});

describe('late usage', () => {
  it('bills usage for an invoiced period on the next invoice, as its own line, capped by the max shown', async () => {
    at('2027-01-01T00:00:00Z');
    await putPlan(app, 'METERED', { monthly: 0, kind: 'invoiced', name: 'Metered' });
    const org = await invoicedOrganization('Late');
    // 20 cents a node-hour, 0 to 2 nodes: January (744 h) costs at most 297.60.
    const cluster = await registerCluster(app, org.id, { name: 'production', hourly: 20, minNodes: 0, maxNodes: 2 });
    at('2027-01-31T12:00:00Z');
    assert.equal((await sendUsage([usageEvent(org, cluster, 1000, '2027-01-20T00:00:00Z')])).accepted, 1);
    const shown = await http(app, 'GET', `/organization/${org.id}/cluster/${cluster}/currentCost`, { headers: org.owner });
    assert.equal(shown.body.max_cost_in_cents, 29760);

    at('2027-02-01T00:00:05Z');
    await runBilling(app, '2027-02-01T00:00:00Z');
    const january = await invoiceFor(org, '2027-01-01T00:00:00.000Z');
    assert.deepEqual(usageLines(january).map((line: any) => line.amount_in_cents), [20000]);

    // February 3: 300 node-hours of January arrive late; they are accepted and counted as late.
    at('2027-02-03T00:00:00Z');
    const late = await sendUsage([usageEvent(org, cluster, 300, '2027-01-25T00:00:00Z'), usageEvent(org, cluster, 100, '2027-02-02T00:00:00Z')]);
    assert.deepEqual([late.accepted, late.late, late.rejected], [2, 1, []]);

    at('2027-03-01T00:00:05Z');
    await runBilling(app, '2027-03-01T00:00:00Z');
    const february = await invoiceFor(org, '2027-02-01T00:00:00.000Z');
    const februaryUsage = usageLines(february);
    assert.equal(februaryUsage.length, 2, JSON.stringify(februaryUsage));
    assert.deepEqual([februaryUsage[0].quantity, februaryUsage[0].amount_in_cents], ['100', 2000]);
    assert.match(februaryUsage[1].description, /^Late usage of January 2027: cluster production/);
    assert.deepEqual([februaryUsage[1].quantity, februaryUsage[1].amount_in_cents], ['300', 6000]);
    assert.equal(february.total_in_cents, 8000);
    const { pdf } = await downloadInvoicePdf(app, org, february.id);
    assert.match(await pdfText(pdf), /Late usage of January 2027: cluster production/);

    // March 2: 600 more node-hours of January: only what is left below January's max (297.60 − 260.00) is billed.
    at('2027-03-02T00:00:00Z');
    assert.equal((await sendUsage([usageEvent(org, cluster, 600, '2027-01-26T00:00:00Z')])).late, 1);
    at('2027-04-01T00:00:05Z');
    await runBilling(app, '2027-04-01T00:00:00Z');
    const march = await invoiceFor(org, '2027-03-01T00:00:00.000Z');
    const marchUsage = usageLines(march);
    assert.equal(marchUsage.length, 1, JSON.stringify(marchUsage));
    assert.match(marchUsage[0].description, /^Late usage of January 2027: cluster production.*capped/);
    assert.deepEqual([marchUsage[0].quantity, marchUsage[0].amount_in_cents], ['600', 3760]);

    // Nothing is billed twice: April has no late line.
    at('2027-05-01T00:00:05Z');
    await runBilling(app, '2027-05-01T00:00:00Z');
    assert.equal((await listInvoices(app, org)).some((invoice) => invoice.period_start === '2027-04-01T00:00:00.000Z'), false);
  });
});

describe('usage while the organization is being invoiced', () => {
  it('waits for the invoicing transaction to end, so that no event falls between the invoice and late usage', async () => {
    at('2027-06-01T00:00:00Z');
    const org = await invoicedOrganization('Busy');
    const cluster = await registerCluster(app, org.id, { name: 'busy', hourly: 20, minNodes: 0, maxNodes: 2 });
    at('2027-06-10T00:00:00Z');
    let settled = false;
    let pending: Promise<any> | undefined;
    await app.database.transaction(async (tx) => {
      await lockOrganizationsInvoicing(tx, [org.id]);
      pending = sendUsage([usageEvent(org, cluster, 5, '2027-06-09T00:00:00Z')]).finally(() => {
        settled = true;
      });
      await sleep(300);
      assert.equal(settled, false, 'the usage batch did not wait for the invoicing lock');
    });
    const answer = await pending!;
    assert.deepEqual([answer.accepted, answer.late], [1, 0]);
  });

  it('counts an event as late usage when the invoice of its period committed while the batch waited', async () => {
    at('2027-08-01T00:00:00Z');
    const org = await invoicedOrganization('Racing');
    const cluster = await registerCluster(app, org.id, { name: 'racing', hourly: 20, minNodes: 0, maxNodes: 2 });
    at('2027-08-20T00:00:00Z');
    await sendUsage([usageEvent(org, cluster, 4, '2027-08-19T00:00:00Z')]);
    at('2027-09-01T00:00:05Z');
    await runBilling(app, '2027-09-01T00:00:00Z');
    const august = await invoiceFor(org, '2027-08-01T00:00:00.000Z');
    at('2027-09-10T00:00:00Z');
    let pending: Promise<any> | undefined;
    await app.database.transaction(async (tx) => {
      await lockOrganizationsInvoicing(tx, [org.id]);
      pending = sendUsage([usageEvent(org, cluster, 3, '2027-09-09T00:00:00Z')]);
      await sleep(300);
      // As an invoicing of September would, while the batch waits: an invoice of the event's period (a copy of
      // August's, moved to September), committed after the batch's request arrived.
      await tx.query(
        sql`INSERT INTO invoices
            SELECT (jsonb_populate_record(NULL::invoices, to_jsonb(i) || jsonb_build_object(
                      'id', gen_random_uuid(), 'number', i.number || '-SEPTEMBER', 'sequence_number', i.sequence_number + 1000000,
                      'period_start', '2027-09-01T00:00:00Z', 'period_end', '2027-10-01T00:00:00Z'))).*
              FROM invoices i WHERE i.id = ${august.id}::uuid`,
      );
    });
    const answer = await pending!;
    assert.deepEqual([answer.accepted, answer.late], [1, 1]);
  });
});
