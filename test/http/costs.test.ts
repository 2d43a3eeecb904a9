import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { auditEvents, http, startTestApp, type TestApp } from '../support/test-app.js';
import { createBillingOrganization } from './invoice-fixtures.js';

let app: TestApp;
before(async () => {
  app = await startTestApp();
  for (const [code, body] of Object.entries({
    TEAM_USD: { name: 'Team', monthly_price_in_cents: 3000, currency: 'USD', kind: 'invoiced', trial_days: 0 },
    TRIAL_USD: { name: 'Team with trial', monthly_price_in_cents: 3000, currency: 'USD', kind: 'invoiced', trial_days: 14 },
    YEN_PRO: { name: 'Pro (JPY)', monthly_price_in_cents: 3000, currency: 'JPY', kind: 'credits', trial_days: 0 },
  })) {
    const result = await http(app, 'PUT', `/admin/plans/${code}`, { headers: app.admin, body });
    assert.equal(result.status, 201, result.text);
  }
});
after(async () => {
  await app.close();
});

/** The shared fixture whose tokens stay valid however far the test clock moves. */
const createOrganization = (values: { plan?: string } = {}) => createBillingOrganization(app, values);

function at(iso: string): void {
  app.clock.set(new Date(iso));
}

/** 10 cents a node-hour, 1 to 3 nodes, 30.00 a month fixed: November (720 h) costs 102.00 to 246.00. */
const standardPricing = { hourly_price_per_node_in_cents: 10, min_nodes: 1, max_nodes: 3, fixed_monthly_in_cents: 3000 };

async function registerCluster(organizationId: string, body: Record<string, unknown> = {}): Promise<string> {
  const result = await http(app, 'POST', `/admin/organizations/${organizationId}/clusters`, {
    headers: app.admin,
    body: { name: 'production', ...standardPricing, active_from: '2026-11-01T00:00:00Z', ...body },
  });
  assert.equal(result.status, 201, result.text);
  return result.body.id;
}

let eventCounter = 0;
function usageEvent(organizationId: string, clusterId: string, quantity: number, occurredAt: string, id = `evt-${++eventCounter}-${randomUUID()}`) {
  return { id, organization_id: organizationId, cluster_id: clusterId, metric: 'node_hours', quantity, occurred_at: occurredAt };
}

async function sendUsage(events: unknown[]) {
  return http(app, 'POST', '/admin/usage-events', { headers: app.admin, body: { events } });
}

async function clusterCost(org: { id: string; owner: Record<string, string> }, clusterId: string) {
  const result = await http(app, 'GET', `/organization/${org.id}/cluster/${clusterId}/currentCost`, { headers: org.owner });
  assert.equal(result.status, 200, result.text);
  return result.body;
}

async function organizationCost(org: { id: string; owner: Record<string, string> }) {
  const result = await http(app, 'GET', `/organization/${org.id}/currentCost`, { headers: org.owner });
  assert.equal(result.status, 200, result.text);
  return result.body;
}

