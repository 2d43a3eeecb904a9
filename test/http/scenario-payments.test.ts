/**
 * Scenarios of issue 8 on settling invoices, walked with the test clock through HTTP (mail through SMTP):
 * credits pay every invoice, the default card and its retries, dunning after downtime, and the invoice archive
 * without a billing e-mail. Each scenario has its own server, so billing runs and numbers do not mix.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { ParsedMail } from 'mailparser';
import type { SandboxPaymentProvider } from '../../src/providers/payments/sandbox-payment-provider.js';
import { auditEvents, createOrganization, http, startTestApp, type OrganizationFixture, type TestApp } from '../support/test-app.js';
import { startSmtpTestServer, type SmtpTestServer } from '../fixtures/smtp-test-server.js';
import {
  acmeBillingInfo,
  assertContainsAll,
  changePlan,
  createBillingOrganization,
  getInvoice,
  listInvoices,
  putPlan,
  registerCluster,
  runBilling,
  runJobs,
  sendUsage,
  setBillingInfo,
} from './invoice-fixtures.js';

const WORKING_CARD = { number: '4242424242424242', cvv: '123', expiry_month: 12, expiry_year: 2030 };
/** Attaches, then refuses every charge. */
const FAILING_CARD = { number: '4000000000000341', cvv: '123', expiry_month: 12, expiry_year: 2030 };
const PORTAL_URL = 'https://billing.example.test/portal';

let smtp: SmtpTestServer;
let app: TestApp;
let mailsSeen = 0;

before(async () => {
  smtp = await startSmtpTestServer();
});
after(async () => {
  await app?.close();
  await smtp.close();
});

/** A fresh server for each scenario (the SMTP server is shared; mails are counted from here on). */
async function freshApp(env: Record<string, string> = {}): Promise<void> {
  await app?.close();
  app = await startTestApp({ SMTP_URL: smtp.url, BURSAR_PORTAL_URL: PORTAL_URL, ...env });
  mailsSeen = smtp.messages.length;
}

function at(iso: string): void {
  app.clock.set(new Date(iso));
}

/** The mails that arrived since the last call (waits for `count` of them). */
async function newMails(count: number): Promise<ParsedMail[]> {
  const all = await smtp.waitForMessages(mailsSeen + count);
  const fresh = all.slice(mailsSeen);
  mailsSeen = all.length;
  return fresh;
}

function sandbox(): SandboxPaymentProvider {
  return app.app.context.payments as SandboxPaymentProvider;
}

async function addCard(org: OrganizationFixture, card: object): Promise<any> {
  const result = await http(app, 'POST', `/organization/${org.id}/creditCard`, { headers: org.owner, body: card });
  assert.equal(result.status, 201, result.text);
  return result.body;
}

async function listCards(org: OrganizationFixture): Promise<any[]> {
  const result = await http(app, 'GET', `/organization/${org.id}/creditCard`, { headers: org.owner });
  assert.equal(result.status, 200, result.text);
  return result.body.results;
}

async function credits(org: OrganizationFixture): Promise<{ balance_in_cents: number; entries: any[] }> {
  const result = await http(app, 'GET', `/organization/${org.id}/credits`, { headers: org.owner });
  assert.equal(result.status, 200, result.text);
  return result.body;
}

async function billingStatus(org: OrganizationFixture): Promise<{ is_valid: boolean; message: string; reason?: string }> {
  const result = await http(app, 'GET', `/organization/${org.id}/billingStatus`, { headers: org.owner });
  assert.equal(result.status, 200, result.text);
  return result.body;
}

async function redeem(org: OrganizationFixture, code: string, amountMinor: number): Promise<void> {
  const created = await http(app, 'POST', '/admin/credit-codes', { headers: app.admin, body: { code, amount_in_cents: amountMinor, currency: 'USD' } });
  assert.equal(created.status, 201, created.text);
  const redeemed = await http(app, 'POST', `/organization/${org.id}/creditCode`, { headers: org.owner, body: { code } });
  assert.equal(redeemed.status, 200, redeemed.text);
}

