/**
 * Scenario: a trial, then an invoiced plan with a cluster and usage; the card on file refuses every charge, the
 * dunning schedule runs out, the organization becomes invalid after a week, the card is replaced and the retry
 * pays the invoice; the next month is charged at once. Everything through HTTP, the mail through SMTP.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { ParsedMail } from 'mailparser';
import type { SandboxPaymentProvider } from '../../src/providers/payments/sandbox-payment-provider.js';
import { auditEvents, http, type OrganizationFixture, type TestApp } from '../support/test-app.js';
import { startTestAppWithSmtp, type SmtpTestServer } from '../fixtures/smtp-test-server.js';
import {
  acmeBillingInfo,
  assertContainsAll,
  changePlan,
  createBillingOrganization,
  getInvoice,
  listInvoices,
  pdfText,
  putPlan,
  registerCluster,
  runBilling,
  runJobs,
  sendUsage,
  setBillingInfo,
} from './invoice-fixtures.js';

let smtp: SmtpTestServer;
let app: TestApp;
let org: OrganizationFixture;

let close: () => Promise<void>;

before(async () => {
  ({ app, smtp, close } = await startTestAppWithSmtp({ BURSAR_SELLER_NAME: 'Bursar Cloud' }));
});
after(async () => close());

function at(iso: string): void {
  app.clock.set(new Date(iso));
}

let mailsSeen = 0;
/** The mails that arrived since the last call (waits for `count` of them). */
async function newMails(count: number): Promise<ParsedMail[]> {
  const all = await smtp.waitForMessages(mailsSeen + count);
  const fresh = all.slice(mailsSeen);
  mailsSeen = all.length;
  return fresh;
}

async function billingStatus(): Promise<{ is_valid: boolean; message: string }> {
  const result = await http(app, 'GET', `/organization/${org.id}/billingStatus`, { headers: org.billing });
  assert.equal(result.status, 200, result.text);
  return result.body;
}

async function retryDuePayments(): Promise<number> {
  const result = await http(app, 'POST', '/admin/invoices/payment-retries', { headers: app.admin });
  assert.equal(result.status, 200, result.text);
  await runJobs(app);
  return result.body.queued;
}

function sandbox(): SandboxPaymentProvider {
  return app.app.context.payments as SandboxPaymentProvider;
}