describe('clusters (operator)', () => {
  test('register (201), replay the same id (200), another registration under that id (409), list, deactivate', async () => {
    at('2026-11-01T00:00:00Z');
    const org = await createOrganization();
    const id = randomUUID();
    const body = { id, name: 'eu-west', ...standardPricing, active_from: '2026-11-01T00:00:00Z' };
    const created = await http(app, 'POST', `/admin/organizations/${org.id}/clusters`, { headers: app.admin, body });
    assert.equal(created.status, 201);
    assert.deepEqual(created.body, {
      id,
      organization_id: org.id,
      name: 'eu-west',
      hourly_price_per_node_in_cents: 10,
      min_nodes: 1,
      max_nodes: 3,
      fixed_monthly_in_cents: 3000,
      currency: 'USD',
      active_from: '2026-11-01T00:00:00.000Z',
      active_until: null,
      created_at: created.body.created_at,
    });
    const replay = await http(app, 'POST', `/admin/organizations/${org.id}/clusters`, { headers: app.admin, body });
    assert.equal(replay.status, 200);
    assert.equal(replay.body.id, id);
    const otherPrice = await http(app, 'POST', `/admin/organizations/${org.id}/clusters`, { headers: app.admin, body: { ...body, max_nodes: 9 } });
    assert.equal(otherPrice.status, 409);
    assert.equal(otherPrice.body.error, 'cluster_id_taken');

    const generated = await http(app, 'POST', `/admin/organizations/${org.id}/clusters`, {
      headers: app.admin,
      body: { name: 'no id', hourly_price_per_node_in_cents: 5, min_nodes: 0, max_nodes: 1 },
    });
    assert.equal(generated.status, 201);
    assert.match(generated.body.id, /^[0-9a-f-]{36}$/);
    assert.equal(generated.body.fixed_monthly_in_cents, 0);

    const list = await http(app, 'GET', `/admin/organizations/${org.id}/clusters`, { headers: app.admin });
    assert.equal(list.status, 200);
    assert.deepEqual(new Set(list.body.results.map((c: any) => c.id)), new Set([id, generated.body.id]));

    const deactivated = await http(app, 'PATCH', `/admin/organizations/${org.id}/clusters/${id}`, {
      headers: app.admin,
      body: { active_until: '2026-11-16T00:00:00Z' },
    });
    assert.equal(deactivated.status, 200);
    assert.equal(deactivated.body.active_until, '2026-11-16T00:00:00.000Z');
    const later = await http(app, 'PATCH', `/admin/organizations/${org.id}/clusters/${id}`, {
      headers: app.admin,
      body: { active_until: '2026-11-20T00:00:00Z' },
    });
    assert.equal(later.status, 409);
    const beforeStart = await http(app, 'PATCH', `/admin/organizations/${org.id}/clusters/${id}`, {
      headers: app.admin,
      body: { active_until: '2026-10-01T00:00:00Z' },
    });
    assert.equal(beforeStart.status, 400);
    assert.deepEqual(beforeStart.body.fields.map((f: any) => f.field), ['active_until']);

    const types = (await auditEvents(app, org.id)).map((e) => e.type);
    assert.equal(types.filter((t) => t === 'CLUSTER_REGISTER').length, 2);
    assert.equal(types.filter((t) => t === 'CLUSTER_DEACTIVATE').length, 1);
  });

  test('bad pricing, a foreign currency, an unknown organization or a non-operator are refused', async () => {
    const org = await createOrganization();
    const minAboveMax = await http(app, 'POST', `/admin/organizations/${org.id}/clusters`, {
      headers: app.admin,
      body: { name: 'x', hourly_price_per_node_in_cents: 1, min_nodes: 5, max_nodes: 2 },
    });
    assert.equal(minAboveMax.status, 400);
    assert.deepEqual(minAboveMax.body.fields.map((f: any) => f.field), ['min_nodes']);

    const euro = await http(app, 'POST', `/admin/organizations/${org.id}/clusters`, {
      headers: app.admin,
      body: { name: 'x', hourly_price_per_node_in_cents: 1, min_nodes: 0, max_nodes: 2, currency: 'EUR' },
    });
    assert.equal(euro.status, 400);
    assert.deepEqual(euro.body.fields.map((f: any) => f.field), ['currency']);

    const negative = await http(app, 'POST', `/admin/organizations/${org.id}/clusters`, {
      headers: app.admin,
      body: { name: 'x', hourly_price_per_node_in_cents: -1, min_nodes: 0, max_nodes: 2 },
    });
    assert.equal(negative.status, 400);

    const unknown = await http(app, 'POST', `/admin/organizations/${randomUUID()}/clusters`, {
      headers: app.admin,
      body: { name: 'x', hourly_price_per_node_in_cents: 1, min_nodes: 0, max_nodes: 2 },
    });
    assert.equal(unknown.status, 404);
    assert.equal((await http(app, 'GET', `/admin/organizations/${randomUUID()}/clusters`, { headers: app.admin })).status, 404);

    const asOwner = await http(app, 'POST', `/admin/organizations/${org.id}/clusters`, {
      headers: org.owner,
      body: { name: 'x', hourly_price_per_node_in_cents: 1, min_nodes: 0, max_nodes: 2 },
    });
    assert.equal(asOwner.status, 403);
    const { rows } = await app.database.query('SELECT 1 FROM clusters WHERE organization_id = $1', [org.id]);
    assert.equal(rows.length, 0);
  });
});