async function retryDuePayments(): Promise<number> {
  const result = await http(app, 'POST', '/admin/invoices/payment-retries', { headers: app.admin });
  assert.equal(result.status, 200, result.text);
  await runJobs(app);
  return result.body.queued;
}

/** An organization on an invoiced plan ($99.00 a month) with its billing e-mail, from January 1. */
async function invoicedOrganization(name: string): Promise<OrganizationFixture> {
  at('2026-01-01T00:00:00Z');
  await putPlan(app, 'TEAM', { monthly: 9900, kind: 'invoiced', name: 'Team' });
  const org = await createBillingOrganization(app, { name });
  await setBillingInfo(app, org, acmeBillingInfo);
  await changePlan(app, org, 'TEAM');
  return org;
}

it('item 3: redeemed credits pay an invoiced plan before the card, with a credit line and a ledger entry', async () => {
  await freshApp();
  const org = await invoicedOrganization('Credits then invoiced');
  await redeem(org, 'WELCOME50', 5000);
  await addCard(org, WORKING_CARD);

  // February 1: January's $99.00; $50.00 of credits pay part of it, the card the rest.
  at('2026-02-01T00:00:05Z');
  await runBilling(app, '2026-02-01T00:00:00Z');
  await runJobs(app);
  const [january] = await listInvoices(app, org);
  const invoice = await getInvoice(app, org, january.id);
  assert.deepEqual(
    invoice.lines.map((line: any) => [line.kind, line.amount_in_cents]),
    [
      ['plan', 9900],
      ['credit', -5000],
    ],
  );
  assert.equal(invoice.credits_applied_in_cents, 5000);
  assert.equal(invoice.total_in_cents, 4900);
  assert.equal(invoice.status, 'PAID');
  const charges = sandbox().charges.filter((charge) => charge.invoiceId === january.id);
  assert.deepEqual(charges.map((charge) => charge.amountMinor), [4900n]);

  const statement = await credits(org);
  assert.equal(statement.balance_in_cents, 0, 'the balance pays the invoice');
  const [use] = statement.entries;
  assert.equal(use.reason, 'invoice');
  assert.equal(use.amount_in_cents, -5000);
  assert.equal(use.reference, january.id);

  // February: no credit left, the card pays all of it.
  at('2026-03-01T00:00:05Z');
  await runBilling(app, '2026-03-01T00:00:00Z');
  await runJobs(app);
  const [february] = await listInvoices(app, org);
  assert.equal(february.status, 'PAID');
  assert.equal(february.total_in_cents, 9900);
  assert.equal((await getInvoice(app, org, february.id)).lines.length, 1);
});

it('item 3: credits that cover an invoiced plan entirely settle it at issue; nothing is charged', async () => {
  await freshApp();
  const org = await invoicedOrganization('Fully covered');
  await redeem(org, 'BIG200', 20000);
  await addCard(org, WORKING_CARD);
  at('2026-02-01T00:00:05Z');
  await runBilling(app, '2026-02-01T00:00:00Z');
  await runJobs(app);
  const [january] = await listInvoices(app, org);
  assert.equal(january.status, 'PAID');
  assert.equal(january.total_in_cents, 0);
  assert.equal(sandbox().charges.filter((charge) => charge.invoiceId === january.id).length, 0);
  assert.equal((await credits(org)).balance_in_cents, 10100);
  const [mail] = await newMails(1);
  assert.match(mail!.text ?? '', /paid from your credits \(\$99\.00\)/);
});

