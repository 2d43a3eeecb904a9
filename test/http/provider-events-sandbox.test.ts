/**
 * Strong customer authentication with the sandbox provider, end to end offline: the test card 4000 0025 0000 3155
 * needs the customer to authenticate each charge; the invoice waits PENDING with the sandbox's authentication page
 * as `payment_action_url`, its dunning does not count it as a failure, and completing the page pays it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { MailMessage } from '../../src/mail/mailer.js';
import type { SandboxPaymentProvider } from '../../src/providers/payments/sandbox-payment-provider.js';
import { auditEvents, http, startTestApp, type TestApp } from '../support/test-app.js';
import { getInvoice } from './invoice-fixtures.js';
import { AUTHENTICATION_CARD, chargedInvoice, sweepPaymentRetries } from './provider-events-fixtures.js';

let app: TestApp;
const mails: MailMessage[] = [];

before(async () => {
  app = await startTestApp({}, { mailer: { send: async (message) => (mails.push(message), { messageId: `m${mails.length}` }) } });
});
after(async () => {
  await app.close();
});

function sandbox(): SandboxPaymentProvider {
  return app.app.context.payments as SandboxPaymentProvider;
}

function referenceOf(url: string): string {
  const match = /\/sandbox\/payments\/(pi_sandbox_[0-9a-f]{24})\/authenticate$/.exec(url);
  assert.ok(match, `not a sandbox authentication URL: ${url}`);
  return match[1]!;
}

describe('sandbox: a charge that needs authentication', () => {
  it('waits PENDING with the authentication page, is not retried as a failure, and is PAID once completed', async () => {
    const { org, invoice } = await chargedInvoice(app, AUTHENTICATION_CARD);
    assert.equal(invoice.status, 'PENDING');
    assert.ok(invoice.payment_action_url.startsWith(`${app.baseUrl}/sandbox/payments/`), invoice.payment_action_url);
    const reference = referenceOf(invoice.payment_action_url);
    assert.equal(sandbox().charges.filter((charge) => charge.invoiceId === invoice.id).length, 0);

    // The attempt is audited as waiting for the customer, not as a failure.
    const attempt = (await auditEvents(app, org.id)).find((event) => event.type === 'INVOICE_PAYMENT_ATTEMPT');
    assert.equal(attempt.changes.outcome, 'requires_action');
    assert.equal(attempt.changes.paymentActionUrl, invoice.payment_action_url);

    // The customer is told where to confirm the payment.
    const asked = mails.filter((mail) => mail.subject === `Confirm your payment for invoice ${invoice.number}`);
    assert.equal(asked.length, 1);
    assert.ok(asked[0]!.text.includes(`Confirm it here: ${invoice.payment_action_url}`), asked[0]!.text);
    assert.equal(asked[0]!.attachments?.[0]?.filename, `${invoice.number}.pdf`);

    // The page a customer opens.
    const pageResponse = await fetch(invoice.payment_action_url);
    assert.equal(pageResponse.status, 200);
    assert.match(pageResponse.headers.get('content-type') ?? '', /^text\/html/);
    const html = await pageResponse.text();
    assert.ok(html.includes(`Invoice ${invoice.number}`), html);
    assert.ok(html.includes(`action="/sandbox/payments/${reference}/complete"`), html);

    // Days pass: the dunning sweep queues nothing for it and it stays PENDING.
    for (const day of ['2026-02-02T01:00:00Z', '2026-02-04T01:00:00Z', '2026-02-06T01:00:00Z']) {
      app.clock.set(new Date(day));
      assert.equal(await sweepPaymentRetries(app), 0);
    }
    const waiting = await getInvoice(app, org, invoice.id);
    assert.equal(waiting.status, 'PENDING');
    assert.equal(waiting.payment_action_url, invoice.payment_action_url);
    const types = (await auditEvents(app, org.id)).map((event) => event.type);
    assert.equal(types.filter((type) => type === 'INVOICE_PAYMENT_ATTEMPT').length, 1);
    assert.ok(!types.includes('INVOICE_STATUS_CHANGE'), `a status change was audited: ${types.join(', ')}`);
    assert.equal(mails.filter((mail) => mail.subject.startsWith('Payment failed')).length, 0);

    // The customer completes the authentication.
    app.clock.set(new Date('2026-02-06T12:00:00Z'));
    const completed = await http(app, 'POST', `/sandbox/payments/${reference}/complete`);
    assert.equal(completed.status, 200, completed.text);
    assert.deepEqual(completed.body, { received: true, duplicate: false, outcome: 'applied' });
    const paid = await getInvoice(app, org, invoice.id);
    assert.equal(paid.status, 'PAID');
    assert.match(paid.paid_at, /^2026-02-06T12:00:0/);
    assert.equal(paid.payment_action_url, null);
    const charges = sandbox().charges.filter((charge) => charge.invoiceId === invoice.id);
    assert.deepEqual(charges.map((charge) => [charge.chargeReference, charge.amountMinor]), [[reference, BigInt(invoice.total_in_cents)]]);

    const events = await auditEvents(app, org.id);
    const statusChange = events.find((event) => event.type === 'INVOICE_STATUS_CHANGE');
    assert.deepEqual(statusChange.changes.status, { old: 'PENDING', new: 'PAID' });
    const providerEvent = events.find((event) => event.type === 'PROVIDER_PAYMENT_EVENT');
    assert.equal(providerEvent.changes.effect, 'paid');
    assert.equal(providerEvent.changes.paymentReference, reference);
    assert.equal(providerEvent.actor_type ?? providerEvent.actor?.type ?? 'system', 'system');

    // The page is used up: completing again finds nothing to complete.
    const again = await http(app, 'POST', `/sandbox/payments/${reference}/complete`);
    assert.equal(again.status, 404, again.text);
    assert.equal((await fetch(invoice.payment_action_url)).status, 404);
  });

  it('counts a failed authentication as a failed attempt, retried on the dunning schedule', async () => {
    const { org, invoice } = await chargedInvoice(app, AUTHENTICATION_CARD, 2027);
    assert.equal(invoice.status, 'PENDING');
    const reference = referenceOf(invoice.payment_action_url);
    const failed = await http(app, 'POST', `/sandbox/payments/${reference}/fail`);
    assert.equal(failed.status, 200, failed.text);
    assert.equal(failed.body.outcome, 'applied');
    const notPaid = await getInvoice(app, org, invoice.id);
    assert.equal(notPaid.status, 'NOT_PAID');
    assert.equal(notPaid.payment_action_url, null);

    // The retry of February 2 needs authentication again: PENDING on a new page.
    app.clock.set(new Date('2027-02-02T00:00:10Z'));
    assert.equal(await sweepPaymentRetries(app), 1);
    const retried = await getInvoice(app, org, invoice.id);
    assert.equal(retried.status, 'PENDING');
    assert.notEqual(referenceOf(retried.payment_action_url), reference);

    // A browser's form post goes on to the return page.
    const browser = await fetch(`${retried.payment_action_url.replace(/\/authenticate$/, '')}/complete`, {
      method: 'POST',
      headers: { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
      redirect: 'manual',
    });
    assert.equal(browser.status, 303);
    assert.equal(browser.headers.get('location'), '/payments/authentication-complete');
    assert.equal((await getInvoice(app, org, invoice.id)).status, 'PAID');
    const returnPage = await fetch(`${app.baseUrl}/payments/authentication-complete`);
    assert.equal(returnPage.status, 200);
  });

  it('answers 404 to an unknown reference and to the Stripe webhook', async () => {
    const unknown = await http(app, 'POST', `/sandbox/payments/pi_sandbox_${'0'.repeat(24)}/complete`);
    assert.equal(unknown.status, 404, unknown.text);
    const webhook = await http(app, 'POST', '/webhooks/stripe', { body: { id: 'evt_1', type: 'payment_intent.succeeded' } });
    assert.equal(webhook.status, 404, webhook.text);
  });
});