describe('POST /admin/usage-events', () => {
  test('a resent event counts once, also within one batch', async () => {
    at('2026-11-10T00:00:00Z');
    const org = await createOrganization();
    const clusterId = await registerCluster(org.id);
    const batch = [usageEvent(org.id, clusterId, 5, '2026-11-02T00:00:00Z'), usageEvent(org.id, clusterId, 7, '2026-11-03T00:00:00Z')];
    assert.deepEqual((await sendUsage(batch)).body, { accepted: 2, duplicates: 0, late: 0, rejected: [] });
    assert.deepEqual((await sendUsage(batch)).body, { accepted: 0, duplicates: 2, late: 0, rejected: [] });
    const repeated = usageEvent(org.id, clusterId, 11, '2026-11-04T00:00:00Z');
    const result = await sendUsage([repeated, repeated, batch[0]]);
    assert.equal(result.status, 200);
    assert.deepEqual(result.body, { accepted: 1, duplicates: 2, late: 0, rejected: [] });
    const { rows } = await app.database.query<{ total: bigint }>('SELECT SUM(quantity)::int8 AS total FROM usage_events WHERE organization_id = $1', [org.id]);
    assert.equal(rows[0]!.total, 23n);
  });

  test('an event naming an unknown cluster or another organization’s cluster rejects the whole batch (422), nothing written', async () => {
    const org = await createOrganization();
    const other = await createOrganization();
    const clusterId = await registerCluster(org.id);
    const otherCluster = await registerCluster(other.id);
    const good = usageEvent(org.id, clusterId, 5, '2026-11-02T00:00:00Z');
    const result = await sendUsage([good, usageEvent(org.id, otherCluster, 1, '2026-11-02T00:00:00Z'), usageEvent(org.id, randomUUID(), 1, '2026-11-02T00:00:00Z')]);
    assert.equal(result.status, 422);
    assert.equal(result.body.error, 'usage_events_rejected');
    assert.deepEqual(result.body.fields.map((f: any) => f.field), ['events[1].cluster_id', 'events[2].cluster_id']);
    const { rows } = await app.database.query('SELECT 1 FROM usage_events WHERE id = $1', [good.id]);
    assert.equal(rows.length, 0);
    // Ids are compared as sent: the organization's or the cluster's id in capitals names no cluster of it.
    const capitals = await sendUsage([good, { ...good, id: `${good.id}-org`, organization_id: org.id.toUpperCase() }, { ...good, id: `${good.id}-cluster`, cluster_id: clusterId.toUpperCase() }]);
    assert.equal(capitals.status, 422);
    assert.deepEqual(capitals.body.fields.map((f: any) => f.field), ['events[1].cluster_id', 'events[2].cluster_id']);
  });

  test('a batch of 1,000 events is accepted, 1,001 or a malformed event are 400, a non-operator 403', async () => {
    const org = await createOrganization();
    const clusterId = await registerCluster(org.id);
    const thousand = Array.from({ length: 1000 }, (_, i) => usageEvent(org.id, clusterId, 1, '2026-11-02T00:00:00Z', `bulk-${org.id}-${i}`));
    const accepted = await sendUsage(thousand);
    assert.equal(accepted.status, 200, accepted.text);
    assert.deepEqual(accepted.body, { accepted: 1000, duplicates: 0, late: 0, rejected: [] });
    assert.equal((await sendUsage([...thousand, usageEvent(org.id, clusterId, 1, '2026-11-02T00:00:00Z')])).status, 400);
    assert.equal((await sendUsage([])).status, 400);
    const negative = await sendUsage([usageEvent(org.id, clusterId, -1, '2026-11-02T00:00:00Z')]);
    assert.equal(negative.status, 400);
    assert.deepEqual(negative.body.fields.map((f: any) => f.field), ['events[0].quantity']);
    assert.equal((await sendUsage([{ ...usageEvent(org.id, clusterId, 1, '2026-11-02T00:00:00Z'), metric: 'cpu_hours' }])).status, 400);
    const asOwner = await http(app, 'POST', '/admin/usage-events', { headers: org.owner, body: { events: [usageEvent(org.id, clusterId, 1, '2026-11-02T00:00:00Z')] } });
    assert.equal(asOwner.status, 403);
  });
});