it('item 3: a credits-plan invoice that credits do not cover is charged to the default card, or stays unpaid and counts', async () => {
  await freshApp();
  at('2026-01-01T00:00:00Z');
  await putPlan(app, 'COMMUNITY', { monthly: 0, kind: 'credits', name: 'Community' });
  const withCard = await createBillingOrganization(app, { name: 'With card' });
  const withoutCard = await createBillingOrganization(app, { name: 'Without card' });
  const clusters = new Map<string, string>();
  for (const org of [withCard, withoutCard]) {
    await setBillingInfo(app, org, acmeBillingInfo);
    await changePlan(app, org, 'COMMUNITY');
    await redeem(org, org === withCard ? 'TENA' : 'TENB', 1000);
    clusters.set(org.id, await registerCluster(app, org.id, { name: 'hobby', hourly: 10, minNodes: 0, maxNodes: 5 }));
    await sendUsage(app, org.id, clusters.get(org.id)!, 300, '2026-01-12T00:00:00Z');
  }
  await addCard(withCard, WORKING_CARD);

  at('2026-02-01T00:00:05Z');
  await runBilling(app, '2026-02-01T00:00:00Z');
  await runJobs(app);

  // $30.00 of usage, $10.00 of credits: the card pays $20.00.
  const [paid] = await listInvoices(app, withCard);
  assert.equal(paid.total_in_cents, 2000);
  assert.equal(paid.credits_applied_in_cents, 1000);
  assert.equal(paid.status, 'PAID');
  assert.deepEqual(
    sandbox().charges.filter((charge) => charge.invoiceId === paid.id).map((charge) => charge.amountMinor),
    [2000n],
  );

  // Without a card the $20.00 stays owed; once more credit is redeemed, the overdue invoice still blocks.
  const [owed] = await listInvoices(app, withoutCard);
  assert.equal(owed.status, 'NOT_PAID');
  assert.equal(owed.total_in_cents, 2000);
  await redeem(withoutCard, 'MORE', 5000);
  assert.equal((await billingStatus(withoutCard)).is_valid, true, 'within the grace period');
  at('2026-02-09T00:00:00Z');
  const blocked = await billingStatus(withoutCard);
  assert.equal(blocked.is_valid, false);
  assert.match(blocked.message, new RegExp(owed.number));

  // A card added later becomes the default and pays the owed invoice within seconds (a job), without the sweep.
  await addCard(withoutCard, WORKING_CARD);
  await runJobs(app);
  assert.equal((await getInvoice(app, withoutCard, owed.id)).status, 'PAID');
  assert.equal((await billingStatus(withoutCard)).is_valid, true);
});

/** A failing card, January's invoice charged on February 1 and refused through the whole schedule. */
async function organizationWithPaymentDueInvoice(): Promise<{ org: OrganizationFixture; failing: any; invoiceId: string }> {
  const org = await invoicedOrganization('Dunned');
  const failing = await addCard(org, FAILING_CARD);
  at('2026-02-01T00:00:05Z');
  await runBilling(app, '2026-02-01T00:00:00Z');
  await runJobs(app);
  for (const day of ['2026-02-02T00:00:10Z', '2026-02-04T00:00:10Z', '2026-02-06T00:00:10Z']) {
    at(day);
    assert.equal(await retryDuePayments(), 1, day);
  }
  const [invoice] = await listInvoices(app, org);
  assert.equal(invoice.status, 'PAYMENT_DUE');
  await newMails(4);
  return { org, failing, invoiceId: invoice.id };
}

it('item 4: a card added after a failed charge becomes the default and pays the invoice within seconds', async () => {
  await freshApp();
  const { org, failing, invoiceId } = await organizationWithPaymentDueInvoice();
  const lastNotice = smtp.messages.at(-1)!;
  assertContainsAll(lastNotice.text ?? '', ['$99.00', 'INV-000001', 'choose another card as the default', PORTAL_URL]);
  assert.doesNotMatch(lastNotice.text ?? '', /Update your credit card/);

  at('2026-02-07T10:00:00Z');
  const working = await addCard(org, WORKING_CARD);
  assert.equal(working.is_default, true, 'the card added while the default one fails becomes the default');
  const cards = await listCards(org);
  assert.deepEqual(
    cards.map((card) => [card.id, card.is_default]),
    [
      [working.id, true],
      [failing.id, false],
    ],
  );
  // No sweep: the retry queued with the change runs as a job.
  await runJobs(app);
  assert.equal((await getInvoice(app, org, invoiceId)).status, 'PAID');
  assert.deepEqual(
    sandbox().charges.filter((charge) => charge.invoiceId === invoiceId).map((charge) => charge.amountMinor),
    [9900n],
  );
});

