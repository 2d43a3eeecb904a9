import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { auditEvents, http, startTestApp, type TestApp } from '../support/test-app.js';
import { createBillingOrganization } from './invoice-fixtures.js';

let app: TestApp;
before(async () => {
  app = await startTestApp();
  app.clock.set(new Date('2026-11-10T12:00:00Z'));
  await putPlan('TEAM_2025', { name: 'Team', monthly_price_in_cents: 29900, currency: 'USD', kind: 'invoiced', trial_days: 0 });
  await putPlan('TRIAL_TEAM', { name: 'Team with trial', monthly_price_in_cents: 9900, currency: 'USD', kind: 'invoiced', trial_days: 14 });
  await putPlan('COMMUNITY_TRIAL', { name: 'Community with trial', monthly_price_in_cents: 0, currency: 'USD', kind: 'credits', trial_days: 30 });
  await putPlan('YEN_PRO', { name: 'Pro (JPY)', monthly_price_in_cents: 3000, currency: 'JPY', kind: 'credits', trial_days: 0 });
});
after(async () => {
  await app.close();
});

/** The shared fixture whose tokens stay valid however far the test clock moves. */
const createOrganization = (test: TestApp, values: { plan?: string } = {}) => createBillingOrganization(test, values);

async function putPlan(code: string, body: Record<string, unknown>) {
  const result = await http(app, 'PUT', `/admin/plans/${code}`, { headers: app.admin, body });
  assert.ok(result.status === 200 || result.status === 201, result.text);
  return result;
}

const completeBillingInfo = {
  first_name: 'Forrest',
  last_name: 'Gump',
  email: 'forrest@gump.com',
  address: '21 Jenny Street',
  city: 'Greenbow',
  zip: '36744',
  country_code: 'US',
};

async function planRows(organizationId: string) {
  const { rows } = await app.database.query<{ plan_code: string; started_at: Date; ended_at: Date | null }>(
    'SELECT plan_code, started_at, ended_at FROM plan_subscriptions WHERE organization_id = $1 ORDER BY started_at, ended_at NULLS LAST',
    [organizationId],
  );
  return rows;
}

async function organizationRow(organizationId: string) {
  const { rows } = await app.database.query<{ plan: string; currency: string; trial_ends_at: Date | null }>(
    'SELECT plan, currency, trial_ends_at FROM organizations WHERE id = $1',
    [organizationId],
  );
  return rows[0]!;
}

