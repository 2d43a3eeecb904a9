/**
 * One document per invoice: the PDF is rendered from what was frozen at issue, never shows a payment status, and is
 * the same bytes wherever it is fetched (the e-mail attachment, the signed link, the archive ZIP), before and after
 * the invoice is paid.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { ParsedMail } from 'mailparser';
import { http, type OrganizationFixture, type TestApp } from '../support/test-app.js';
import { startTestAppWithSmtp, type SmtpTestServer } from '../fixtures/smtp-test-server.js';
import {
  acmeBillingInfo,
  assertContainsAll,
  changePlan,
  createBillingOrganization,
  downloadInvoicePdf,
  getInvoice,
  listInvoices,
  pdfText,
  putPlan,
  readZip,
  runBilling,
  runJobs,
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

/** The invoice PDF inside the archive e-mailed by downloadInvoices. */
async function pdfFromArchive(number: string): Promise<Buffer> {
  const before = smtp.messages.length;
  const asked = await http(app, 'POST', `/organization/${org.id}/downloadInvoices`, { headers: org.owner });
  assert.equal(asked.status, 202, asked.text);
  await runJobs(app);
  const mails: ParsedMail[] = (await smtp.waitForMessages(before + 1)).slice(before);
  const archive = mails.find((mail) => mail.subject === 'Your invoices');
  assert.ok(archive, 'no archive e-mail');
  const entries = await readZip(archive.attachments[0]!.content);
  const pdf = entries.get(`${number}.pdf`);
  assert.ok(pdf, `the archive lacks ${number}.pdf`);
  return pdf;
}

it('serves the same bytes as attachment, signed link and archive entry, before and after the payment', async () => {
  app.clock.set(new Date('2026-01-01T00:00:00Z'));
  await putPlan(app, 'PRO', { monthly: 2999, kind: 'invoiced', name: 'Pro' });
  org = await createBillingOrganization(app, { name: 'Acme' });
  await setBillingInfo(app, org, acmeBillingInfo);
  await changePlan(app, org, 'PRO');
  const failing = await http(app, 'POST', `/organization/${org.id}/creditCard`, {
    headers: org.owner,
    body: { number: '4000000000000341', cvv: '123', expiry_month: 12, expiry_year: 2030 },
  });
  assert.equal(failing.status, 201, failing.text);

  app.clock.set(new Date('2026-02-01T00:00:05Z'));
  await runBilling(app, '2026-02-01T00:00:00Z');
  await runJobs(app);
  const [issued] = await listInvoices(app, org);
  assert.equal((await getInvoice(app, org, issued.id)).status, 'NOT_PAID');
  const failure = (await smtp.waitForMessages(1)).find((mail) => mail.subject === `Payment failed for invoice ${issued.number}`);
  assert.ok(failure, 'no failure e-mail');
  const attached = failure.attachments[0]!.content;

  const text = await pdfText(attached);
  assertContainsAll(text, [issued.number, 'Bursar Cloud', 'Acme SAS']);
  assert.doesNotMatch(text, /Status|Not paid|\bPaid\b/, 'the invoice PDF shows a payment status');

  const unpaidLink = await downloadInvoicePdf(app, org, issued.id);
  assert.ok(unpaidLink.pdf.equals(attached), 'the signed link serves other bytes than the attachment');
  assert.ok((await pdfFromArchive(issued.number)).equals(attached), 'the archive holds other bytes than the attachment');

  // A working card pays the invoice; the document does not change.
  app.clock.set(new Date('2026-02-03T00:00:00Z'));
  const working = await http(app, 'POST', `/organization/${org.id}/creditCard`, {
    headers: org.owner,
    body: { number: '4242424242424242', cvv: '123', expiry_month: 12, expiry_year: 2030 },
  });
  assert.equal(working.status, 201, working.text);
  assert.equal((await http(app, 'DELETE', `/organization/${org.id}/creditCard/${failing.body.id}`, { headers: org.owner })).status, 204);
  const retried = await http(app, 'POST', '/admin/invoices/payment-retries', { headers: app.admin });
  assert.equal(retried.status, 200, retried.text);
  await runJobs(app);
  assert.equal((await getInvoice(app, org, issued.id)).status, 'PAID');

  const receipt = smtp.messages.find((mail) => mail.subject === `Payment received for invoice ${issued.number}`);
  assert.ok(receipt, 'no receipt e-mail');
  assert.ok(receipt.attachments[0]!.content.equals(attached), 'the receipt carries other bytes than the first attachment');
  const paidLink = await downloadInvoicePdf(app, org, issued.id);
  assert.ok(paidLink.pdf.equals(attached), 'the signed link serves other bytes once the invoice is paid');
  assert.ok((await pdfFromArchive(issued.number)).equals(attached), 'the archive holds other bytes once the invoice is paid');
});
