/** Operator lists: failed jobs (and their retry), organizations by name or slug, invoices across organizations by status. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createOrganization, http, type TestApp, startTestApp } from '../support/test-app.js';
import { acmeBillingInfo, changePlan, createBillingOrganization, putPlan, runBilling, setBillingInfo } from './invoice-fixtures.js';

let app: TestApp;
before(async () => {
  app = await startTestApp();
});
after(async () => {
  await app.close();
});

/** Every page of a list, following `next_cursor`. */
async function allPages(path: string, limit: number): Promise<{ pages: any[][]; results: any[] }> {
  const pages: any[][] = [];
  let cursor: string | null = null;
  do {
    const separator = path.includes('?') ? '&' : '?';
    const page: any = await http(app, 'GET', `${path}${separator}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { headers: app.admin });
    assert.equal(page.status, 200, page.text);
    assert.ok(page.body.results.length <= limit);
    pages.push(page.body.results);
    cursor = page.body.next_cursor;
  } while (cursor !== null && pages.length < 20);
  return { pages, results: pages.flat() };
}

describe('GET /admin/organizations', () => {
  const marker = randomBytes(3).toString('hex');
  let created: Array<{ id: string; slug: string }>;

  before(async () => {
    created = [];
    for (const name of [`Alpha ${marker}`, `Beta ${marker}`, `Gamma ${marker}`]) created.push(await createOrganization(app, { name }));
    await createOrganization(app, { name: 'Unrelated' });
  });

  test('searches name or slug, without regard to case, one page at a time', async () => {
    const { pages, results } = await allPages(`/admin/organizations?q=${marker.toUpperCase()}`, 2);
    assert.deepEqual(pages.map((page) => page.length), [2, 1]);
    assert.deepEqual(results.map((org) => org.id).sort(), created.map((org) => org.id).sort());
    for (const field of ['id', 'slug', 'name', 'plan', 'created_at']) assert.ok(field in results[0], field);

    const bySlug = await http(app, 'GET', `/admin/organizations?q=${encodeURIComponent(created[1]!.slug)}`, { headers: app.admin });
    assert.deepEqual(bySlug.body.results.map((org: any) => org.id), [created[1]!.id]);
    const noMatch = await http(app, 'GET', '/admin/organizations?q=%25_no-such', { headers: app.admin });
    assert.deepEqual(noMatch.body, { results: [], next_cursor: null });
  });

  test('without q lists every organization; a garbled cursor or a bad limit is 400 naming it', async () => {
    const { results } = await allPages('/admin/organizations', 2);
    assert.ok(results.length >= 4);
    assert.equal(new Set(results.map((org) => org.id)).size, results.length, 'no organization twice');
    const garbled = await http(app, 'GET', '/admin/organizations?cursor=not-a-cursor', { headers: app.admin });
    assert.equal(garbled.status, 400, garbled.text);
    assert.deepEqual(garbled.body.fields.map((f: any) => f.field), ['cursor']);
    const tooMany = await http(app, 'GET', '/admin/organizations?limit=5000', { headers: app.admin });
    assert.equal(tooMany.status, 400, tooMany.text);
    assert.deepEqual(tooMany.body.fields.map((f: any) => f.field), ['limit']);
  });

  test('is for operators only', async () => {
    const org = await createOrganization(app);
    assert.equal((await http(app, 'GET', '/admin/organizations', { headers: org.owner })).status, 403);
    assert.equal((await http(app, 'GET', '/admin/organizations')).status, 401);
  });
});

describe('GET /admin/invoices', () => {
  let invoiceIds: string[];
  let voidedId: string;

  before(async () => {
    app.clock.set(new Date('2026-10-01T00:00:00Z'));
    await putPlan(app, 'LISTED', { monthly: 1500, kind: 'invoiced' });
    const orgs = [];
    for (let i = 0; i < 3; i += 1) {
      const org = await createBillingOrganization(app);
      await setBillingInfo(app, org, acmeBillingInfo);
      await changePlan(app, org, 'LISTED');
      orgs.push(org);
    }
    app.clock.set(new Date('2026-11-01T00:00:05Z'));
    await runBilling(app, '2026-11-01T00:00:00Z');
    invoiceIds = [];
    for (const org of orgs) {
      const listed = await http(app, 'GET', `/organization/${org.id}/invoice`, { headers: org.owner });
      invoiceIds.push(...listed.body.results.map((invoice: any) => invoice.id));
    }
    assert.equal(invoiceIds.length, 3);
    voidedId = invoiceIds[0]!;
    const voided = await http(app, 'POST', `/admin/invoices/${voidedId}/void`, { headers: app.admin });
    assert.equal(voided.status, 200, voided.text);
  });

  test('lists the invoices of every organization in one status, newest first, one page at a time', async () => {
    const pending = await allPages('/admin/invoices?status=PENDING', 1);
    assert.ok(pending.results.every((invoice) => invoice.status === 'PENDING'));
    assert.deepEqual(
      pending.results.map((invoice) => invoice.id).filter((id) => invoiceIds.includes(id)).sort(),
      invoiceIds.slice(1).sort(),
    );
    const issued = pending.results.map((invoice) => invoice.created_at);
    assert.deepEqual(issued, [...issued].sort().reverse());
    for (const field of ['id', 'organization_id', 'number', 'status', 'currency_code', 'total_in_cents', 'created_at', 'paid_at', 'voided_at']) {
      assert.ok(field in pending.results[0], field);
    }
    const voided = await http(app, 'GET', '/admin/invoices?status=VOIDED', { headers: app.admin });
    assert.deepEqual(voided.body.results.map((invoice: any) => invoice.id), [voidedId]);
  });

  test('an unknown status is 400 listing the statuses', async () => {
    const result = await http(app, 'GET', '/admin/invoices?status=LOST', { headers: app.admin });
    assert.equal(result.status, 400, result.text);
    assert.equal(result.body.fields[0].field, 'status');
    assert.match(result.body.fields[0].message, /"PAID"/);
  });
});

describe('GET /admin/jobs and POST /admin/jobs/{id}/retry', () => {
  let failedIds: string[];

  before(async () => {
    failedIds = [];
    for (let i = 0; i < 3; i += 1) {
      const { rows } = await app.database.query<{ id: bigint }>(
        `INSERT INTO jobs (queue, payload, state, attempts, max_attempts, last_error)
         VALUES ('test.unhandled', $1::jsonb, 'failed', 3, 3, 'provider timed out') RETURNING id`,
        [JSON.stringify({ attempt: i })],
      );
      failedIds.push(rows[0]!.id.toString());
    }
    await app.database.query(`INSERT INTO jobs (queue, payload, state) VALUES ('test.unhandled', '{}'::jsonb, 'completed')`);
  });

  test('lists failed jobs, newest first, one page at a time, with their last error', async () => {
    const { pages, results } = await allPages('/admin/jobs?status=failed', 2);
    assert.ok(pages.length >= 2);
    assert.ok(results.every((job) => job.status === 'failed'));
    const ours = results.filter((job) => failedIds.includes(job.id));
    assert.deepEqual(ours.map((job) => job.id), [...failedIds].reverse());
    assert.deepEqual(
      { queue: ours[0].queue, attempts: ours[0].attempts, max_attempts: ours[0].max_attempts, last_error: ours[0].last_error, payload: ours[0].payload },
      { queue: 'test.unhandled', attempts: 3, max_attempts: 3, last_error: 'provider timed out', payload: { attempt: 2 } },
    );
  });

  test('a retry makes a failed job due again with fresh attempts, audited; only a failed job can be retried', async () => {
    const id = failedIds[0]!;
    const retried = await http(app, 'POST', `/admin/jobs/${id}/retry`, { headers: { ...app.admin, 'x-request-id': `retry-${id}` } });
    assert.equal(retried.status, 200, retried.text);
    assert.equal(retried.body.id, id);
    assert.equal(retried.body.status, 'pending');
    assert.equal(retried.body.attempts, 0);
    const { rows } = await app.database.query<{ type: string; actor_type: string; changes: any; request_id: string }>(
      `SELECT type, actor_type, changes, request_id FROM audit_events WHERE request_id = $1`,
      [`retry-${id}`],
    );
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.type, 'JOB_RETRY');
    assert.equal(rows[0]!.actor_type, 'operator');
    assert.equal(rows[0]!.changes.jobId, id);
    assert.deepEqual(rows[0]!.changes.state, { old: 'failed', new: 'pending' });

    const again = await http(app, 'POST', `/admin/jobs/${id}/retry`, { headers: app.admin });
    assert.equal(again.status, 409, again.text);
    assert.equal(again.body.error, 'job_not_failed');
    assert.equal((await http(app, 'POST', '/admin/jobs/999999999/retry', { headers: app.admin })).status, 404);
    assert.equal((await http(app, 'POST', '/admin/jobs/abc/retry', { headers: app.admin })).status, 400);
    const listed = await allPages('/admin/jobs?status=failed', 50);
    assert.ok(!listed.results.some((job) => job.id === id));
  });

  test("the retry of a job about an organization is in that organization's audit trail", async () => {
    const org = await createOrganization(app);
    const { rows } = await app.database.query<{ id: bigint }>(
      `INSERT INTO jobs (queue, payload, state, attempts, max_attempts, last_error) VALUES ('test.unhandled', $1::jsonb, 'failed', 8, 8, 'x') RETURNING id`,
      [JSON.stringify({ organizationId: org.id })],
    );
    const id = rows[0]!.id.toString();
    assert.equal((await http(app, 'POST', `/admin/jobs/${id}/retry`, { headers: app.admin })).status, 200);
    const trail = await http(app, 'GET', `/admin/organizations/${org.id}/audit-events?type=JOB_RETRY`, { headers: app.admin });
    assert.deepEqual(trail.body.results.map((event: any) => [event.changes.jobId, event.actor_type]), [[id, 'operator']]);
  });

  test('is for operators only', async () => {
    const org = await createOrganization(app);
    assert.equal((await http(app, 'GET', '/admin/jobs?status=failed', { headers: org.owner })).status, 403);
    assert.equal((await http(app, 'POST', `/admin/jobs/${failedIds[1]}/retry`, { headers: org.owner })).status, 403);
  });
});