describe('plan catalogue (operator)', () => {
  test('PUT creates (201) then updates (200) a plan; GET lists the catalogue with FREE', async () => {
    const created = await http(app, 'PUT', '/admin/plans/BUSINESS_2025', {
      headers: app.admin,
      body: { name: 'Business', monthly_price_in_cents: 59900, currency: 'EUR', kind: 'invoiced', trial_days: 7 },
    });
    assert.equal(created.status, 201);
    assert.deepEqual(
      { ...created.body, created_at: undefined, updated_at: undefined },
      { code: 'BUSINESS_2025', name: 'Business', monthly_price_in_cents: 59900, currency: 'EUR', kind: 'invoiced', trial_days: 7, credit_grant_in_cents: 0, credit_grant_mode: 'once', created_at: undefined, updated_at: undefined },
    );
    const updated = await http(app, 'PUT', '/admin/plans/BUSINESS_2025', {
      headers: app.admin,
      body: { name: 'Business', monthly_price_in_cents: 64900, currency: 'EUR', kind: 'invoiced', trial_days: 7 },
    });
    assert.equal(updated.status, 200);
    assert.equal(updated.body.monthly_price_in_cents, 64900);
    assert.equal(updated.body.created_at, created.body.created_at);

    const list = await http(app, 'GET', '/admin/plans', { headers: app.admin });
    assert.equal(list.status, 200);
    const byCode = new Map(list.body.results.map((plan: any) => [plan.code, plan]));
    assert.deepEqual(
      { ...(byCode.get('FREE') as object), created_at: undefined, updated_at: undefined },
      { code: 'FREE', name: 'Free', monthly_price_in_cents: 0, currency: 'USD', kind: 'credits', trial_days: 0, credit_grant_in_cents: 0, credit_grant_mode: 'once', created_at: undefined, updated_at: undefined },
    );
    assert.equal((byCode.get('BUSINESS_2025') as any).monthly_price_in_cents, 64900);

    const { rows } = await app.database.query<{ type: string; changes: any }>(
      "SELECT type, changes FROM audit_events WHERE organization_id IS NULL AND changes->>'code' = 'BUSINESS_2025' ORDER BY sequence",
    );
    assert.deepEqual(rows.map((row) => row.type), ['PLAN_CREATE', 'PLAN_UPDATE']);
    assert.deepEqual(rows[1]!.changes.monthlyPriceMinor, { old: '59900', new: '64900' });
  });

  test('an unchanged PUT answers 200 and records nothing', async () => {
    const body = { name: 'Same', monthly_price_in_cents: 100, currency: 'USD', kind: 'credits', trial_days: 0 };
    assert.equal((await http(app, 'PUT', '/admin/plans/same-plan', { headers: app.admin, body })).status, 201);
    assert.equal((await http(app, 'PUT', '/admin/plans/same-plan', { headers: app.admin, body })).status, 200);
    const { rows } = await app.database.query("SELECT 1 FROM audit_events WHERE changes->>'code' = 'same-plan'");
    assert.equal(rows.length, 1);
  });

  test('bad input is a 400 naming the field; a non-operator is refused', async () => {
    const badCurrency = await http(app, 'PUT', '/admin/plans/BAD', {
      headers: app.admin,
      body: { name: 'Bad', monthly_price_in_cents: 100, currency: 'XYZ', kind: 'credits', trial_days: 0 },
    });
    assert.equal(badCurrency.status, 400);
    assert.deepEqual(badCurrency.body.fields.map((f: any) => f.field), ['currency']);

    const negative = await http(app, 'PUT', '/admin/plans/BAD', {
      headers: app.admin,
      body: { name: 'Bad', monthly_price_in_cents: -1, currency: 'USD', kind: 'metered', trial_days: 400 },
    });
    assert.equal(negative.status, 400);
    assert.deepEqual(new Set(negative.body.fields.map((f: any) => f.field)), new Set(['monthly_price_in_cents', 'kind', 'trial_days']));

    const badCode = await http(app, 'PUT', '/admin/plans/not%20a%20code', {
      headers: app.admin,
      body: { name: 'Bad', monthly_price_in_cents: 1, currency: 'USD', kind: 'credits', trial_days: 0 },
    });
    assert.equal(badCode.status, 400);

    const org = await createOrganization(app);
    const asOwner = await http(app, 'PUT', '/admin/plans/HACK', {
      headers: org.owner,
      body: { name: 'Hack', monthly_price_in_cents: 0, currency: 'USD', kind: 'credits', trial_days: 0 },
    });
    assert.equal(asOwner.status, 403);
    assert.equal((await http(app, 'GET', '/admin/plans', { headers: org.owner })).status, 403);
    assert.equal((await http(app, 'GET', '/admin/plans')).status, 401);
  });

  test('the currency of a plan organizations are on cannot change (409); its price can', async () => {
    await putPlan('IN_USE', { name: 'In use', monthly_price_in_cents: 1000, currency: 'USD', kind: 'credits', trial_days: 0 });
    await createOrganization(app, { plan: 'IN_USE' });
    const currencyChange = await http(app, 'PUT', '/admin/plans/IN_USE', {
      headers: app.admin,
      body: { name: 'In use', monthly_price_in_cents: 1000, currency: 'EUR', kind: 'credits', trial_days: 0 },
    });
    assert.equal(currencyChange.status, 409);
    assert.equal(currencyChange.body.error, 'plan_in_use');
    const priceChange = await http(app, 'PUT', '/admin/plans/IN_USE', {
      headers: app.admin,
      body: { name: 'In use', monthly_price_in_cents: 1200, currency: 'USD', kind: 'credits', trial_days: 0 },
    });
    assert.equal(priceChange.status, 200);
  });
});

describe('organization creation and plans', () => {
  test('an organization starts on FREE in USD with a plan row from its creation', async () => {
    const org = await createOrganization(app);
    const row = await organizationRow(org.id);
    assert.deepEqual({ plan: row.plan, currency: row.currency, trial: row.trial_ends_at }, { plan: 'FREE', currency: 'USD', trial: null });
    const rows = await planRows(org.id);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.plan_code, 'FREE');
    assert.equal(rows[0]!.ended_at, null);
  });

  test('a plan with trial days starts the trial and sets the currency at creation', async () => {
    const trial = await createOrganization(app, { plan: 'TRIAL_TEAM' });
    const row = await organizationRow(trial.id);
    const [subscription] = await planRows(trial.id);
    assert.equal(row.trial_ends_at!.getTime() - subscription!.started_at.getTime(), 14 * 86_400_000);

    const yen = await createOrganization(app, { plan: 'YEN_PRO' });
    assert.equal((await organizationRow(yen.id)).currency, 'JPY');
  });

  test('an unknown plan is refused naming plan, and nothing is created', async () => {
    const name = `Unknown plan ${randomUUID()}`;
    const result = await http(app, 'POST', '/admin/organizations', { headers: app.admin, body: { name, plan: 'NO_SUCH_PLAN' } });
    assert.equal(result.status, 400); // the core's 422, in the operator API's style
    assert.equal(result.body.error, 'unknown_plan');
    assert.deepEqual(result.body.fields.map((f: any) => f.field), ['plan']);
    const { rows } = await app.database.query('SELECT 1 FROM organizations WHERE name = $1', [name]);
    assert.equal(rows.length, 0);
  });
});