it('walks a trial, a failed charge with its dunning, a replaced card and a paid retry', async () => {
  // January 5: the operator's catalogue; the organization moves to an invoiced plan with a 14-day trial.
  at('2026-01-05T00:00:00Z');
  await putPlan(app, 'STARTUP', { monthly: 9900, kind: 'invoiced', trialDays: 14, name: 'Startup' });
  org = await createBillingOrganization(app, { name: 'Acme' });
  await setBillingInfo(app, org, acmeBillingInfo);
  await changePlan(app, org, 'STARTUP');
  const cost = await http(app, 'GET', `/organization/${org.id}/currentCost`, { headers: org.owner });
  assert.equal(cost.body.plan, 'STARTUP');
  assert.equal(cost.body.remaining_trial_day, 14);

  // A card that attaches but refuses every charge.
  const failing = await http(app, 'POST', `/organization/${org.id}/creditCard`, {
    headers: org.owner,
    body: { number: '4000000000000341', cvv: '123', expiry_month: 12, expiry_year: 2030 },
  });
  assert.equal(failing.status, 201, failing.text);

  // January 10: a cluster; usage during January (and some in February, which January's invoice ignores).
  at('2026-01-10T00:00:00Z');
  const cluster = await registerCluster(app, org.id, { name: 'production', hourly: 20, minNodes: 1, maxNodes: 3 });
  at('2026-01-15T00:00:00Z');
  await sendUsage(app, org.id, cluster, 400, '2026-01-15T00:00:00Z');
  at('2026-01-28T00:00:00Z');
  await sendUsage(app, org.id, cluster, 300, '2026-01-28T00:00:00Z');
  at('2026-01-31T23:00:00Z');
  const shown = await http(app, 'GET', `/organization/${org.id}/cluster/${cluster}/currentCost`, { headers: org.owner });
  assert.equal(shown.status, 200, shown.text);
  const maxShown: number = shown.body.max_cost_in_cents;

  // February 1: the billing run; the invoice is charged by a job after the commit, and the card refuses.
  at('2026-02-01T00:00:05Z');
  const run = await runBilling(app, '2026-02-01T00:00:00Z');
  assert.equal(run.invoices_created, 1);
  const [issued] = await listInvoices(app, org);
  assert.equal(issued.number, 'INV-000001');
  const january = await getInvoice(app, org, issued.id);
  // The trial ended on January 19: the plan fee covers 13 of 31 days; the cluster's 700 node-hours at 0.20.
  assert.deepEqual(
    january.lines.map((line: any) => [line.kind, line.amount_in_cents]),
    [
      ['plan', 4152],
      ['usage', 14000],
    ],
  );
  assert.match(january.lines[0].description, /^Plan Startup \(Jan 19 – Jan 31, 2026, prorated\)$/);
  assert.ok(january.lines[1].amount_in_cents <= maxShown, 'the invoice charges more than the max that was shown');
  assert.equal(january.total_in_cents, 18152);
  assert.equal(january.total, 181.52);

  await runJobs(app);
  assert.equal((await getInvoice(app, org, issued.id)).status, 'NOT_PAID');
  const [firstFailure] = await newMails(1);
  assert.equal(firstFailure!.subject, 'Payment failed for invoice INV-000001');
  assertContainsAll(firstFailure!.text ?? '', ['$181.52', 'The card was declined.', 'We will try again on February 2, 2026', 'The invoice is attached.']);
  assert.equal(firstFailure!.attachments[0]!.filename, 'INV-000001.pdf');
  assertContainsAll(await pdfText(firstFailure!.attachments[0]!.content), ['INV-000001', 'Total 181.52 USD']);
  assert.deepEqual(
    (Array.isArray(firstFailure!.to) ? firstFailure!.to : [firstFailure!.to]).flatMap((to) => to?.value.map((address) => address.address)),
    ['billing@acme.test'],
  );
  assert.equal((await billingStatus()).is_valid, true);

  // Nothing is due before the next attempt's day.
  at('2026-02-01T18:00:00Z');
  assert.equal(await retryDuePayments(), 0);

  // The dunning schedule: February 2, 4 and 6; after the last failure the invoice is PAYMENT_DUE.
  for (const [day, expected] of [
    ['2026-02-02T00:00:10Z', 'NOT_PAID'],
    ['2026-02-04T00:00:10Z', 'NOT_PAID'],
    ['2026-02-06T00:00:10Z', 'PAYMENT_DUE'],
  ] as const) {
    at(day);
    assert.equal(await retryDuePayments(), 1, day);
    assert.equal((await getInvoice(app, org, issued.id)).status, expected, day);
    const [notice] = await newMails(1);
    assert.equal(notice!.subject, 'Payment failed for invoice INV-000001');
    assert.equal(notice!.attachments.length, 0, 'only the first notice carries the invoice');
  }
  const [lastNotice] = smtp.messages.slice(-1);
  assert.match(lastNotice!.text ?? '', /We will not try this card again/);
  at('2026-02-07T00:00:00Z');
  assert.equal(await retryDuePayments(), 0, 'the schedule is exhausted');
  assert.equal((await billingStatus()).is_valid, true, 'unpaid for less than a week');

  // A week after the invoice was issued, the organization may no longer deploy.
  at('2026-02-08T00:00:10Z');
  const invalid = await billingStatus();
  assert.equal(invalid.is_valid, false);
  assert.match(invalid.message, /INV-000001/);
  assert.equal(sandbox().charges.filter((charge) => charge.invoiceId === issued.id).length, 0);

  // The card is replaced: the new default card makes the invoice due for one more attempt, which succeeds.
  const working = await http(app, 'POST', `/organization/${org.id}/creditCard`, {
    headers: org.owner,
    body: { number: '4242424242424242', cvv: '123', expiry_month: 12, expiry_year: 2030 },
  });
  assert.equal(working.status, 201, working.text);
  assert.equal((await http(app, 'DELETE', `/organization/${org.id}/creditCard/${failing.body.id}`, { headers: org.owner })).status, 204);
  assert.equal(await retryDuePayments(), 1);
  const paid = await getInvoice(app, org, issued.id);
  assert.equal(paid.status, 'PAID');
  assert.ok(paid.paid_at);
  assert.equal((await billingStatus()).is_valid, true);
  const charges = sandbox().charges.filter((charge) => charge.invoiceId === issued.id);
  assert.equal(charges.length, 1);
  assert.equal(charges[0]!.amountMinor, 18152n);
  assert.equal(charges[0]!.currency, 'USD');

  // The receipt carries the invoice PDF: the same document as the first notice's (it shows no payment status).
  const [receipt] = await newMails(1);
  assert.equal(receipt!.subject, 'Payment received for invoice INV-000001');
  assert.equal(receipt!.attachments.length, 1);
  assert.equal(receipt!.attachments[0]!.filename, 'INV-000001.pdf');
  assert.equal(receipt!.attachments[0]!.contentType, 'application/pdf');
  assert.ok(receipt!.attachments[0]!.content.equals(firstFailure!.attachments[0]!.content), 'the invoice document changed');
  const receiptText = await pdfText(receipt!.attachments[0]!.content);
  assertContainsAll(receiptText, [
    'INV-000001',
    'Billing period 2026-01-01 to 2026-01-31',
    'Acme SAS',
    'Tax ID: FR12345678901',
    'Plan Startup (Jan 19 – Jan 31, 2026, prorated) 13 of 31 days 99.00 USD 41.52 USD',
    'Cluster production (node-hours) 700 0.20 USD 140.00 USD',
    'Total 181.52 USD',
  ]);
  assert.doesNotMatch(receiptText, /Status/);

  // Every status change is in the audit trail, oldest first.
  const changes = (await auditEvents(app, org.id))
    .filter((event) => event.type === 'INVOICE_STATUS_CHANGE')
    .reverse()
    .map((event) => `${event.changes.status.old}→${event.changes.status.new}`);
  assert.deepEqual(changes, ['PENDING→NOT_PAID', 'NOT_PAID→PAYMENT_DUE', 'PAYMENT_DUE→PAID']);
  const attempts = (await auditEvents(app, org.id)).filter((event) => event.type === 'INVOICE_PAYMENT_ATTEMPT');
  assert.equal(attempts.length, 5);

  // February, a whole month on the plan; usage beyond 3 nodes is capped at the max shown. Charged at once.
  at('2026-02-20T00:00:00Z');
  await sendUsage(app, org.id, cluster, 2500, '2026-02-20T00:00:00Z');
  at('2026-03-01T00:00:05Z');
  await runBilling(app, '2026-03-01T00:00:00Z');
  await runJobs(app);
  const [february] = await listInvoices(app, org);
  assert.equal(february.number, 'INV-000002');
  assert.equal(february.status, 'PAID');
  const februaryLines = (await getInvoice(app, org, february.id)).lines;
  assert.deepEqual(
    februaryLines.map((line: any) => [line.description, line.amount_in_cents]),
    [
      ['Plan Startup (February 2026)', 9900],
      ['Cluster production (node-hours, capped at its maximum of 3 nodes)', 40320],
    ],
  );
  assert.equal(february.total_in_cents, 50220);
  const [februaryReceipt] = await newMails(1);
  assert.equal(februaryReceipt!.subject, 'Payment received for invoice INV-000002');
  const februaryText = await pdfText(februaryReceipt!.attachments[0]!.content);
  assertContainsAll(februaryText, [
    'INV-000002',
    'Plan Startup (February 2026) 1 month 99.00 USD 99.00 USD',
    // The capped cluster line shows how its amount is made: usage at the hourly price, less the cap.
    'Usage (node-hours) 2,500 0.20 USD 500.00 USD',
    'Cap: at most 3 nodes for 672 hours -96.80 USD',
    'Total 502.20 USD',
  ]);
  assert.ok(!februaryText.includes('prorated'), 'a whole month is not labelled prorated');
  assert.equal((await billingStatus()).is_valid, true);
});
