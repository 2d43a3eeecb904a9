import assert from 'node:assert/strict';
import { deleteExpiredInvoiceArchives } from '../../src/billing/invoices/invoice-archive-store.js';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { auditEvents, http, startTestApp, type OrganizationFixture, type TestApp } from '../support/test-app.js';
import { startSmtpTestServer, type SmtpTestServer } from '../fixtures/smtp-test-server.js';
import {
  acmeBillingInfo,
  assertContainsAll,
  createBillingOrganization,
  downloadInvoicePdf,
  getInvoice,
  listInvoices,
  pdfText,
  putPlan,
  readZip,
  registerCluster,
  runBilling,
  runJobs,
  sendUsage,
  setBillingInfo,
  changePlan,
} from './invoice-fixtures.js';

let smtp: SmtpTestServer;
let app: TestApp;
let org: OrganizationFixture;
const invoiceIds: string[] = [];

/** An organization on an invoiced plan with three monthly invoices (Jan, Feb, Mar 2026). */
before(async () => {
  smtp = await startSmtpTestServer();
  app = await startTestApp({
    SMTP_URL: smtp.url,
    BURSAR_SELLER_NAME: 'Bursar Cloud GmbH',
    BURSAR_SELLER_ADDRESS: 'Hauptstrasse 1|10115 Berlin',
    BURSAR_SELLER_TAX_ID: 'DE123456789',
    BURSAR_INVOICE_LINK_TTL_SECONDS: '600',
  });
  app.clock.set(new Date('2026-01-01T00:00:00Z'));
  await putPlan(app, 'PRO', { monthly: 4900, kind: 'invoiced', name: 'Pro' });
  org = await createBillingOrganization(app);
  await setBillingInfo(app, org, acmeBillingInfo);
  await changePlan(app, org, 'PRO');
  const cluster = await registerCluster(app, org.id, { name: 'prod', hourly: 25, minNodes: 1, maxNodes: 4, activeFrom: '2026-01-01T00:00:00Z' });
  for (const [month, next] of [
    ['2026-01', '2026-02'],
    ['2026-02', '2026-03'],
    ['2026-03', '2026-04'],
  ] as const) {
    app.clock.set(new Date(`${month}-10T00:00:00Z`));
    await sendUsage(app, org.id, cluster, 1000, `${month}-10T00:00:00Z`);
    app.clock.set(new Date(`${next}-01T00:00:01Z`));
    await runBilling(app, `${next}-01T00:00:00Z`);
  }
  const invoices = await listInvoices(app, org);
  assert.equal(invoices.length, 3);
  invoiceIds.push(...invoices.map((invoice) => invoice.id));
  await runJobs(app); // charge attempts (no card) and their notices
});
after(async () => {
  await app.close();
  await smtp.close();
});