describe('GET /organization/{id}/cluster/{clusterId}/currentCost', () => {
  test('min and max for the period from the node bounds; the cost so far clamped into the range so far', async () => {
    at('2026-11-01T00:00:00Z');
    const org = await createOrganization();
    const clusterId = await registerCluster(org.id);
    // 14.979 days of 30 in: fixed 14.98; 360 started hours: 1 node 36.00, 3 nodes 108.00.
    at('2026-11-15T23:30:00Z');
    const idle = await clusterCost(org, clusterId);
    assert.deepEqual(idle, {
      total_in_cents: 5098, // raised to the minimum so far
      total: 50.98,
      min_cost_in_cents: 10200,
      min_cost: 102,
      max_cost_in_cents: 24600,
      max_cost: 246,
      currency_code: 'USD',
    });

    await sendUsage([
      usageEvent(org.id, clusterId, 500, '2026-11-05T00:00:00Z'),
      usageEvent(org.id, clusterId, 9999, '2026-10-20T00:00:00Z'), // last period
      usageEvent(org.id, clusterId, 9999, '2026-11-20T00:00:00Z'), // not yet
    ]);
    const used = await clusterCost(org, clusterId);
    assert.equal(used.total_in_cents, 6498);
    assert.equal(used.total, 64.98);

    await sendUsage([usageEvent(org.id, clusterId, 3000, '2026-11-06T00:00:00Z')]);
    const capped = await clusterCost(org, clusterId);
    assert.equal(capped.total_in_cents, 12298); // fixed so far + 3 nodes × 360 h
    assert.ok(capped.total_in_cents <= capped.max_cost_in_cents);
  });

  test('moving the clock over the period boundary starts a new range; usage of the old period no longer counts', async () => {
    at('2026-11-01T00:00:00Z');
    const org = await createOrganization();
    const clusterId = await registerCluster(org.id);
    const shortLived = await registerCluster(org.id, { name: 'short-lived' });
    await http(app, 'PATCH', `/admin/organizations/${org.id}/clusters/${shortLived}`, { headers: app.admin, body: { active_until: '2026-11-16T00:00:00Z' } });
    await sendUsage([usageEvent(org.id, clusterId, 700, '2026-11-29T00:00:00Z')]);

    at('2026-11-30T23:30:00Z');
    const november = await clusterCost(org, clusterId);
    assert.equal(november.min_cost_in_cents, 10200);
    assert.equal(november.max_cost_in_cents, 24600);
    const halfMonth = await clusterCost(org, shortLived);
    assert.deepEqual([halfMonth.min_cost_in_cents, halfMonth.max_cost_in_cents, halfMonth.total_in_cents], [5100, 12300, 5100]);

    at('2026-12-01T00:30:00Z');
    const december = await clusterCost(org, clusterId);
    // 744 hours: 30.00 + 74.40 … 30.00 + 223.20; so far: 0.02 fixed + 1 started hour at 1 node.
    assert.deepEqual(december, {
      total_in_cents: 12,
      total: 0.12,
      min_cost_in_cents: 10440,
      min_cost: 104.4,
      max_cost_in_cents: 25320,
      max_cost: 253.2,
      currency_code: 'USD',
    });
    const gone = await clusterCost(org, shortLived);
    assert.deepEqual([gone.min_cost_in_cents, gone.max_cost_in_cents, gone.total_in_cents], [0, 0, 0]);
  });

  test('another organization’s cluster or an unknown one is 404; a plain member 403; a non-member 404', async () => {
    const org = await createOrganization();
    const other = await createOrganization();
    const clusterId = await registerCluster(org.id);
    const otherCluster = await registerCluster(other.id);
    const path = (orgId: string, id: string) => `/organization/${orgId}/cluster/${id}/currentCost`;
    assert.equal((await http(app, 'GET', path(org.id, otherCluster), { headers: org.owner })).status, 404);
    assert.equal((await http(app, 'GET', path(org.id, randomUUID()), { headers: org.owner })).status, 404);
    assert.equal((await http(app, 'GET', path(org.id, clusterId), { headers: org.member })).status, 403);
    assert.equal((await http(app, 'GET', path(org.id, clusterId), { headers: other.owner })).status, 404);
    assert.equal((await http(app, 'GET', path(org.id, clusterId), { headers: org.billing })).status, 200);
    assert.equal((await http(app, 'GET', path(org.id, 'not-a-uuid'), { headers: org.owner })).status, 400);
  });
});