it('item 4: POST …/creditCard/{id}/default chooses the default card, audited, and retries unpaid invoices', async () => {
  await freshApp();
  const org = await invoicedOrganization('Chooser');
  const working = await addCard(org, WORKING_CARD);
  const failing = await addCard(org, FAILING_CARD);
  assert.equal(working.is_default, true);
  assert.equal(failing.is_default, false);

  const chosen = await http(app, 'POST', `/organization/${org.id}/creditCard/${failing.id}/default`, { headers: org.billing });
  assert.equal(chosen.status, 200, chosen.text);
  assert.equal(chosen.body.id, failing.id);
  assert.equal(chosen.body.is_default, true);
  assert.deepEqual((await listCards(org)).map((card) => [card.id, card.is_default]), [
    [failing.id, true],
    [working.id, false],
  ]);
  const [event] = (await auditEvents(app, org.id)).filter((entry) => entry.type === 'PAYMENT_METHOD_DEFAULT');
  assert.equal(event.changes.creditCardId, failing.id);
  assert.equal(event.changes.previousCreditCardId, working.id);

  // Choosing the default card again changes nothing.
  const again = await http(app, 'POST', `/organization/${org.id}/creditCard/${failing.id}/default`, { headers: org.owner });
  assert.equal(again.status, 200, again.text);
  assert.equal((await auditEvents(app, org.id)).filter((entry) => entry.type === 'PAYMENT_METHOD_DEFAULT').length, 1);

  // The invoice fails on the chosen card; choosing the working card pays it without waiting for the sweep.
  at('2026-02-01T00:00:05Z');
  await runBilling(app, '2026-02-01T00:00:00Z');
  await runJobs(app);
  const [invoice] = await listInvoices(app, org);
  assert.equal(invoice.status, 'NOT_PAID');
  const back = await http(app, 'POST', `/organization/${org.id}/creditCard/${working.id}/default`, { headers: org.owner });
  assert.equal(back.status, 200, back.text);
  await runJobs(app);
  assert.equal((await getInvoice(app, org, invoice.id)).status, 'PAID');

  // Another organization's card, an unknown card, a member without billing.write.
  const other = await createOrganization(app, { name: 'Other' });
  const foreign = await http(app, 'POST', `/organization/${other.id}/creditCard/${working.id}/default`, { headers: other.owner });
  assert.equal(foreign.status, 404, foreign.text);
  assert.equal(foreign.body.error, 'not_found');
  const unknown = await http(app, 'POST', `/organization/${org.id}/creditCard/00000000-0000-4000-8000-000000000000/default`, {
    headers: org.owner,
  });
  assert.equal(unknown.status, 404, unknown.text);
  const member = await http(app, 'POST', `/organization/${org.id}/creditCard/${failing.id}/default`, { headers: org.member });
  assert.equal(member.status, 403, member.text);
});