describe('GET …/invoice/{invoiceId}/download', () => {
  it('answers { url }: a signed link to the PDF, served without credentials, byte for byte each time', async () => {
    const [newest] = invoiceIds;
    const invoice = await getInvoice(app, org, newest!);
    const first = await downloadInvoicePdf(app, org, newest!);
    assert.equal(first.contentType, 'application/pdf');
    const url = new URL(first.url);
    assert.equal(url.pathname, `/documents/${org.id}/invoices/${newest}.pdf`);
    assert.equal(url.origin, app.baseUrl);
    const expires = Number(url.searchParams.get('expires'));
    assert.equal(expires, Math.floor(app.clock.now().getTime() / 1000) + 600);

    const text = await pdfText(first.pdf);
    assertContainsAll(text, [
      'Invoice',
      invoice.number,
      'Billing period 2026-03-01 to 2026-03-31',
      'Issue date 2026-04-01',
      'Bursar Cloud GmbH',
      'Hauptstrasse 1',
      'VAT: DE123456789',
      'Bill to',
      'Acme SAS',
      'Jane Doe',
      '42 Rue de la Paix',
      '75002 Paris',
      'France',
      'VAT: FR12345678901',
      'Plan Pro (March 2026)',
      '$49.00',
      'Cluster prod (node-hours) 1,000 $250.00',
      '$250.00',
      'Subtotal',
      'Credits applied',
      'Total',
      '$299.00',
    ]);
    assert.equal(invoice.total_in_cents, 29900);

    // Served again byte for byte, through a new link too; stored with its SHA-256.
    const second = await downloadInvoicePdf(app, org, newest!);
    assert.ok(second.pdf.equals(first.pdf), 'the PDF changed between two downloads');
    const again = await fetch(first.url);
    assert.ok(Buffer.from(await again.arrayBuffer()).equals(first.pdf));
    const { rows } = await app.database.query<{ sha256: string }>('SELECT sha256 FROM invoice_documents WHERE organization_id = $1 AND invoice_id = $2', [
      org.id,
      newest,
    ]);
    assert.equal(rows[0]?.sha256, createHash('sha256').update(first.pdf).digest('hex'));
    assert.equal(again.headers.get('x-content-sha256'), rows[0]?.sha256);
  });

  it('refuses a tampered, re-targeted, incomplete or expired link with 403', async () => {
    const [newest, older] = invoiceIds;
    const { url } = await downloadInvoicePdf(app, org, newest!);
    const signed = new URL(url);
    const signature = signed.searchParams.get('signature')!;
    const expires = signed.searchParams.get('expires')!;

    const flipped = signature.startsWith('A') ? `B${signature.slice(1)}` : `A${signature.slice(1)}`;
    const variants = [
      `${signed.pathname}?expires=${expires}&signature=${flipped}`,
      `${signed.pathname}?expires=${Number(expires) + 3600}&signature=${signature}`, // a longer life
      `/documents/${org.id}/invoices/${older}.pdf?expires=${expires}&signature=${signature}`, // another invoice
      `${signed.pathname}?expires=${expires}`,
      `${signed.pathname}`,
      `${signed.pathname}?expires=${expires}&signature=not-a-signature`,
    ];
    for (const path of variants) {
      const result = await http(app, 'GET', path);
      assert.equal(result.status, 403, path);
      assert.equal(result.body.error, 'link_invalid', path);
      assert.equal(result.headers.get('content-type')?.startsWith('application/json'), true);
    }
    const other = await createBillingOrganization(app);
    const elsewhere = await http(app, 'GET', `/documents/${other.id}/invoices/${newest}.pdf?expires=${expires}&signature=${signature}`);
    assert.equal(elsewhere.status, 403);

    // Still valid just before it expires (by the business clock), refused from its expiry on.
    app.clock.set(new Date(Number(expires) * 1000 - 2000));
    assert.equal((await fetch(url)).status, 200);
    app.clock.set(new Date(Number(expires) * 1000));
    const expired = await http(app, 'GET', `${signed.pathname}${signed.search}`);
    assert.equal(expired.status, 403);
    assert.equal(expired.body.error, 'link_expired');
    app.clock.set(new Date('2026-04-01T00:10:00Z'));
  });

  it('logs no signature: the request log line carries the path only', async () => {
    const { url } = await downloadInvoicePdf(app, org, invoiceIds[0]!);
    const signature = new URL(url).searchParams.get('signature')!;
    assert.ok(app.logs.some((line) => line.includes('/documents/')));
    assert.ok(!app.logs.some((line) => line.includes(signature)));
  });
});

describe('POST …/downloadInvoices', () => {
  it('answers 202 at once, audits, and e-mails a ZIP of every invoice PDF over SMTP', async () => {
    const before = smtp.messages.length;
    const accepted = await http(app, 'POST', `/organization/${org.id}/downloadInvoices`, { headers: org.billing });
    assert.equal(accepted.status, 202);
    assert.equal(accepted.text, '');
    assert.ok((await auditEvents(app, org.id)).some((event) => event.type === 'INVOICE_ARCHIVE_REQUEST'));
    assert.equal(smtp.messages.length, before, 'nothing is sent before the job runs');

    await runJobs(app);
    const [mail] = (await smtp.waitForMessages(before + 1)).slice(before);
    assert.equal(mail!.subject, 'Your invoices');
    assert.deepEqual(
      (Array.isArray(mail!.to) ? mail!.to : [mail!.to]).flatMap((to) => to?.value.map((address) => address.address)),
      ['billing@acme.test'],
    );
    assert.equal(mail!.attachments.length, 1);
    const attachment = mail!.attachments[0]!;
    assert.equal(attachment.contentType, 'application/zip');
    assert.equal(attachment.filename, `invoices-${org.slug}.zip`);
    const entries = await readZip(attachment.content);
    const invoices = await listInvoices(app, org);
    assert.deepEqual([...entries.keys()].sort(), invoices.map((invoice) => `${invoice.number}.pdf`).sort());
    for (const invoice of invoices) {
      const { pdf } = await downloadInvoicePdf(app, org, invoice.id);
      assert.ok(entries.get(`${invoice.number}.pdf`)!.equals(pdf), `${invoice.number} in the ZIP differs from its download`);
    }
  });

  it('answers 400 billing_email_missing when the organization has no billing e-mail, and queues nothing', async () => {
    const silent = await createBillingOrganization(app);
    const before = smtp.messages.length;
    const refused = await http(app, 'POST', `/organization/${silent.id}/downloadInvoices`, { headers: silent.owner });
    assert.equal(refused.status, 400, refused.text);
    assert.equal(refused.body.error, 'billing_email_missing');
    assert.match(refused.body.message, /billing info/);
    await runJobs(app);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(smtp.messages.length, before);
  });

  it('answers 404 for an organization the caller does not belong to', async () => {
    const other = await createBillingOrganization(app);
    const result = await http(app, 'POST', `/organization/${org.id}/downloadInvoices`, { headers: other.owner });
    assert.equal(result.status, 404);
  });
});

