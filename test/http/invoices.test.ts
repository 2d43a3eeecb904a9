import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { auditEvents, http, mintJwt, startTestApp, type OrganizationFixture, type TestApp } from '../support/test-app.js';
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
  registerCluster,
  runBilling,
  runJobs,
  sendUsage,
  setBillingInfo,
} from './invoice-fixtures.js';

let app: TestApp;
before(async () => {
  app = await startTestApp();
  app.clock.set(new Date('2026-10-01T00:00:00Z'));
  await putPlan(app, 'BUSINESS', { monthly: 3000, kind: 'invoiced', name: 'Business' });
});
after(async () => {
  await app.close();
});

describe('invoices of an invoiced plan', () => {
  let org: OrganizationFixture;
  let invoiceId: string;

  before(async () => {
    app.clock.set(new Date('2026-10-01T00:00:00Z'));
    org = await createBillingOrganization(app);
    await setBillingInfo(app, org, acmeBillingInfo);
    const prod = await registerCluster(app, org.id, { name: 'prod', hourly: 10, minNodes: 0, maxNodes: 2, activeFrom: '2026-10-01T00:00:00Z' });
    const batch = await registerCluster(app, org.id, { name: 'batch', hourly: 5, minNodes: 1, maxNodes: 1, activeFrom: '2026-10-01T00:00:00Z' });
    app.clock.set(new Date('2026-10-16T00:00:00Z'));
    await changePlan(app, org, 'BUSINESS');
    // Usage is recorded once it happened (an event more than 5 minutes ahead of the clock is refused).
    app.clock.set(new Date('2026-11-02T00:00:00Z'));
    await sendUsage(app, org.id, prod, 100, '2026-10-20T00:00:00Z');
    await sendUsage(app, org.id, batch, 1000, '2026-10-21T00:00:00Z'); // more than 1 node all month: capped
    await sendUsage(app, org.id, prod, 50, '2026-11-02T00:00:00Z'); // next period: not on this invoice
    app.clock.set(new Date('2026-11-01T00:00:05Z'));
    const run = await runBilling(app, '2026-11-01T00:00:00Z');
    assert.equal(run.period_start, '2026-10-01T00:00:00.000Z');
    assert.equal(run.period_end, '2026-11-01T00:00:00.000Z');
    assert.equal(run.status, 'completed');
    assert.ok(run.invoices_created >= 1);
    const invoices = await listInvoices(app, org);
    assert.equal(invoices.length, 1);
    invoiceId = invoices[0].id;
  });

  it('issues one invoice with the prorated plan fee and each cluster clamped into its range', async () => {
    const invoice = await getInvoice(app, org, invoiceId);
    // The plan started on Oct 16: 16 of 31 days of 30.00; prod used 100 node-hours at 0.10; batch is capped at 1 node × 744 h × 0.05.
    assert.equal(invoice.lines.length, 3);
    const [planLine, ...usageLines] = invoice.lines;
    assert.equal(planLine.kind, 'plan');
    assert.equal(planLine.amount_in_cents, 1548);
    assert.equal(planLine.description, 'Plan Business (Oct 16 – Oct 31, 2026, prorated)');
    const prod = usageLines.find((line: any) => line.description === 'Cluster prod (node-hours)');
    assert.deepEqual([prod.kind, prod.quantity, prod.amount_in_cents, prod.amount], ['usage', '100', 1000, 10]);
    const batch = usageLines.find((line: any) => line.description.startsWith('Cluster batch'));
    assert.equal(batch.description, 'Cluster batch (node-hours, capped at its maximum of 1 node)');
    assert.deepEqual([batch.quantity, batch.amount_in_cents], ['1,000', 3720]);
    assert.equal(invoice.total_in_cents, 6268);
    assert.equal(invoice.total, 62.68);
    assert.equal(invoice.currency_code, 'USD');
    assert.equal(invoice.subtotal_in_cents, 6268);
    assert.equal(invoice.credits_applied_in_cents, 0);
    assert.match(invoice.number, /^INV-\d{6}$/);
    assert.equal(invoice.period_start, '2026-10-01T00:00:00.000Z');
    assert.ok(['PENDING', 'NOT_PAID'].includes(invoice.status));
    assert.ok(Date.parse(invoice.created_at) >= Date.parse('2026-11-01T00:00:05Z'));

    // The list answers exactly the reference schema's fields, plus extras a generated client ignores.
    const [listed] = await listInvoices(app, org);
    for (const field of ['id', 'created_at', 'status', 'total_in_cents', 'total', 'currency_code']) assert.ok(field in listed, field);
    assert.equal(listed.lines, undefined);

    const issued = (await auditEvents(app, org.id)).find((event) => event.type === 'INVOICE_ISSUE');
    assert.equal(issued.changes.invoiceId, invoiceId);
    assert.equal(issued.changes.totalMinor, '6268');
    assert.equal(issued.actor_type, 'operator');
  });

  it('charges after the commit: no card means NOT_PAID with the next attempt scheduled, audited', async () => {
    await runJobs(app);
    const invoice = await getInvoice(app, org, invoiceId);
    assert.equal(invoice.status, 'NOT_PAID');
    const events = await auditEvents(app, org.id);
    const change = events.find((event) => event.type === 'INVOICE_STATUS_CHANGE');
    assert.deepEqual(change.changes.status, { old: 'PENDING', new: 'NOT_PAID' });
    const attempt = events.find((event) => event.type === 'INVOICE_PAYMENT_ATTEMPT');
    assert.equal(attempt.changes.failureCode, 'no_payment_method');
    assert.equal(attempt.changes.nextPaymentAttemptAt.slice(0, 10), '2026-11-02');
  });

  it('a rerun of the billing run makes no second invoice', async () => {
    const rerun = await runBilling(app, '2026-11-01T00:00:00Z');
    assert.equal(rerun.invoices_created, 0);
    assert.ok(rerun.invoices_existing >= 1);
    assert.equal((await listInvoices(app, org)).length, 1);
    // Any instant of November closes October again.
    const later = await runBilling(app, '2026-11-01T00:00:05Z');
    assert.equal(later.invoices_created, 0);
    assert.equal((await listInvoices(app, org)).length, 1);
  });

  it('keeps the bill-to snapshot when the billing details change later', async () => {
    await setBillingInfo(app, org, { ...acmeBillingInfo, company: 'Renamed Ltd', vat_number: 'GB999999973', country_code: 'GB', city: 'London' });
    const { pdf } = await downloadInvoicePdf(app, org, invoiceId);
    const text = await pdfText(pdf);
    assertContainsAll(text, ['Acme SAS', 'Tax ID: FR12345678901', 'Paris', 'France']);
    assert.ok(!text.includes('Renamed Ltd'));
    assert.ok(!text.includes('GB999999973'));
  });

  it('answers 404 for another organization or an unknown invoice, 403 for a plain member', async () => {
    const other = await createBillingOrganization(app);
    for (const path of [`/organization/${other.id}/invoice/${invoiceId}`, `/organization/${other.id}/invoice/${invoiceId}/download`]) {
      const result = await http(app, 'GET', path, { headers: other.owner });
      assert.equal(result.status, 404, path);
      assert.equal(result.body.error, 'not_found');
    }
    assert.deepEqual((await http(app, 'GET', `/organization/${other.id}/invoice`, { headers: other.owner })).body, { results: [] });
    const unknown = await http(app, 'GET', `/organization/${org.id}/invoice/00000000-0000-4000-8000-000000000000`, { headers: org.owner });
    assert.equal(unknown.status, 404);
    // Someone else's organization: not found, exactly like an unknown one.
    const outsider = await http(app, 'GET', `/organization/${org.id}/invoice/${invoiceId}`, { headers: other.owner });
    assert.equal(outsider.status, 404);
    for (const path of [`/organization/${org.id}/invoice`, `/organization/${org.id}/invoice/${invoiceId}`, `/organization/${org.id}/invoice/${invoiceId}/download`]) {
      const result = await http(app, 'GET', path, { headers: org.member });
      assert.equal(result.status, 403, path);
    }
    const archive = await http(app, 'POST', `/organization/${org.id}/downloadInvoices`, { headers: org.member });
    assert.equal(archive.status, 403);
    const anonymous = await http(app, 'GET', `/organization/${org.id}/invoice`);
    assert.equal(anonymous.status, 401);
    const stranger = await http(app, 'GET', `/organization/${org.id}/invoice`, { headers: { authorization: `Bearer ${await mintJwt('stranger')}` } });
    assert.equal(stranger.status, 404);
  });

  it('operators mark an invoice paid (audited, e-mailed)', async () => {
    const notOperator = await http(app, 'POST', `/admin/invoices/${invoiceId}/mark-paid`, { headers: org.owner });
    assert.equal(notOperator.status, 403);
    const paid = await http(app, 'POST', `/admin/invoices/${invoiceId}/mark-paid`, { headers: app.admin });
    assert.equal(paid.status, 200, paid.text);
    assert.equal(paid.body.status, 'PAID');
    assert.equal(paid.body.organization_id, org.id);
    assert.ok(paid.body.paid_at);
    assert.equal(paid.body.next_payment_attempt_at, null);
    const again = await http(app, 'POST', `/admin/invoices/${invoiceId}/mark-paid`, { headers: app.admin });
    assert.equal(again.status, 200);
    assert.equal(again.body.paid_at, paid.body.paid_at);
    // Voiding a paid invoice is allowed since issue 12 (a credit note refunds it): see scenario-credit-notes.
    const changes = (await auditEvents(app, org.id)).filter((event) => event.type === 'INVOICE_STATUS_CHANGE');
    assert.deepEqual(changes[0].changes.status, { old: 'NOT_PAID', new: 'PAID' });
    assert.equal(changes.length, 2);
    // The document does not change with the status (an issued invoice never changes).
    const { pdf } = await downloadInvoicePdf(app, org, invoiceId);
    assert.doesNotMatch(await pdfText(pdf), /Status|Paid/);
    const unknown = await http(app, 'POST', '/admin/invoices/00000000-0000-4000-8000-000000000000/void', { headers: app.admin });
    assert.equal(unknown.status, 404);
  });
});

