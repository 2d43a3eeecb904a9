/**
 * Billing runs as resources: POST answers 202 with the run and a job works it; GET shows its progress. A run whose
 * process died is picked up after its job's lease by another worker and finished: nothing stays `running`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { billingRunJobKey } from '../../src/billing/invoices/execute-billing-run.js';
import { recordBillingRunProgress } from '../../src/billing/invoices/billing-run.js';
import { issueInvoices } from '../../src/billing/invoices/issue-invoices.js';
import { systemCaller } from '../../src/domain/actor.js';
import { billingRunExecutionQueue } from '../../src/jobs/queues.js';
import { http, startTestApp, type TestApp } from '../support/test-app.js';
import { listInvoices, putPlan, organizationsWithUsage } from './invoice-fixtures.js';

let app: TestApp;
before(async () => {
  app = await startTestApp({ BURSAR_JOB_LEASE_SECONDS: '1' });
  await putPlan(app, 'BUSINESS', { monthly: 3000, kind: 'invoiced' });
});
after(async () => app.close());


const runFields = ['id', 'status', 'as_of', 'organizations_total', 'invoiced', 'skipped', 'failed', 'started_at', 'finished_at'];

describe('billing runs as resources', () => {
  it('POST answers 202 with the pending run at once; a job works it; GET and the list show it', async () => {
    const organizations = await organizationsWithUsage(app, 3, '2026-03');
    app.clock.set(new Date('2026-04-01T00:00:10Z'));
    const started = await http(app, 'POST', '/admin/billing-runs', { headers: app.admin, body: { as_of: '2026-04-01T00:00:00Z' } });
    assert.equal(started.status, 202, started.text);
    for (const field of runFields) assert.ok(field in started.body, `the run has ${field}`);
    assert.equal(started.body.status, 'pending');
    assert.equal(started.body.organizations_total, 3);
    assert.equal(started.body.invoiced, 0);
    assert.equal(started.body.started_at, null);
    assert.equal(started.body.finished_at, null);
    assert.equal(started.headers.get('location'), `/admin/billing-runs/${started.body.id}`);
    for (const org of organizations) assert.deepEqual(await listInvoices(app, org), [], 'nothing is invoiced before the job runs');

    assert.equal(await app.app.context.jobs.runUntilIdle({ maxJobs: 1 }), 1);
    const finished = await http(app, 'GET', `/admin/billing-runs/${started.body.id}`, { headers: app.admin });
    assert.equal(finished.status, 200, finished.text);
    assert.equal(finished.body.status, 'completed');
    assert.equal(finished.body.invoiced, 3);
    assert.equal(finished.body.skipped, 0);
    assert.equal(finished.body.failed, 0);
    assert.equal(finished.body.as_of, '2026-04-01T00:00:00.000Z');
    assert.ok(finished.body.started_at !== null && finished.body.finished_at !== null);
    for (const org of organizations) assert.equal((await listInvoices(app, org)).length, 1);

    const listed = await http(app, 'GET', '/admin/billing-runs?limit=1', { headers: app.admin });
    assert.equal(listed.status, 200, listed.text);
    assert.equal(listed.body.results[0].id, started.body.id);
    assert.equal((await http(app, 'GET', '/admin/billing-runs/00000000-0000-4000-8000-000000000000', { headers: app.admin })).status, 404);
  });

  it('a run killed mid-way is picked up after its lease by another worker and finished', async () => {
    const organizations = await organizationsWithUsage(app, 4, '2026-05');
    app.clock.set(new Date('2026-06-01T00:00:10Z'));
    const started = await http(app, 'POST', '/admin/billing-runs', { headers: app.admin, body: { as_of: '2026-06-01T00:00:00Z' } });
    assert.equal(started.status, 202, started.text);
    // A worker claimed the run's job, started the run, invoiced two organizations and its process died.
    await app.database.query(
      `UPDATE jobs SET state = 'active', attempts = 1, locked_until = now() + interval '1 second'
        WHERE queue = $1 AND payload->>'runId' = $2`,
      [billingRunExecutionQueue, started.body.id],
    );
    await app.database.query(`UPDATE billing_runs SET status = 'running', started_at = now() WHERE id = $1`, [started.body.id]);
    await issueInvoices(app.app.context, systemCaller('dead worker'), organizations.slice(0, 2).map((org) => org.id), {
      start: new Date('2026-05-01T00:00:00Z'),
      end: new Date('2026-06-01T00:00:00Z'),
    });
    assert.equal((await http(app, 'GET', `/admin/billing-runs/${started.body.id}`, { headers: app.admin })).body.status, 'running');
    const runJob = () => app.app.context.jobs.runNow(billingRunExecutionQueue, billingRunJobKey(started.body.id));
    assert.equal(await runJob(), false, 'the dead worker still holds the lease');

    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(await runJob(), true, 'the lease ran out: another worker takes the run up');
    const finished = await http(app, 'GET', `/admin/billing-runs/${started.body.id}`, { headers: app.admin });
    assert.equal(finished.body.status, 'completed', finished.text);
    assert.equal(finished.body.invoiced + finished.body.skipped, finished.body.organizations_total);
    assert.equal(finished.body.invoiced, 2, 'the two organizations the dead worker had not reached');
    assert.equal(finished.body.failed, 0);
    for (const org of organizations) assert.equal((await listInvoices(app, org)).length, 1);
  });

  it('a run resumed after its worker died starts after the last batch it recorded, and counts each organization once', async () => {
    const organizations = await organizationsWithUsage(app, 3, '2026-07');
    app.clock.set(new Date('2026-08-01T00:00:10Z'));
    const started = await http(app, 'POST', '/admin/billing-runs', { headers: app.admin, body: { as_of: '2026-08-01T00:00:00Z' } });
    assert.equal(started.status, 202, started.text);
    const runId: string = started.body.id;
    // The dead worker had worked and recorded the first half of the organizations (in id order), then died.
    const { rows } = await app.database.query<{ id: string }>(
      `SELECT id FROM organizations WHERE created_at < '2026-08-01T00:00:00Z' ORDER BY id`,
    );
    const done = rows.slice(0, Math.floor(rows.length / 2)).map((row) => row.id);
    await app.database.query(`UPDATE jobs SET state = 'active', attempts = 1, locked_until = now() - interval '1 second' WHERE queue = $1 AND payload->>'runId' = $2`, [
      billingRunExecutionQueue,
      runId,
    ]);
    await app.database.query(`UPDATE billing_runs SET status = 'running', started_at = now() WHERE id = $1`, [runId]);
    const outcomes = await issueInvoices(app.app.context, systemCaller('dead worker'), done, {
      start: new Date('2026-07-01T00:00:00Z'),
      end: new Date('2026-08-01T00:00:00Z'),
    });
    const createdByDead = [...outcomes.values()].filter((outcome) => outcome.outcome === 'created').length;
    await recordBillingRunProgress(
      app.database,
      runId,
      { organizationsSeen: done.length, invoicesCreated: createdByDead, invoicesExisting: 0, organizationsWithoutCharges: done.length - createdByDead, organizationsFailed: 0 },
      done[done.length - 1]!,
    );

    assert.equal(await app.app.context.jobs.runNow(billingRunExecutionQueue, billingRunJobKey(runId)), true);
    const finished = (await http(app, 'GET', `/admin/billing-runs/${runId}`, { headers: app.admin })).body;
    assert.equal(finished.status, 'completed');
    assert.equal(finished.organizations_seen, finished.organizations_total, 'each organization counted once');
    assert.equal(finished.invoiced, 3, 'the invoices of July: those of the dead worker and those of the resumed run');
    assert.equal(finished.skipped, finished.organizations_total - 3);
    for (const org of organizations) assert.equal((await listInvoices(app, org)).length, 1);
  });
});
