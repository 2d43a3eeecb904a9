/**
 * Every billing event type, produced by the real action that causes it, delivered to a real receiver that verifies
 * each signature with the `standardwebhooks` library.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { checkBillingStatuses, ensureBillingStatusCheckScheduled, runBillingStatusCheck } from '../../src/billing/status/billing-status-check.js';
import { recordBillingEvent } from '../../src/events/billing-event.js';
import { startWebhookReceiver, type ReceivedWebhook, type WebhookReceiver } from '../fixtures/webhook-receiver.js';
import { http, startTestApp, type OrganizationFixture, type TestApp } from '../support/test-app.js';
import {
  acmeBillingInfo,
  changePlan,
  createBillingOrganization,
  getInvoice,
  putPlan,
  registerCluster,
  runBilling,
  runJobs,
  sendUsage,
  setBillingInfo,
} from './invoice-fixtures.js';

let app: TestApp;
let receiver: WebhookReceiver;

before(async () => {
  app = await startTestApp({ BURSAR_WEBHOOK_ALLOW_PRIVATE: '1', BURSAR_JOB_POLL_MS: '200' }, { startWebhookWorker: true });
  receiver = await startWebhookReceiver();
  const created = await http(app, 'POST', '/admin/webhook-endpoints', { headers: app.admin, body: { url: receiver.url } });
  assert.equal(created.status, 201, created.text);
  receiver.secrets.push(created.body.secret);
});
after(async () => {
  await app.close();
  await receiver.close();
});

function at(iso: string): void {
  app.clock.set(new Date(iso));
}

/** Waits for the `count`-th event of `type` about the organization, and answers the last one. */
async function eventOf(org: OrganizationFixture, type: string, count = 1): Promise<ReceivedWebhook> {
  const events = await receiver.waitFor((event) => event.type === type && event.data?.organization_id === org.id, count);
  return events[count - 1]!;
}

function eventsOf(org: OrganizationFixture, type: string): ReceivedWebhook[] {
  return receiver.received.filter((event) => event.type === type && event.data?.organization_id === org.id);
}

/** Nothing more of the organization arrives: a marker event sent after the action arrives first. */
async function settle(): Promise<void> {
  const endpoints = await http(app, 'GET', '/admin/webhook-endpoints', { headers: app.admin });
  const marker = await http(app, 'POST', `/admin/webhook-endpoints/${endpoints.body.results.at(-1).id}/test`, { headers: app.admin });
  await receiver.waitFor((event) => event.id === marker.body.event_id);
  await new Promise((resolve) => setTimeout(resolve, 300));
}