describe('invoices of a credits plan', () => {
  it('pays usage from the credit balance first, as one negative line, and spends the credits once', async () => {
    app.clock.set(new Date('2026-12-01T00:00:00Z'));
    const code = `INV-CREDITS-${Date.now()}`;
    const created = await http(app, 'POST', '/admin/credit-codes', { headers: app.admin, body: { code, amount_in_cents: 1500, currency: 'USD' } });
    assert.equal(created.status, 201, created.text);

    const covered = await createBillingOrganization(app);
    const short = await createBillingOrganization(app);
    for (const org of [covered, short]) {
      await setBillingInfo(app, org, { ...acmeBillingInfo, company: `Company of ${org.slug}` });
      const redeemed = await http(app, 'POST', `/organization/${org.id}/creditCode`, { headers: org.owner, body: { code } });
      assert.equal(redeemed.status, 200, redeemed.text);
    }
    const coveredCluster = await registerCluster(app, covered.id, { name: 'dev', hourly: 1, minNodes: 0, maxNodes: 10, activeFrom: '2026-12-01T00:00:00Z' });
    const shortCluster = await registerCluster(app, short.id, { name: 'dev', hourly: 1, minNodes: 0, maxNodes: 10, activeFrom: '2026-12-01T00:00:00Z' });
    app.clock.set(new Date('2026-12-10T00:00:00Z'));
    await sendUsage(app, covered.id, coveredCluster, 1000, '2026-12-10T00:00:00Z');
    await sendUsage(app, short.id, shortCluster, 2000, '2026-12-10T00:00:00Z');

    app.clock.set(new Date('2027-01-01T00:01:00Z'));
    await runBilling(app, '2027-01-01T00:01:00Z');

    const [paid] = await listInvoices(app, covered);
    assert.equal(paid.status, 'PAID');
    assert.equal(paid.total_in_cents, 0);
    const paidInvoice = await getInvoice(app, covered, paid.id);
    assert.deepEqual(
      paidInvoice.lines.map((line: any) => [line.kind, line.description, line.amount_in_cents]),
      [
        ['usage', 'Cluster dev (node-hours)', 1000],
        ['credit', 'Credits applied', -1000],
      ],
    );
    assert.equal(paidInvoice.credits_applied_in_cents, 1000);
    assert.ok(paidInvoice.paid_at);

    const [unpaid] = await listInvoices(app, short);
    assert.equal(unpaid.status, 'NOT_PAID');
    assert.equal(unpaid.total_in_cents, 500);
    assert.equal(unpaid.credits_applied_in_cents, 1500);

    const coveredCredits = await http(app, 'GET', `/organization/${covered.id}/credits`, { headers: covered.owner });
    assert.equal(coveredCredits.body.balance_in_cents, 500);
    const shortCredits = await http(app, 'GET', `/organization/${short.id}/credits`, { headers: short.owner });
    assert.equal(shortCredits.body.balance_in_cents, 0);
    const spend = shortCredits.body.entries.find((entry: any) => entry.reason === 'invoice');
    assert.equal(spend.amount_in_cents, -1500);

    // A credits-plan invoice is never charged to a card: no job changes it.
    await runJobs(app);
    assert.equal((await listInvoices(app, short))[0].status, 'NOT_PAID');

    // Voiding gives the credits back.
    const voided = await http(app, 'POST', `/admin/invoices/${unpaid.id}/void`, { headers: app.admin });
    assert.equal(voided.status, 200, voided.text);
    assert.equal(voided.body.status, 'VOIDED');
    assert.equal((await http(app, 'GET', `/organization/${short.id}/credits`, { headers: short.owner })).body.balance_in_cents, 1500);
    const markVoided = await http(app, 'POST', `/admin/invoices/${unpaid.id}/mark-paid`, { headers: app.admin });
    assert.equal(markVoided.status, 409);
    assert.equal(markVoided.body.error, 'invoice_voided');
  });

  it('issues no invoice to an organization with nothing to bill', async () => {
    app.clock.set(new Date('2027-02-01T00:00:00Z'));
    const idle = await createBillingOrganization(app);
    app.clock.set(new Date('2027-03-01T00:00:01Z'));
    const run = await runBilling(app, '2027-03-01T00:00:00Z');
    assert.ok(run.organizations_without_charges >= 1);
    assert.deepEqual(await listInvoices(app, idle), []);
  });
});

