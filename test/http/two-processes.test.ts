/**
 * Two Bursar processes on one database, as behind a load balancer: nothing one of them answers depends on state
 * the other lacks (signed links, idempotency keys, jobs, profile versions).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createOrganization, http, startTestApp, type TestApp } from '../support/test-app.js';
import { acmeBillingInfo, changePlan, createBillingOrganization, putPlan, runBilling, setBillingInfo } from './invoice-fixtures.js';

let first: TestApp;
let second: TestApp;
before(async () => {
  first = await startTestApp();
  second = await startTestApp({}, { shareDatabaseOf: first });
});
after(async () => {
  await second.close();
  await first.close();
});

describe('two processes on one database', () => {
  test('an invoice link signed by one process is served by the other', async () => {
    for (const app of [first, second]) app.clock.set(new Date('2026-03-01T00:00:00Z'));
    await putPlan(first, 'PRO_TWO', { monthly: 4900, kind: 'invoiced' });
    const org = await createBillingOrganization(first);
    await setBillingInfo(first, org, acmeBillingInfo);
    await changePlan(first, org, 'PRO_TWO');
    for (const app of [first, second]) app.clock.set(new Date('2026-04-01T00:00:01Z'));
    await runBilling(second, '2026-04-01T00:00:00Z');
    const invoices = await http(second, 'GET', `/organization/${org.id}/invoice`, { headers: org.owner });
    assert.equal(invoices.body.results.length, 1);
    const link = await http(first, 'GET', `/organization/${org.id}/invoice/${invoices.body.results[0].id}/download`, { headers: org.owner });
    const url = new URL(link.body.url);
    const response = await fetch(`${second.baseUrl}${url.pathname}${url.search}`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/pdf');
    assert.equal((await response.arrayBuffer()).byteLength > 1000, true);
  });

  test('an Idempotency-Key used on one process is replayed by the other', async () => {
    const org = await createOrganization(first);
    const code = await http(first, 'POST', '/admin/credit-codes', {
      headers: first.admin,
      body: { code: `TWO-${org.id.slice(0, 8)}`, amount_in_cents: 1000, currency: 'USD' },
    });
    assert.equal(code.status, 201, code.text);
    const headers = { ...org.owner, 'idempotency-key': 'same-key-on-both' };
    const once = await http(first, 'POST', `/organization/${org.id}/creditCode`, { headers, body: { code: code.body.code } });
    const again = await http(second, 'POST', `/organization/${org.id}/creditCode`, { headers, body: { code: code.body.code } });
    assert.equal(once.status, 200, once.text);
    assert.equal(again.status, 200, again.text);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(again.body, once.body);
    const credits = await http(second, 'GET', `/organization/${org.id}/credits`, { headers: org.owner });
    assert.equal(credits.body.balance_in_cents, 1000);
    assert.equal(credits.body.entries.length, 1);
  });

  test('a job enqueued through one process runs once, on whichever worker claims it', async () => {
    const org = await createOrganization(first);
    await http(first, 'PUT', `/organization/${org.id}/billingInfo`, { headers: org.owner, body: acmeBillingInfo });
    await Promise.all([first.app.context.jobs.runUntilIdle(), second.app.context.jobs.runUntilIdle()]);
    const { rows } = await first.database.query<{ state: string; attempts: number }>(
      `SELECT state, attempts FROM jobs WHERE queue = 'payments.sync-customer' AND payload->>'organizationId' = $1`,
      [org.id],
    );
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.state, 'completed');
    assert.equal(rows[0]!.attempts, 1);
  });

  test('concurrent profile updates through both processes are all applied, and the ETag is shared', async () => {
    const org = await createOrganization(first);
    const fields = ['billing_city', 'billing_state', 'billing_postal_code', 'billing_company_name', 'billing_tax_id', 'billing_address_line1'];
    const results = await Promise.all(
      fields.map((field, index) =>
        http(index % 2 === 0 ? first : second, 'PATCH', `/api/v2/external/orgs/${org.slug}`, { headers: org.owner, body: { [field]: `value ${index}` } }),
      ),
    );
    assert.deepEqual(results.map((r) => r.status), fields.map(() => 200));
    const fromFirst = await http(first, 'GET', `/api/v2/external/orgs/${org.slug}`, { headers: org.owner });
    const fromSecond = await http(second, 'GET', `/api/v2/external/orgs/${org.slug}`, { headers: org.owner });
    fields.forEach((field, index) => assert.equal(fromFirst.body.billing_details[field], `value ${index}`));
    assert.equal(fromFirst.headers.get('etag'), fromSecond.headers.get('etag'));
  });
});