it('item 4: deleting the failing default card promotes the other one, which pays the unpaid invoice within seconds', async () => {
  await freshApp();
  const org = await invoicedOrganization('Deleter');
  const working = await addCard(org, WORKING_CARD);
  const failing = await addCard(org, FAILING_CARD);
  assert.equal((await http(app, 'POST', `/organization/${org.id}/creditCard/${failing.id}/default`, { headers: org.owner })).status, 200);
  at('2026-02-01T00:00:05Z');
  await runBilling(app, '2026-02-01T00:00:00Z');
  await runJobs(app);
  const [invoice] = await listInvoices(app, org);
  assert.equal(invoice.status, 'NOT_PAID');

  assert.equal((await http(app, 'DELETE', `/organization/${org.id}/creditCard/${failing.id}`, { headers: org.owner })).status, 204);
  assert.deepEqual((await listCards(org)).map((card) => [card.id, card.is_default]), [[working.id, true]]);
  await runJobs(app);
  assert.equal((await getInvoice(app, org, invoice.id)).status, 'PAID');
});

it('item 4: a card added beside an expired default card becomes the default', async () => {
  await freshApp();
  at('2026-01-01T00:00:00Z');
  const org = await createBillingOrganization(app, { name: 'Expiring' });
  const expiring = await addCard(org, { ...WORKING_CARD, expiry_month: 1, expiry_year: 2026 });
  at('2026-03-01T00:00:00Z');
  const fresh = await addCard(org, { ...WORKING_CARD, number: '5555555555554444' });
  assert.equal(fresh.is_default, true);
  assert.deepEqual((await listCards(org)).map((card) => [card.id, card.is_default, card.is_expired]), [
    [fresh.id, true, false],
    [expiring.id, false, true],
  ]);
});

it('item 6: after downtime, one catch-up attempt and one notice announcing a date still to come', async () => {
  await freshApp();
  const org = await invoicedOrganization('Downtime');
  await addCard(org, FAILING_CARD);
  at('2026-02-01T00:00:05Z');
  await runBilling(app, '2026-02-01T00:00:00Z');
  await runJobs(app);
  const [first] = await newMails(1);
  assert.match(first!.text ?? '', /We will try again on February 2, 2026/);

  // Nothing ran from February 1 to February 9: the attempts of February 2, 4 and 6 were missed.
  at('2026-02-09T08:00:00Z');
  assert.equal(await retryDuePayments(), 1, 'one catch-up attempt');
  assert.equal(await retryDuePayments(), 0, 'and no second one at once');
  const [invoice] = await listInvoices(app, org);
  assert.equal(invoice.status, 'NOT_PAID');
  const [notice] = await newMails(1);
  const text = notice!.text ?? '';
  assert.doesNotMatch(text, /February [2-8], 2026/, text);
  assert.match(text, /We will try again on February 11, 2026/);
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(smtp.messages.length, mailsSeen, 'one notice only');

  // The schedule goes on from the catch-up: February 11, then 13, then it is exhausted.
  at('2026-02-11T08:00:10Z');
  assert.equal(await retryDuePayments(), 1);
  assert.match((await newMails(1))[0]!.text ?? '', /We will try again on February 13, 2026/);
  at('2026-02-13T08:01:00Z');
  assert.equal(await retryDuePayments(), 1);
  assert.equal((await getInvoice(app, org, invoice.id)).status, 'PAYMENT_DUE');
});

it('item 9: downloadInvoices without a billing e-mail answers 400 billing_email_missing; with one 202', async () => {
  await freshApp();
  at('2026-01-01T00:00:00Z');
  const org = await createBillingOrganization(app, { name: 'No e-mail' });
  const refused = await http(app, 'POST', `/organization/${org.id}/downloadInvoices`, { headers: org.owner });
  assert.equal(refused.status, 400, refused.text);
  assert.equal(refused.body.error, 'billing_email_missing');
  assert.match(refused.body.message, /billingInfo/);
  assert.match(refused.body.message, /email/);
  assert.equal((await auditEvents(app, org.id)).filter((event) => event.type === 'INVOICE_ARCHIVE_REQUEST').length, 0);

  await setBillingInfo(app, org, acmeBillingInfo);
  const accepted = await http(app, 'POST', `/organization/${org.id}/downloadInvoices`, { headers: org.owner });
  assert.equal(accepted.status, 202, accepted.text);
});