describe('an invoice in a zero-decimal currency', () => {
  it('keeps integer minor units end to end: JSON, lines and PDF in yen', async () => {
    app.clock.set(new Date('2027-04-01T00:00:00Z'));
    await putPlan(app, 'TOKYO', { monthly: 3000, kind: 'invoiced', currency: 'JPY', name: 'Tokyo' });
    const org = await createBillingOrganization(app);
    await setBillingInfo(app, org, { ...acmeBillingInfo, country_code: 'JP', city: 'Tokyo', zip: '100-0001', company: 'Kabushiki Kaisha' });
    await changePlan(app, org, 'TOKYO');
    const cluster = await registerCluster(app, org.id, { name: 'edge', hourly: 7, minNodes: 0, maxNodes: 2 });
    app.clock.set(new Date('2027-04-10T00:00:00Z'));
    await sendUsage(app, org.id, cluster, 333, '2027-04-10T00:00:00Z');
    app.clock.set(new Date('2027-05-01T00:00:05Z'));
    await runBilling(app, '2027-05-01T00:00:00Z');
    const [listed] = await listInvoices(app, org);
    const invoice = await getInvoice(app, org, listed.id);
    assert.equal(invoice.currency_code, 'JPY');
    assert.deepEqual(
      invoice.lines.map((line: any) => [line.amount_in_cents, line.amount]),
      [
        [3000, 3000],
        [2331, 2331],
      ],
    );
    assert.equal(invoice.total_in_cents, 5331);
    assert.equal(invoice.total, 5331);
    const { pdf } = await downloadInvoicePdf(app, org, listed.id);
    const text = await pdfText(pdf);
    assertContainsAll(text, ['3,000 JPY', '2,331 JPY', 'Total 5,331 JPY', 'Japan']);
    assert.ok(!text.includes('5,331.'), 'no minor digits for yen');
  });
});

describe('POST /admin/billing-runs', () => {
  it('refuses a date whose period has not ended by the clock, and bad input', async () => {
    app.clock.set(new Date('2027-03-10T00:00:00Z'));
    const future = await http(app, 'POST', '/admin/billing-runs', { headers: app.admin, body: { as_of: '2027-04-01T00:00:00Z' } });
    assert.equal(future.status, 400);
    assert.equal(future.body.fields[0].field, 'as_of'); // issue 10: the request's own field name
    const malformed = await http(app, 'POST', '/admin/billing-runs', { headers: app.admin, body: { as_of: 'yesterday' } });
    assert.equal(malformed.status, 400);
    const extra = await http(app, 'POST', '/admin/billing-runs', { headers: app.admin, body: { as_of: '2027-03-01T00:00:00Z', force: true } });
    assert.equal(extra.status, 400);
    const notOperator = await http(app, 'POST', '/admin/billing-runs', { body: { as_of: '2027-03-01T00:00:00Z' } });
    assert.equal(notOperator.status, 401);
  });
});
