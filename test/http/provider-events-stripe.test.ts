/**
 * POST /webhooks/stripe against the local stand-in of Stripe, which signs its events with the scheme the official
 * SDK verifies: signatures refused, each event applied once, unknown types ignored, each handled type onto the
 * invoice, and strong customer authentication (PENDING on Stripe's page → completed → PAID).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sql from 'sql-template-tag';
import Stripe from 'stripe';
import { auditEvents, http, startTestApp, type TestApp } from '../support/test-app.js';
import { startStripeStandIn, type StripeStandIn, type WebhookDelivery } from '../fixtures/stripe-stand-in.js';
import { getInvoice, runJobs } from './invoice-fixtures.js';
import { AUTHENTICATION_CARD, chargedInvoice, sweepPaymentRetries } from './provider-events-fixtures.js';

const SECRET = 'whsec_bursar_test_secret_0123456789';

let standIn: StripeStandIn;
let app: TestApp;

before(async () => {
  standIn = await startStripeStandIn();
  app = await startTestApp({ PAYMENT_PROVIDER: 'stripe', STRIPE_SECRET_KEY: 'sk_test_x', STRIPE_API_BASE_URL: standIn.url, STRIPE_WEBHOOK_SECRET: SECRET });
  standIn.sendWebhooksTo(`${app.baseUrl}/webhooks/stripe`, SECRET);
});
after(async () => {
  await standIn.flushWebhooks();
  await app.close();
  await standIn.close();
});

async function storedEventCount(): Promise<number> {
  const { rows } = await app.database.query<{ count: number }>(sql`SELECT count(*)::int AS count FROM provider_events`);
  return rows[0]!.count;
}

/** Settles what the stand-in is sending, then runs the jobs the events queued. */
async function settle(): Promise<void> {
  await standIn.flushWebhooks();
  await runJobs(app);
}

function deliveriesOf(type: string, since = 0): WebhookDelivery[] {
  return standIn.webhookDeliveries.slice(since).filter((delivery) => delivery.type === type);
}

function intentIdOf(actionUrl: string): string {
  const match = /\/stand-in\/authenticate\/(pi_[0-9a-f]+)$/.exec(actionUrl);
  assert.ok(match, `not the stand-in's authentication page: ${actionUrl}`);
  return match[1]!;
}