describe('an archive too large to attach', () => {
  it('is kept in the database (any process can serve it) and e-mailed as a signed, expiring link', async () => {
    const smallSmtp = await startSmtpTestServer();
    const small = await startTestApp({ SMTP_URL: smallSmtp.url, BURSAR_MAX_ATTACHMENT_BYTES: '1024' });
    try {
      small.clock.set(new Date('2026-01-01T00:00:00Z'));
      await putPlan(small, 'PRO', { monthly: 4900, kind: 'invoiced' });
      const customer = await createBillingOrganization(small);
      await setBillingInfo(small, customer, { ...acmeBillingInfo, email: 'ap@customer.test' });
      await changePlan(small, customer, 'PRO');
      small.clock.set(new Date('2026-02-01T00:00:01Z'));
      await runBilling(small, '2026-02-01T00:00:00Z');
      await small.app.context.jobs.runUntilIdle();
      const before = smallSmtp.messages.length;
      assert.equal((await http(small, 'POST', `/organization/${customer.id}/downloadInvoices`, { headers: customer.owner })).status, 202);
      await small.app.context.jobs.runUntilIdle();
      const mails = (await smallSmtp.waitForMessages(before + 1)).slice(before);
      const mail = mails.find((message) => message.subject === 'Your invoices')!;
      assert.equal(mail.attachments.length, 0);
      const link = /https?:\/\/\S+/.exec(mail.text ?? '')?.[0];
      assert.ok(link, mail.text);
      const url = new URL(link);
      assert.match(url.pathname, new RegExp(`^/documents/${customer.id}/archives/[0-9a-f-]{36}\\.zip$`));

      const response = await fetch(link);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-type'), 'application/zip');
      const entries = await readZip(Buffer.from(await response.arrayBuffer()));
      const [invoice] = await listInvoices(small, customer);
      assert.deepEqual([...entries.keys()], [`${invoice.number}.pdf`]);
      assert.match(await pdfText(entries.get(`${invoice.number}.pdf`)!), new RegExp(invoice.number));

      const tampered = await http(small, 'GET', `${url.pathname}?expires=${url.searchParams.get('expires')}&signature=${'A'.repeat(43)}`);
      assert.equal(tampered.status, 403);
      small.clock.set(new Date(Number(url.searchParams.get('expires')) * 1000 + 1000));
      const expired = await http(small, 'GET', `${url.pathname}${url.search}`);
      assert.equal(expired.status, 403);
      assert.equal(expired.body.error, 'link_expired');

      const archiveId = url.pathname.split('/').pop()!.replace('.zip', '');
      const stored = await small.database.query<{ chunks: bigint }>('SELECT count(*) AS chunks FROM invoice_archive_chunks WHERE archive_id = $1', [archiveId]);
      assert.ok(stored.rows[0]!.chunks >= 1n);
      // The hourly sweep deletes archives whose link has expired.
      assert.equal(await deleteExpiredInvoiceArchives(small.app.context), 1);
      const left = await small.database.query('SELECT 1 FROM invoice_archive_chunks WHERE archive_id = $1', [archiveId]);
      assert.equal(left.rows.length, 0);
    } finally {
      await small.close();
      await smallSmtp.close();
    }
  });
});