describe('billing events from their causes', () => {
  test('an invoiced plan: profile, plan, card, billing run, failed charge, seven days unpaid, paid, card removed', async () => {
    at('2026-03-01T00:00:00Z');
    await putPlan(app, 'HOOK_PRO', { monthly: 4900, kind: 'invoiced' });
    const org = await createBillingOrganization(app);

    await setBillingInfo(app, org, acmeBillingInfo);
    const profile = await eventOf(org, 'billing_profile.updated');
    assert.ok(profile.data.changed_fields.includes('email'));
    assert.ok(profile.data.changed_fields.includes('city'));
    assert.equal(JSON.stringify(profile.data).includes('Paris'), false, 'field names, not values');

    await changePlan(app, org, 'HOOK_PRO');
    const plan = await eventOf(org, 'plan.changed');
    assert.equal(plan.data.plan, 'HOOK_PRO');
    assert.equal(plan.occurredAt.slice(0, 10), '2026-03-01', 'the body timestamp is business time');
    const restricted = await eventOf(org, 'billing_status.updated');
    assert.deepEqual([restricted.data.is_valid, restricted.data.restriction], [true, 'NO_CREDIT_CARD']);

    // A card that attaches but whose charges are refused.
    const card = await http(app, 'POST', `/organization/${org.id}/creditCard`, {
      headers: org.owner,
      body: { number: '4000000000000341', cvv: '123', expiry_month: 12, expiry_year: 2030 },
    });
    assert.equal(card.status, 201, card.text);
    const attached = await eventOf(org, 'payment_method.attached');
    const cards = await http(app, 'GET', `/organization/${org.id}/creditCard`, { headers: org.owner });
    assert.deepEqual(attached.data.payment_method, cards.body.results[0]);
    const unrestricted = await eventOf(org, 'billing_status.updated', 2);
    assert.deepEqual([unrestricted.data.is_valid, unrestricted.data.restriction], [true, null]);

    at('2026-04-01T00:00:05Z');
    await runBilling(app, '2026-04-01T00:00:05Z');
    const created = await eventOf(org, 'invoice.created');
    const invoice = await getInvoice(app, org, created.data.invoice.id);
    assert.deepEqual(created.data.invoice, invoice, 'the invoice as GET …/invoice/{id} answers it');
    assert.equal(created.occurredAt.slice(0, 16), '2026-04-01T00:00');

    await runJobs(app); // the first charge attempt: refused
    const failed = await eventOf(org, 'invoice.payment_failed');
    assert.equal(failed.data.failure_code, 'card_declined');
    assert.ok(Date.parse(failed.data.next_payment_attempt_at) > Date.parse('2026-04-01T00:00:05Z'));
    assert.equal(failed.data.invoice.status, 'NOT_PAID');

    // Time alone: the invoice passes seven days unpaid; the scheduled check finds it.
    at('2026-04-08T12:00:00Z');
    await checkBillingStatuses(app.app.context);
    const invalid = await eventOf(org, 'billing_status.updated', 3);
    assert.deepEqual([invalid.data.is_valid, invalid.data.restriction], [false, 'INVOICE_UNPAID']);
    assert.match(invalid.data.message, new RegExp(invoice.number));
    assert.equal(await checkBillingStatuses(app.app.context), 0, 'announced once');

    const paid = await http(app, 'POST', `/admin/invoices/${invoice.id}/mark-paid`, { headers: app.admin });
    assert.equal(paid.status, 200, paid.text);
    assert.equal((await eventOf(org, 'invoice.paid')).data.invoice.status, 'PAID');
    const valid = await eventOf(org, 'billing_status.updated', 4);
    assert.deepEqual([valid.data.is_valid, valid.data.restriction], [true, null]);

    const removed = await http(app, 'DELETE', `/organization/${org.id}/creditCard/${card.body.id}`, { headers: org.owner });
    assert.equal(removed.status, 204, removed.text);
    assert.equal((await eventOf(org, 'payment_method.detached')).data.payment_method.id, card.body.id);
    assert.equal((await eventOf(org, 'billing_status.updated', 5)).data.restriction, 'NO_CREDIT_CARD');
  });

  test('a successful charge after the billing run: invoice.paid', async () => {
    at('2026-07-01T00:00:00Z');
    await putPlan(app, 'HOOK_PAID', { monthly: 2900, kind: 'invoiced' });
    const org = await createBillingOrganization(app);
    await setBillingInfo(app, org, acmeBillingInfo);
    const card = await http(app, 'POST', `/organization/${org.id}/creditCard`, {
      headers: org.owner,
      body: { number: '4242424242424242', cvv: '123', expiry_month: 12, expiry_year: 2030 },
    });
    assert.equal(card.status, 201, card.text);
    await changePlan(app, org, 'HOOK_PAID');
    at('2026-08-01T00:00:05Z');
    await runBilling(app, '2026-08-01T00:00:05Z');
    assert.equal((await eventOf(org, 'invoice.created')).data.invoice.status, 'PENDING');
    await runJobs(app);
    const paid = await eventOf(org, 'invoice.paid');
    assert.equal(paid.data.invoice.status, 'PAID');
    assert.deepEqual(paid.data.invoice, await getInvoice(app, org, paid.data.invoice.id));
  });

  test('a credits plan: code redeemed, the last credits used by an invoice, the invoice voided', async () => {
    at('2026-05-01T00:00:00Z');
    await putPlan(app, 'HOOK_CREDITS', { monthly: 0, kind: 'credits' });
    const code = await http(app, 'POST', '/admin/credit-codes', { headers: app.admin, body: { code: 'HOOKS5', amount_in_cents: 500, currency: 'USD' } });
    assert.equal(code.status, 201, code.text);
    const org = await createBillingOrganization(app);
    await setBillingInfo(app, org, acmeBillingInfo);
    await changePlan(app, org, 'HOOK_CREDITS');
    assert.equal((await eventOf(org, 'billing_status.updated')).data.restriction, 'NO_CREDIT_LEFT');

    const redeemed = await http(app, 'POST', `/organization/${org.id}/creditCode`, { headers: org.owner, body: { code: 'hooks5' } });
    assert.equal(redeemed.status, 200, redeemed.text);
    const granted = await eventOf(org, 'credits.granted');
    assert.deepEqual([granted.data.amount_in_cents, granted.data.balance_in_cents, granted.data.code], [500, 500, 'HOOKS5']);
    assert.equal((await eventOf(org, 'billing_status.updated', 2)).data.is_valid, true);

    const cluster = await registerCluster(app, org.id, { name: 'hooks', hourly: 10, minNodes: 0, maxNodes: 5 });
    at('2026-05-12T00:00:00Z');
    await sendUsage(app, org.id, cluster, 100, '2026-05-12T00:00:00Z'); // 10.00 of usage, 5.00 of credits
    at('2026-06-01T00:00:05Z');
    await runBilling(app, '2026-06-01T00:00:05Z');
    const created = await eventOf(org, 'invoice.created');
    assert.equal(created.data.invoice.credits_applied_in_cents, 500);
    assert.equal((await eventOf(org, 'credits.depleted')).data.invoice_id, created.data.invoice.id);
    const depleted = await eventOf(org, 'billing_status.updated', 3);
    assert.deepEqual([depleted.data.is_valid, depleted.data.restriction], [false, 'NO_CREDIT_LEFT']);

    const voided = await http(app, 'POST', `/admin/invoices/${created.data.invoice.id}/void`, { headers: app.admin });
    assert.equal(voided.status, 200, voided.text);
    assert.equal((await eventOf(org, 'invoice.voided')).data.invoice.status, 'VOIDED');
    const returned = await eventOf(org, 'credits.granted', 2);
    assert.deepEqual([returned.data.source, returned.data.amount_in_cents, returned.data.balance_in_cents], ['invoice_voided', 500, 500]);
    assert.equal((await eventOf(org, 'billing_status.updated', 4)).data.is_valid, true, 'credits given back');
  });

  test("an operator changing a plan's kind moves its organizations' billing status", async () => {
    await putPlan(app, 'HOOK_SWITCH', { monthly: 0, kind: 'credits' });
    const org = await createBillingOrganization(app);
    await changePlan(app, org, 'HOOK_SWITCH');
    assert.equal((await eventOf(org, 'billing_status.updated')).data.restriction, 'NO_CREDIT_LEFT');
    await putPlan(app, 'HOOK_SWITCH', { monthly: 0, kind: 'invoiced' });
    const moved = await eventOf(org, 'billing_status.updated', 2);
    assert.deepEqual([moved.data.is_valid, moved.data.restriction], [true, 'NO_CREDIT_CARD']);
  });

  test('a profile patch through each of the four surfaces', async () => {
    const org = await createBillingOrganization(app);
    const info = await http(app, 'PUT', `/organization/${org.id}/billingInfo`, { headers: org.owner, body: acmeBillingInfo });
    assert.equal(info.status, 200, info.text);
    const external = await http(app, 'PATCH', `/api/v2/external/orgs/${org.slug}`, { headers: org.owner, body: { billing_city: 'Lyon' } });
    assert.equal(external.status, 200, external.text);
    const details = await http(app, 'PATCH', '/api/v1/organization/billing', { headers: org.owner, body: { billingPostalCode: '69001' } });
    assert.equal(details.status, 200, details.text);
    const address = await http(app, 'POST', `/organizations/${org.id}/billing-addresses`, {
      headers: org.owner,
      body: { name: 'Branch', company: 'Acme', address_line_1: '2 Quai', city: 'Lyon', state: 'ARA', postal_code: '69002', country: 'FR' },
    });
    assert.equal(address.status, 201, address.text);
    await eventOf(org, 'billing_profile.updated', 4);
    const events = eventsOf(org, 'billing_profile.updated');
    assert.deepEqual(
      events.map((event) => event.data.changed_fields.includes('city') || event.data.changed_fields.includes('postalCode') || event.data.changed_fields.includes('billing_addresses')),
      [true, true, true, true],
    );
    assert.deepEqual(events[1]!.data.changed_fields, ['city']);
    assert.deepEqual(events[2]!.data.changed_fields, ['postalCode']);
    assert.deepEqual(events[3]!.data.changed_fields, ['billing_addresses']);
    assert.equal(new Set(events.map((event) => event.data.surface)).size, 4, 'each surface names itself');
  });

  test('a rolled-back write sends nothing', async () => {
    const org = await createBillingOrganization(app);
    const other = await createBillingOrganization(app);
    // The slug is taken: the whole write (profile, audit, event) is refused.
    const taken = await http(app, 'PATCH', `/api/v2/external/orgs/${org.slug}`, { headers: org.owner, body: { slug: other.slug, billing_city: 'Nice' } });
    assert.equal(taken.status, 409, taken.text);
    // An event written in a transaction that then rolls back.
    await assert.rejects(
      app.database.transaction(async (tx) => {
        await recordBillingEvent(tx, app.clock.now(), { type: 'plan.changed', organizationId: org.id, data: { plan: 'NEVER' } });
        throw new Error('rolled back');
      }),
      /rolled back/,
    );
    await settle();
    assert.equal(receiver.received.filter((event) => event.data?.organization_id === org.id).length, 0);
    const { rows } = await app.database.query<{ count: bigint }>('SELECT count(*)::int8 AS count FROM billing_events WHERE organization_id = $1', [org.id]);
    assert.equal(rows[0]!.count, 0n);
  });

  test('the scheduled check is a recurring job; it forgets finished events after 30 days', async () => {
    await app.database.query(`UPDATE billing_events SET created_at = now() - interval '31 days' WHERE type = 'plan.changed'`);
    await runBillingStatusCheck(app.app.context);
    await ensureBillingStatusCheckScheduled(app.app.context);
    const { rows: jobs } = await app.database.query<{ singleton_key: string }>(
      `SELECT singleton_key FROM jobs WHERE queue = 'events.billing-status-check' AND state = 'pending'`,
    );
    assert.equal(jobs.length, 1);
    assert.match(jobs[0]!.singleton_key, /^billing-status-check:/);
    const { rows } = await app.database.query<{ count: bigint }>(`SELECT count(*)::int8 AS count FROM billing_events WHERE type = 'plan.changed'`);
    assert.equal(rows[0]!.count, 0n);
  });
});