describe('POST /webhooks/stripe', () => {
  it('refuses a missing, wrong or stale signature and a tampered body with 400, storing nothing', async () => {
    const before = await storedEventCount();
    const wrongSecret = await standIn.sendEvent('payment_intent.succeeded', { id: 'pi_x', object: 'payment_intent', metadata: {} }, { secret: 'whsec_not_ours' });
    assert.equal(wrongSecret.status, 400, wrongSecret.body);
    assert.deepEqual(JSON.parse(wrongSecret.body), {
      status: 400,
      error: 'invalid_signature',
      message: 'The Stripe-Signature header does not verify this body',
    });

    const payload = JSON.stringify({ id: 'evt_tampered', object: 'event', type: 'customer.created', data: { object: {} } });
    const header = Stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET });
    const post = (body: string, headers: Record<string, string>) => http(app, 'POST', '/webhooks/stripe', { body, headers: { 'content-type': 'application/json', ...headers } });
    assert.equal((await post(payload, { 'stripe-signature': header })).status, 200);
    const tampered = await post(payload.replace('customer.created', 'customer.deleted').replace('evt_tampered', 'evt_tampered2'), { 'stripe-signature': header });
    assert.equal(tampered.status, 400, tampered.text);
    const missing = await post(payload, {});
    assert.equal(missing.status, 400, missing.text);
    assert.equal(missing.body.error, 'invalid_signature');
    const stale = Stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET, timestamp: Math.floor(Date.now() / 1000) - 3600 });
    assert.equal((await post(payload, { 'stripe-signature': stale })).status, 400);
    // Only the one well-signed event was stored.
    assert.equal(await storedEventCount(), before + 1);
  });

  it('acknowledges and ignores an unknown type, once', async () => {
    const first = await standIn.sendEvent('customer.subscription.created', { id: 'sub_1', object: 'subscription' });
    assert.equal(first.status, 200, first.body);
    assert.deepEqual(JSON.parse(first.body), { received: true, duplicate: false, outcome: 'ignored' });
    const replay = await standIn.resendEvent(first.eventId);
    assert.equal(replay.status, 200, replay.body);
    assert.deepEqual(JSON.parse(replay.body), { received: true, duplicate: true, outcome: 'unchanged' });
  });

  it('answers no_invoice for a payment Bursar did not make', async () => {
    const delivery = await standIn.sendEvent('payment_intent.succeeded', { id: 'pi_elsewhere', object: 'payment_intent', metadata: {} });
    assert.equal(delivery.status, 200, delivery.body);
    assert.equal(JSON.parse(delivery.body).outcome, 'no_invoice');
  });

  it('a charge that needs authentication: PENDING on Stripe\'s page, no dunning failure, then PAID once, refunded and disputed', async () => {
    const since = standIn.webhookDeliveries.length;
    const { org, invoice: charged } = await chargedInvoice(app, AUTHENTICATION_CARD);
    await settle();
    const invoice = await getInvoice(app, org, charged.id);
    assert.equal(invoice.status, 'PENDING');
    assert.ok(invoice.payment_action_url.startsWith(`${standIn.url}/stand-in/authenticate/pi_`), invoice.payment_action_url);
    const intentId = intentIdOf(invoice.payment_action_url);
    // Refused off session with authentication_required, the intent was confirmed again for Stripe's page, once.
    const confirms = standIn.requests.filter((request) => request.path === `/v1/payment_intents/${intentId}/confirm`);
    assert.equal(confirms.length, 1);
    assert.equal(confirms[0]!.body['return_url'], `${app.baseUrl}/payments/authentication-complete`);
    assert.equal(confirms[0]!.idempotencyKey, `charge-${invoice.id}-attempt-1-authenticate`);
    // The stand-in's payment_intent.requires_action reached Bursar and agreed with the charge's own answer.
    const [requiresAction] = deliveriesOf('payment_intent.requires_action', since);
    assert.equal(requiresAction?.status, 200, requiresAction?.body);
    assert.ok(['applied', 'unchanged'].includes(JSON.parse(requiresAction!.body).outcome));
    // So did its payment_intent.payment_failed (authentication_required) of the off-session attempt: not a failure.
    const [offSessionRefusal] = deliveriesOf('payment_intent.payment_failed', since);
    assert.equal(offSessionRefusal?.status, 200, offSessionRefusal?.body);
    assert.ok(['applied', 'unchanged'].includes(JSON.parse(offSessionRefusal!.body).outcome));

    // Not a failure: the dunning sweep leaves it alone.
    for (const day of ['2026-02-02T01:00:00Z', '2026-02-04T01:00:00Z', '2026-02-06T01:00:00Z']) {
      app.clock.set(new Date(day));
      assert.equal(await sweepPaymentRetries(app), 0);
    }
    assert.equal((await getInvoice(app, org, invoice.id)).status, 'PENDING');

    // The customer completes Stripe's page and is sent back to Bursar's return page.
    const completed = await fetch(`${invoice.payment_action_url}?outcome=succeeded`, { method: 'POST', redirect: 'manual' });
    assert.equal(completed.status, 303);
    assert.equal(completed.headers.get('location'), `${app.baseUrl}/payments/authentication-complete`);
    await settle();
    const paid = await getInvoice(app, org, invoice.id);
    assert.equal(paid.status, 'PAID');
    assert.equal(paid.payment_action_url, null);
    const [succeeded] = deliveriesOf('payment_intent.succeeded', since);
    assert.deepEqual(JSON.parse(succeeded!.body), { received: true, duplicate: false, outcome: 'applied' });
    assert.equal(JSON.parse(deliveriesOf('charge.succeeded', since)[0]!.body).outcome, 'ignored');

    // Stripe redelivers the same event: acknowledged, nothing changes.
    const auditCount = (await auditEvents(app, org.id)).length;
    const replay = await standIn.resendEvent(succeeded!.eventId);
    assert.deepEqual(JSON.parse(replay.body), { received: true, duplicate: true, outcome: 'unchanged' });
    assert.equal((await auditEvents(app, org.id)).length, auditCount);
    assert.deepEqual(await getInvoice(app, org, invoice.id), paid);

    // charge.refunded: a partial refund, then the rest; the invoice stays PAID and shows what was refunded.
    await app.app.context.payments.refund(intentId, 2500n);
    await settle();
    assert.equal((await getInvoice(app, org, invoice.id)).refunded_in_cents, 2500);
    await app.app.context.payments.refund(intentId, null);
    await settle();
    const refunded = await getInvoice(app, org, invoice.id);
    assert.equal(refunded.refunded_in_cents, invoice.total_in_cents);
    assert.equal(refunded.status, 'PAID');
    // An older refund event arriving late changes nothing (refunds only grow).
    const [firstRefund] = deliveriesOf('charge.refunded', since);
    const late = await standIn.sendEvent('charge.refunded', refundObject(intentId, invoice.id, 2500));
    assert.equal(JSON.parse(late.body).outcome, 'unchanged');
    assert.equal(JSON.parse(firstRefund!.body).outcome, 'applied');

    // charge.dispute.created: the dispute is shown on the invoice.
    await standIn.openDispute(intentId, 'fraudulent');
    await settle();
    const disputed = await getInvoice(app, org, invoice.id);
    assert.equal(disputed.status, 'PAID');
    assert.equal(disputed.dispute.amount_in_cents, invoice.total_in_cents);
    assert.equal(disputed.dispute.reason, 'fraudulent');
    assert.match(disputed.dispute.opened_at, /^2026-02-06T/);

    // Every applied event is audited with its effect.
    const effects = (await auditEvents(app, org.id))
      .filter((event) => event.type === 'PROVIDER_PAYMENT_EVENT')
      .map((event) => event.changes.effect)
      .sort();
    assert.deepEqual(effects.filter((effect: string) => effect !== 'awaiting_action'), ['disputed', 'paid', 'refunded', 'refunded']);
  });

  it('a failed authentication is a failed attempt (NOT_PAID, retried on schedule)', async () => {
    const { org, invoice: charged } = await chargedInvoice(app, AUTHENTICATION_CARD, 2027);
    await settle();
    const invoice = await getInvoice(app, org, charged.id);
    assert.equal(invoice.status, 'PENDING');
    const since = standIn.webhookDeliveries.length;
    await standIn.authenticatePaymentIntent(intentIdOf(invoice.payment_action_url), 'failed');
    await settle();
    const [failed] = deliveriesOf('payment_intent.payment_failed', since);
    assert.equal(JSON.parse(failed!.body).outcome, 'applied');
    const notPaid = await getInvoice(app, org, invoice.id);
    assert.equal(notPaid.status, 'NOT_PAID');
    assert.equal(notPaid.payment_action_url, null);
    const event = (await auditEvents(app, org.id)).find((audit) => audit.type === 'PROVIDER_PAYMENT_EVENT');
    assert.equal(event.changes.effect, 'authentication_failed');
    assert.equal(event.changes.failureCode, 'card_declined');
    // The retry of February 2 asks for authentication again.
    app.clock.set(new Date('2027-02-02T00:00:10Z'));
    assert.equal(await sweepPaymentRetries(app), 1);
    await settle();
    assert.equal((await getInvoice(app, org, invoice.id)).status, 'PENDING');
  });

  it('a payment_intent.succeeded that beats the charge job\'s own bookkeeping pays the invoice, and nothing is refunded', async () => {
    const since = standIn.webhookDeliveries.length;
    standIn.setEventTiming('before_answer');
    try {
      const { org, invoice } = await chargedInvoice(app, '4242424242424242', 2029);
      assert.equal(invoice.status, 'PAID');
      const [succeeded] = deliveriesOf('payment_intent.succeeded', since);
      assert.deepEqual(JSON.parse(succeeded!.body), { received: true, duplicate: false, outcome: 'applied' });
      const intent = [...standIn.paymentIntents.values()].find((candidate) => (candidate['metadata'] as Record<string, unknown>)['invoice_id'] === invoice.id);
      assert.ok(intent);
      assert.equal([...standIn.refunds.values()].filter((refund) => refund['payment_intent'] === intent['id']).length, 0);
      const statusChanges = (await auditEvents(app, org.id)).filter((event) => event.type === 'INVOICE_STATUS_CHANGE');
      assert.deepEqual(statusChanges.map((event) => event.changes.status), [{ old: 'PENDING', new: 'PAID' }]);
    } finally {
      standIn.setEventTiming('after_answer');
    }
  });

  it('a payment_intent.succeeded for an invoice the charge already paid changes nothing', async () => {
    const since = standIn.webhookDeliveries.length;
    // Held until the charge job has recorded the payment: under load an event sent right after the answer can
    // still beat the job's commit (the case of the test above), and then it is the event that pays.
    standIn.setEventTiming('held');
    let charged: Awaited<ReturnType<typeof chargedInvoice>>;
    try {
      charged = await chargedInvoice(app, '4242424242424242', 2028);
    } finally {
      standIn.setEventTiming('after_answer');
    }
    const { org, invoice } = charged;
    assert.equal(invoice.status, 'PAID');
    await standIn.releaseHeldEvents();
    await settle();
    const [succeeded] = deliveriesOf('payment_intent.succeeded', since);
    assert.deepEqual(JSON.parse(succeeded!.body), { received: true, duplicate: false, outcome: 'unchanged' });
    assert.deepEqual(await getInvoice(app, org, invoice.id), invoice);
  });
});

function refundObject(intentId: string, invoiceId: string, amountRefunded: number): Record<string, unknown> {
  return {
    id: 'ch_late',
    object: 'charge',
    amount: 100000,
    amount_refunded: amountRefunded,
    currency: 'usd',
    metadata: { invoice_id: invoiceId },
    payment_intent: intentId,
    refunded: false,
  };
}
