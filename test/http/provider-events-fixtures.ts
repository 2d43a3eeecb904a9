/** Helpers shared by the provider-event tests: an invoiced-plan organization whose first invoice is being charged. */
import assert from 'node:assert/strict';
import { http, type OrganizationFixture, type TestApp } from '../support/test-app.js';
import { acmeBillingInfo, changePlan, createBillingOrganization, getInvoice, listInvoices, putPlan, runBilling, runJobs, setBillingInfo } from './invoice-fixtures.js';

export const AUTHENTICATION_CARD = '4000002500003155';

let planCreated = new WeakSet<TestApp>();

/**
 * An organization on an invoiced plan (99.00 a month) from January 5 with `cardNumber` as its default card; the
 * billing run of February 1 issues its invoice and the charge job runs. Answers the invoice as the API shows it.
 */
export async function chargedInvoice(app: TestApp, cardNumber: string, year = 2026): Promise<{ org: OrganizationFixture; invoice: any }> {
  app.clock.set(new Date(`${year}-01-05T00:00:00Z`));
  if (!planCreated.has(app)) {
    await putPlan(app, 'SCALE', { monthly: 9900, kind: 'invoiced', name: 'Scale' });
    planCreated.add(app);
  }
  const org = await createBillingOrganization(app);
  await setBillingInfo(app, org, acmeBillingInfo);
  await changePlan(app, org, 'SCALE');
  const card = await http(app, 'POST', `/organization/${org.id}/creditCard`, {
    headers: org.owner,
    body: { number: cardNumber, cvv: '123', expiry_month: 12, expiry_year: year + 4 },
  });
  assert.equal(card.status, 201, card.text);
  app.clock.set(new Date(`${year}-02-01T00:00:05Z`));
  await runBilling(app, `${year}-02-01T00:00:00Z`);
  const [issued] = await listInvoices(app, org);
  assert.ok(issued, 'no invoice issued');
  await runJobs(app);
  return { org, invoice: await getInvoice(app, org, issued.id) };
}

export function resetPlans(): void {
  planCreated = new WeakSet<TestApp>();
}

export async function sweepPaymentRetries(app: TestApp): Promise<number> {
  const result = await http(app, 'POST', '/admin/invoices/payment-retries', { headers: app.admin });
  assert.equal(result.status, 200, result.text);
  await runJobs(app);
  return result.body.queued;
}