describe('POST /organization/{id}/changePlan', () => {
  test('an unknown plan is a 400 naming plan', async () => {
    const org = await createOrganization(app);
    const result = await http(app, 'POST', `/organization/${org.id}/changePlan`, { headers: org.owner, body: { plan: 'NOPE' } });
    assert.equal(result.status, 400);
    assert.equal(result.body.error, 'unknown_plan');
    assert.deepEqual(result.body.fields.map((f: any) => f.field), ['plan']);
    const missing = await http(app, 'POST', `/organization/${org.id}/changePlan`, { headers: org.owner, body: {} });
    assert.equal(missing.status, 400);
    assert.deepEqual(missing.body.fields.map((f: any) => f.field), ['plan']);
  });

  test('an invoiced plan needs e-mail, address, city, zip and country: each missing one is named', async () => {
    const org = await createOrganization(app);
    const empty = await http(app, 'POST', `/organization/${org.id}/changePlan`, { headers: org.owner, body: { plan: 'TEAM_2025' } });
    assert.equal(empty.status, 400);
    assert.equal(empty.body.error, 'billing_profile_incomplete');
    assert.deepEqual(empty.body.fields.map((f: any) => f.field), ['email', 'address', 'city', 'zip', 'country_code']);
    assert.match(empty.body.message, /billing e-mail, address, city, postal code, country/);

    // Only an e-mail so far (through the database: the billingInfo PUT takes every field at once).
    await app.database.query('INSERT INTO billing_profiles (organization_id, email, updated_at) VALUES ($1, $2, $3)', [
      org.id,
      'billing@example.com',
      new Date(),
    ]);
    const partial = await http(app, 'POST', `/organization/${org.id}/changePlan`, { headers: org.owner, body: { plan: 'TEAM_2025' } });
    assert.equal(partial.status, 400);
    assert.deepEqual(partial.body.fields.map((f: any) => f.field), ['address', 'city', 'zip', 'country_code']);
    assert.equal((await organizationRow(org.id)).plan, 'FREE');
    assert.equal((await planRows(org.id)).length, 1);
    assert.equal((await auditEvents(app, org.id)).filter((e) => e.type === 'PLAN_CHANGE').length, 0);
  });

  test('a complete profile moves the organization: plan rows, audit, Organization answer; the same plan again is a no-op', async () => {
    const org = await createOrganization(app);
    assert.equal((await http(app, 'PUT', `/organization/${org.id}/billingInfo`, { headers: org.owner, body: completeBillingInfo })).status, 200);
    const changedAt = new Date('2026-11-16T00:00:00Z');
    app.clock.set(changedAt);
    const result = await http(app, 'POST', `/organization/${org.id}/changePlan`, { headers: org.billing, body: { plan: 'TEAM_2025' } });
    assert.equal(result.status, 200);
    assert.equal(result.body.id, org.id);
    assert.equal(result.body.plan, 'TEAM_2025');
    assert.deepEqual(result.body.organization_plan, { plan: 'TEAM_2025' });
    assert.equal(result.body.billing_deployment_restriction, 'NO_CREDIT_CARD', 'an invoiced plan without a card on file');
    assert.ok(Date.parse(result.body.created_at) > 0);
    assert.equal(typeof result.body.name, 'string');

    const rows = await planRows(org.id);
    assert.deepEqual(rows.map((r) => r.plan_code), ['FREE', 'TEAM_2025']);
    assert.ok(rows[0]!.ended_at !== null);
    assert.equal(rows[0]!.ended_at!.getTime(), rows[1]!.started_at.getTime());
    assert.ok(Math.abs(rows[1]!.started_at.getTime() - changedAt.getTime()) < 60_000);
    assert.equal(rows[1]!.ended_at, null);
    assert.equal((await organizationRow(org.id)).plan, 'TEAM_2025');

    const changes = (await auditEvents(app, org.id)).filter((e) => e.type === 'PLAN_CHANGE');
    assert.equal(changes.length, 1);
    assert.deepEqual(changes[0].changes.plan, { old: 'FREE', new: 'TEAM_2025' });
    assert.equal(changes[0].actor_id, `billing-${org.id}`);

    const again = await http(app, 'POST', `/organization/${org.id}/changePlan`, { headers: org.owner, body: { plan: 'TEAM_2025' } });
    assert.equal(again.status, 200);
    assert.equal(again.body.plan, 'TEAM_2025');
    assert.equal((await planRows(org.id)).length, 2);
    assert.equal((await auditEvents(app, org.id)).filter((e) => e.type === 'PLAN_CHANGE').length, 1);

    // Back to a credits plan needs no profile check and closes the TEAM row.
    const back = await http(app, 'POST', `/organization/${org.id}/changePlan`, { headers: org.admin, body: { plan: 'FREE' } });
    assert.equal(back.status, 200);
    assert.deepEqual((await planRows(org.id)).map((r) => [r.plan_code, r.ended_at === null]), [
      ['FREE', false],
      ['TEAM_2025', false],
      ['FREE', true],
    ]);
  });

  test('a trial starts on the first move to a plan with trial days, never a second time', async () => {
    const org = await createOrganization(app);
    app.clock.set(new Date('2026-11-20T08:00:00Z'));
    const first = await http(app, 'POST', `/organization/${org.id}/changePlan`, { headers: org.owner, body: { plan: 'COMMUNITY_TRIAL' } });
    assert.equal(first.status, 200);
    const trialEndsAt = (await organizationRow(org.id)).trial_ends_at!;
    const [, current] = await planRows(org.id);
    assert.equal(trialEndsAt.getTime() - current!.started_at.getTime(), 30 * 86_400_000);
    const audit = (await auditEvents(app, org.id)).find((e) => e.type === 'PLAN_CHANGE');
    assert.deepEqual(audit.changes.trialEndsAt.old, null);

    await http(app, 'POST', `/organization/${org.id}/changePlan`, { headers: org.owner, body: { plan: 'FREE' } });
    app.clock.set(new Date('2026-12-20T08:00:00Z'));
    await http(app, 'POST', `/organization/${org.id}/changePlan`, { headers: org.owner, body: { plan: 'COMMUNITY_TRIAL' } });
    assert.equal((await organizationRow(org.id)).trial_ends_at!.getTime(), trialEndsAt.getTime());
  });

  test('a plan in another currency is refused once the organization has billing data in its own', async () => {
    const fresh = await createOrganization(app);
    const moved = await http(app, 'POST', `/organization/${fresh.id}/changePlan`, { headers: fresh.owner, body: { plan: 'YEN_PRO' } });
    assert.equal(moved.status, 200);
    assert.equal((await organizationRow(fresh.id)).currency, 'JPY');

    const billed = await createOrganization(app);
    const cluster = await http(app, 'POST', `/admin/organizations/${billed.id}/clusters`, {
      headers: app.admin,
      body: { name: 'prod', hourly_price_per_node_in_cents: 10, min_nodes: 1, max_nodes: 2 },
    });
    assert.equal(cluster.status, 201);
    const refused = await http(app, 'POST', `/organization/${billed.id}/changePlan`, { headers: billed.owner, body: { plan: 'YEN_PRO' } });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error, 'plan_currency_mismatch');
    assert.deepEqual(refused.body.fields.map((f: any) => f.field), ['plan']);
    assert.equal((await organizationRow(billed.id)).plan, 'FREE');
  });

  test('a plain member gets 403, a non-member 404, no credentials 401', async () => {
    const org = await createOrganization(app);
    const other = await createOrganization(app);
    const member = await http(app, 'POST', `/organization/${org.id}/changePlan`, { headers: org.member, body: { plan: 'FREE' } });
    assert.equal(member.status, 403);
    const stranger = await http(app, 'POST', `/organization/${org.id}/changePlan`, { headers: other.owner, body: { plan: 'FREE' } });
    assert.equal(stranger.status, 404);
    const unknown = await http(app, 'POST', `/organization/${randomUUID()}/changePlan`, { headers: org.owner, body: { plan: 'FREE' } });
    assert.equal(unknown.status, 404);
    assert.equal((await http(app, 'POST', `/organization/${org.id}/changePlan`, { body: { plan: 'FREE' } })).status, 401);
  });
});
