/**
 * Scenario: a credits-plan organization redeems a credit code and pays its usage from credits month by month until
 * none is left; then its billing status turns invalid. Everything through HTTP, the mail through SMTP.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { ParsedMail } from 'mailparser';
import { http, type OrganizationFixture, type TestApp } from '../support/test-app.js';
import { startTestAppWithSmtp, type SmtpTestServer } from '../fixtures/smtp-test-server.js';
import {
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
  ({ app, smtp, close } = await startTestAppWithSmtp());
});
after(async () => close());

function at(iso: string): void {
  app.clock.set(new Date(iso));
}

async function billingStatus(): Promise<{ is_valid: boolean; message: string }> {
  const result = await http(app, 'GET', `/organization/${org.id}/billingStatus`, { headers: org.owner });
  assert.equal(result.status, 200, result.text);
  return result.body;
}

async function creditBalance(): Promise<number> {
  const result = await http(app, 'GET', `/organization/${org.id}/credits`, { headers: org.owner });
  assert.equal(result.status, 200, result.text);
  return result.body.balance_in_cents;
}

let mailsSeen = 0;
async function nextMail(): Promise<ParsedMail> {
  const all = await smtp.waitForMessages(mailsSeen + 1);
  mailsSeen += 1;
  return all[mailsSeen - 1]!;
}

it('pays usage from credits month by month until none is left, then the billing status is invalid', async () => {
  at('2026-04-01T00:00:00Z');
  await putPlan(app, 'COMMUNITY', { monthly: 0, kind: 'credits', name: 'Community' });
  const code = await http(app, 'POST', '/admin/credit-codes', { headers: app.admin, body: { code: 'WELCOME50', amount_in_cents: 5000, currency: 'USD' } });
  assert.equal(code.status, 201, code.text);

  org = await createBillingOrganization(app, { name: 'Hobby' });
  await setBillingInfo(app, org, {
    first_name: 'Sam',
    last_name: 'Lee',
    email: 'sam@hobby.test',
    address: '1 Elm Street',
    city: 'Springfield',
    zip: '62701',
    state: 'IL',
    country_code: 'US',
  });
  await changePlan(app, org, 'COMMUNITY');
  assert.equal((await billingStatus()).is_valid, false, 'no credit yet');
  const redeemed = await http(app, 'POST', `/organization/${org.id}/creditCode`, { headers: org.owner, body: { code: 'welcome50' } });
  assert.equal(redeemed.status, 200, redeemed.text);
  assert.equal(await creditBalance(), 5000);
  const valid = await billingStatus();
  assert.equal(valid.is_valid, true);
  assert.match(valid.message, /\$50\.00/);

  const cluster = await registerCluster(app, org.id, { name: 'hobby', hourly: 10, minNodes: 0, maxNodes: 5 });

  // Three months of usage: 20.00, 25.00, then 10.00 of which only 5.00 is covered.
  const months = [
    { usage: 200, on: '2026-04-12T00:00:00Z', closeAt: '2026-05-01T00:00:05Z', label: 'April 2026', balanceAfter: 3000, total: 0, status: 'PAID' },
    { usage: 250, on: '2026-05-12T00:00:00Z', closeAt: '2026-06-01T00:00:05Z', label: 'May 2026', balanceAfter: 500, total: 0, status: 'PAID' },
    { usage: 100, on: '2026-06-12T00:00:00Z', closeAt: '2026-07-01T00:00:05Z', label: 'June 2026', balanceAfter: 0, total: 500, status: 'NOT_PAID' },
  ];
  for (const [index, month] of months.entries()) {
    at(month.on);
    await sendUsage(app, org.id, cluster, month.usage, month.on);
    assert.equal((await billingStatus()).is_valid, true, month.label);
    at(month.closeAt);
    const run = await runBilling(app, month.closeAt);
    assert.equal(run.invoices_created, 1, month.label);
    await runJobs(app);

    const [latest] = await listInvoices(app, org);
    const invoice = await getInvoice(app, org, latest.id);
    const usageMinor = month.usage * 10;
    const creditsMinor = usageMinor - month.total;
    assert.equal(invoice.number, `INV-00000${index + 1}`);
    assert.equal(invoice.status, month.status, month.label);
    assert.equal(invoice.total_in_cents, month.total);
    assert.equal(invoice.credits_applied_in_cents, creditsMinor);
    assert.deepEqual(
      invoice.lines.map((line: any) => [line.kind, line.amount_in_cents]),
      [
        ['usage', usageMinor],
        ['credit', -creditsMinor],
      ],
      month.label,
    );
    assert.equal(await creditBalance(), month.balanceAfter, month.label);

    // The invoice is e-mailed at issue, with its PDF.
    const mail = await nextMail();
    assert.equal(mail.subject, `Invoice ${invoice.number} for ${month.label}`);
    assert.equal(mail.attachments[0]!.filename, `${invoice.number}.pdf`);
    const text = await pdfText(mail.attachments[0]!.content);
    assertContainsAll(text, [
      invoice.number,
      'Sam Lee',
      '1 Elm Street',
      '62701 Springfield',
      'United States',
      'Cluster hobby (node-hours)',
      `Credits applied -${(creditsMinor / 100).toFixed(2)} USD`,
      `Total ${(month.total / 100).toFixed(2)} USD`,
      'Paid from the credit balance at issue',
    ]);
    assert.doesNotMatch(text, /Status/, 'the invoice PDF shows no payment status');
  }

  // No credit left: the organization may no longer deploy, and is told why.
  const status = await billingStatus();
  assert.equal(status.is_valid, false);
  assert.match(status.message, /No credit left/);
  const cost = await http(app, 'GET', `/organization/${org.id}/currentCost`, { headers: org.owner });
  assert.equal(cost.body.remaining_credits.total_in_cents, 0);
  // Reruns spend nothing twice.
  await runBilling(app, '2026-07-01T00:00:05Z');
  assert.equal(await creditBalance(), 0);
  assert.equal((await listInvoices(app, org)).length, 3);
});