describe('GET /organization/{id}/currentCost', () => {
  test('the plan fee prorated to now plus every cluster so far, the renewal date and the credit balance', async () => {
    at('2026-11-01T00:00:00Z');
    const org = await createOrganization({ plan: 'TEAM_USD' });
    const clusterId = await registerCluster(org.id);
    await registerCluster(org.id, { name: 'idle', hourly_price_per_node_in_cents: 0, min_nodes: 0, max_nodes: 1, fixed_monthly_in_cents: 0 });
    at('2026-11-05T00:00:00Z');
    await sendUsage([usageEvent(org.id, clusterId, 500, '2026-11-05T00:00:00Z')]);
    at('2026-11-15T23:30:00Z');
    const cost = await organizationCost(org);
    assert.deepEqual(cost, {
      plan: 'TEAM_USD',
      remaining_trial_day: 0,
      renewal_at: '2026-12-01T00:00:00.000Z',
      cost: { total_in_cents: 1498 + 6498, total: 79.96, currency_code: 'USD' },
      remaining_credits: { total_in_cents: 0, total: 0, currency_code: 'USD' },
    });

    await app.database.query(
      `INSERT INTO credit_ledger_entries (id, organization_id, amount_minor, currency, reason, description, created_at)
       VALUES ($1, $2, 2550, 'USD', 'adjustment', 'test grant', $3)`,
      [randomUUID(), org.id, new Date('2026-11-02T00:00:00Z')],
    );
    assert.deepEqual((await organizationCost(org)).remaining_credits, { total_in_cents: 2550, total: 25.5, currency_code: 'USD' });
  });

  test('a zero-decimal currency: JPY plan and cluster, total equals total_in_cents', async () => {
    at('2026-11-01T00:00:00Z');
    const org = await createOrganization({ plan: 'YEN_PRO' });
    const clusterId = await registerCluster(org.id, { currency: 'JPY' });
    at('2026-11-05T00:00:00Z');
    await sendUsage([usageEvent(org.id, clusterId, 500, '2026-11-05T00:00:00Z')]);
    at('2026-11-15T23:30:00Z');
    assert.deepEqual(await organizationCost(org), {
      plan: 'YEN_PRO',
      remaining_trial_day: 0,
      renewal_at: '2026-12-01T00:00:00.000Z',
      cost: { total_in_cents: 7996, total: 7996, currency_code: 'JPY' },
      remaining_credits: { total_in_cents: 0, total: 0, currency_code: 'JPY' },
    });
    assert.deepEqual(await clusterCost(org, clusterId), {
      total_in_cents: 6498,
      total: 6498,
      min_cost_in_cents: 10200,
      min_cost: 10200,
      max_cost_in_cents: 24600,
      max_cost: 24600,
      currency_code: 'JPY',
    });
  });

  test('trial days count down as the clock moves, and the plan fee starts when the trial ends', async () => {
    at('2026-11-01T00:00:00Z');
    const org = await createOrganization({ plan: 'TRIAL_USD' });
    const expectations: Array<[string, number, number]> = [
      ['2026-11-01T12:00:00Z', 14, 0],
      ['2026-11-02T12:00:00Z', 13, 0],
      ['2026-11-14T12:00:00Z', 1, 0],
      ['2026-11-15T12:00:00Z', 0, 50], // half a day of 30.00 a month
    ];
    for (const [now, days, fee] of expectations) {
      at(now);
      const cost = await organizationCost(org);
      assert.equal(cost.remaining_trial_day, days, now);
      assert.equal(cost.cost.total_in_cents, fee, now);
    }
  });

  test('a plain member 403, a non-member 404', async () => {
    const org = await createOrganization();
    const other = await createOrganization();
    assert.equal((await http(app, 'GET', `/organization/${org.id}/currentCost`, { headers: org.member })).status, 403);
    assert.equal((await http(app, 'GET', `/organization/${org.id}/currentCost`, { headers: other.owner })).status, 404);
    assert.equal((await http(app, 'GET', `/organization/${randomUUID()}/currentCost`, { headers: org.owner })).status, 404);
  });
});
