/**
 * New organizations: the plan they start on is BURSAR_DEFAULT_PLAN (default FREE), and a credits plan may grant
 * credits (`credit_grant_in_cents`), once when an organization joins it or at the start of every period: sign-up
 * credit that makes a new credits-plan organization valid from its first minute.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { auditEvents, http, startTestApp, type TestApp } from '../support/test-app.js';
import { changePlan, createBillingOrganization } from './invoice-fixtures.js';

async function putGrantPlan(app: TestApp, code: string, body: Record<string, unknown>) {
  return http(app, 'PUT', `/admin/plans/${code}`, {
    headers: app.admin,
    body: { name: code, monthly_price_in_cents: 0, currency: 'USD', kind: 'credits', trial_days: 0, ...body },
  });
}

async function balance(app: TestApp, org: { id: string; owner: Record<string, string> }): Promise<number> {
  const credits = await http(app, 'GET', `/organization/${org.id}/credits`, { headers: org.owner });
  assert.equal(credits.status, 200, credits.text);
  return credits.body.balance_in_cents;
}

describe('with BURSAR_DEFAULT_PLAN', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ BURSAR_DEFAULT_PLAN: 'STARTER' });
  });
  after(async () => app.close());

  test('until the default plan exists, creating an organization without a plan says so (409)', async () => {
    const refused = await http(app, 'POST', '/admin/organizations', { headers: app.admin, body: { name: 'Too Early' } });
    assert.equal(refused.status, 409, refused.text);
    assert.equal(refused.body.error, 'default_plan_missing');
    assert.match(refused.body.message, /BURSAR_DEFAULT_PLAN=STARTER/);
  });

  test('a new organization starts on the default plan and gets its sign-up credit once, audited', async () => {
    const put = await putGrantPlan(app, 'STARTER', { credit_grant_in_cents: 500, credit_grant_mode: 'once' });
    assert.equal(put.status, 201, put.text);
    assert.equal(put.body.credit_grant_in_cents, 500);
    assert.equal(put.body.credit_grant_mode, 'once');
    app.clock.set(new Date('2026-03-10T00:00:00Z'));
    const org = await createBillingOrganization(app);
    const cost = await http(app, 'GET', `/organization/${org.id}/currentCost`, { headers: org.owner });
    assert.equal(cost.body.plan, 'STARTER');
    assert.equal(await balance(app, org), 500);
    const status = await http(app, 'GET', `/organization/${org.id}/billingStatus`, { headers: org.owner });
    assert.equal(status.body.is_valid, true, 'the sign-up credit makes the credits-plan organization valid');
    const grant = (await auditEvents(app, org.id)).find((event) => event.type === 'CREDIT_GRANT');
    assert.equal(grant.changes.plan, 'STARTER');
    assert.equal(grant.changes.amountMinor, '500');

    // Leaving and joining again grants nothing more: once per organization and plan.
    await putGrantPlan(app, 'OTHER', {});
    await changePlan(app, org, 'OTHER');
    await changePlan(app, org, 'STARTER');
    assert.equal(await balance(app, org), 500);
  });

  test('a plan that grants every period grants again at each period start, by the schedule', async () => {
    await putGrantPlan(app, 'MONTHLY_CREDIT', { credit_grant_in_cents: 300, credit_grant_mode: 'every_period' });
    app.clock.set(new Date('2026-05-10T00:00:00Z'));
    const org = await createBillingOrganization(app, { plan: 'MONTHLY_CREDIT' });
    assert.equal(await balance(app, org), 300, 'granted on joining, for May');
    await app.app.context.jobs.scheduleRecurring();
    await app.app.context.jobs.runUntilIdle();
    assert.equal(await balance(app, org), 300, 'June has not started');
    app.clock.set(new Date('2026-06-01T00:00:05Z'));
    await app.app.context.jobs.runUntilIdle();
    assert.equal(await balance(app, org), 600, 'granted for June');
    await app.app.context.jobs.runUntilIdle();
    assert.equal(await balance(app, org), 600, 'once per period');
  });

  test('only a credits plan grants credits', async () => {
    const refused = await http(app, 'PUT', '/admin/plans/PAID_GRANT', {
      headers: app.admin,
      body: { name: 'Paid', monthly_price_in_cents: 1000, currency: 'USD', kind: 'invoiced', trial_days: 0, credit_grant_in_cents: 100 },
    });
    assert.equal(refused.status, 400, refused.text);
    assert.deepEqual(refused.body.fields.map((field: { field: string }) => field.field), ['credit_grant_in_cents']);
  });
});
