/**
 * Scenario: a French seller bills four customers for April 2026 with the test clock: a French consumer (French VAT
 * 20 %), a German business with a valid VAT id (reverse charge), a German consumer (German VAT 19 %) and a US
 * customer in New York (state sales tax 8.875 %). Each invoice's PDF is read back for its tax line or the mention.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { http, startTestApp, type OrganizationFixture, type TestApp } from '../support/test-app.js';
import {
  assertContainsAll,
  createBillingOrganization,
  downloadInvoicePdf,
  getInvoice,
  listInvoices,
  pdfText,
  putPlan,
  runBilling,
  setBillingInfo,
  type BillingInfoValues,
} from './invoice-fixtures.js';

const REVERSE_CHARGE = 'Reverse charge: VAT to be accounted for by the recipient (Article 196, Council Directive 2006/112/EC)';

let app: TestApp;
before(async () => {
  app = await startTestApp({ BURSAR_SELLER_NAME: 'Bursar SAS', BURSAR_SELLER_COUNTRY: 'FR', BURSAR_SELLER_TAX_ID: 'FR40303265045' });
});
after(async () => app.close());

async function putTaxRate(code: string, body: Record<string, unknown>): Promise<any> {
  const result = await http(app, 'PUT', `/admin/tax-rates/${code}`, { headers: app.admin, body });
  assert.ok(result.status === 200 || result.status === 201, result.text);
  return result.body;
}

const consumer = (values: Partial<BillingInfoValues>): BillingInfoValues => ({
  first_name: 'Alex',
  last_name: 'Martin',
  email: 'alex@example.test',
  address: '1 Main Street',
  city: 'Somewhere',
  zip: '00001',
  country_code: 'FR',
  ...values,
});

async function customer(name: string, info: BillingInfoValues): Promise<OrganizationFixture> {
  const org = await createBillingOrganization(app, { name, plan: 'PRO_EUR' });
  await setBillingInfo(app, org, info);
  return org;
}

async function onlyInvoice(org: OrganizationFixture): Promise<any> {
  const invoices = await listInvoices(app, org);
  assert.equal(invoices.length, 1);
  return getInvoice(app, org, invoices[0].id);
}

describe('tax on invoices', () => {
  const orgs: Record<string, OrganizationFixture> = {};

  it('the operator keeps a catalogue of rates (validated, audited)', async () => {
    app.clock.set(new Date('2026-04-01T00:00:00Z'));
    await putPlan(app, 'PRO_EUR', { monthly: 10_000, kind: 'credits', currency: 'EUR', name: 'Pro' });
    const fr = await http(app, 'PUT', '/admin/tax-rates/fr-vat', { headers: app.admin, body: { country: 'FR', percentage: '20.0', name: 'TVA' } });
    assert.equal(fr.status, 201, fr.text);
    assert.equal(fr.body.percentage, '20');
    assert.equal(fr.body.region, null);
    await putTaxRate('de-vat', { country: 'de', percentage: '19', name: 'MwSt' });
    await putTaxRate('us-ny', { country: 'US', region: 'NY', percentage: '8.875', name: 'NY sales tax' });
    const bad = await http(app, 'PUT', '/admin/tax-rates/bad', { headers: app.admin, body: { country: 'XX', percentage: '8.87501', name: 'x' } });
    assert.equal(bad.status, 400, bad.text);
    assert.match(bad.text, /percentage/);
    assert.match(bad.text, /country/);
    const list = await http(app, 'GET', '/admin/tax-rates', { headers: app.admin });
    assert.deepEqual(list.body.results.map((rate: any) => [rate.code, rate.country, rate.region, rate.percentage]), [
      ['de-vat', 'DE', null, '19'],
      ['fr-vat', 'FR', null, '20'],
      ['us-ny', 'US', 'NY', '8.875'],
    ]);
    const audit = await http(app, 'GET', '/admin/audit-events?type=TAX_RATE_CREATE', { headers: app.admin });
    if (audit.status === 200) assert.ok(JSON.stringify(audit.body).includes('fr-vat'));
  });

  it('issues each invoice with the tax its customer owes', async () => {
    orgs['fr'] = await customer('French consumer', consumer({ country_code: 'FR', city: 'Lyon' }));
    orgs['deBusiness'] = await customer('German business', consumer({ country_code: 'DE', company: 'Beispiel GmbH', vat_number: 'DE136695976', city: 'Berlin' }));
    orgs['deConsumer'] = await customer('German consumer', consumer({ country_code: 'DE', city: 'München' }));
    orgs['ny'] = await customer('New York customer', consumer({ country_code: 'US', state: 'New York', city: 'New York' }));
    orgs['nj'] = await customer('New Jersey customer', consumer({ country_code: 'US', state: 'NJ', city: 'Newark' }));

    app.clock.set(new Date('2026-05-01T00:05:00Z'));
    const run = await runBilling(app, '2026-05-01T00:00:00Z');
    assert.equal(run.organizations_failed, 0, JSON.stringify(run));

    const fr = await onlyInvoice(orgs['fr']!);
    assert.equal(fr.subtotal_in_cents, 10_000);
    assert.equal(fr.tax_in_cents, 2_000);
    assert.deepEqual(fr.tax_lines, [{ name: 'TVA', percentage: '20', taxable_in_cents: 10_000, tax_in_cents: 2_000 }]);
    assert.equal(fr.reverse_charge, false);
    assert.equal(fr.total_in_cents, 12_000);

    const deBusiness = await onlyInvoice(orgs['deBusiness']!);
    assert.equal(deBusiness.tax_in_cents, 0);
    assert.deepEqual(deBusiness.tax_lines, []);
    assert.equal(deBusiness.reverse_charge, true);
    assert.equal(deBusiness.total_in_cents, 10_000);

    const deConsumer = await onlyInvoice(orgs['deConsumer']!);
    assert.deepEqual(deConsumer.tax_lines, [{ name: 'MwSt', percentage: '19', taxable_in_cents: 10_000, tax_in_cents: 1_900 }]);
    assert.equal(deConsumer.total_in_cents, 11_900);

    const ny = await onlyInvoice(orgs['ny']!);
    assert.deepEqual(ny.tax_lines, [{ name: 'NY sales tax', percentage: '8.875', taxable_in_cents: 10_000, tax_in_cents: 888 }]);
    assert.equal(ny.total_in_cents, 10_888);

    const nj = await onlyInvoice(orgs['nj']!);
    assert.equal(nj.tax_in_cents, 0, 'no rate for New Jersey');
  });

  it("prints each invoice's tax line, or the reverse-charge mention, and the seller's VAT id", async () => {
    // Words only: a long label may wrap.
    const text = async (org: OrganizationFixture) =>
      (await pdfText((await downloadInvoicePdf(app, org, (await onlyInvoice(org)).id)).pdf)).replace(/\s+/g, ' ');
    const fr = await text(orgs['fr']!);
    assertContainsAll(fr, ['FR40303265045', 'TVA 20% on 100.00 EUR', '20.00 EUR', '120.00 EUR']);
    assert.ok(!fr.includes('Reverse charge'));
    assertContainsAll(await text(orgs['deBusiness']!), ['FR40303265045', 'DE136695976', REVERSE_CHARGE]);
    assertContainsAll(await text(orgs['deConsumer']!), ['MwSt 19% on 100.00 EUR', '19.00 EUR', '119.00 EUR']);
    assertContainsAll(await text(orgs['ny']!), ['NY sales tax 8.875% on 100.00 EUR', '8.88 EUR', '108.88 EUR']);
  });

  it('a rate deleted stays on the invoices that used it', async () => {
    const deleted = await http(app, 'DELETE', '/admin/tax-rates/fr-vat', { headers: app.admin });
    assert.equal(deleted.status, 204, deleted.text);
    assert.equal((await http(app, 'DELETE', '/admin/tax-rates/fr-vat', { headers: app.admin })).status, 404);
    const fr = await onlyInvoice(orgs['fr']!);
    assert.deepEqual(fr.tax_lines, [{ name: 'TVA', percentage: '20', taxable_in_cents: 10_000, tax_in_cents: 2_000 }]);
  });
});

describe('a seller without country or tax id', () => {
  let bare: TestApp;
  before(async () => {
    bare = await startTestApp({ BURSAR_SELLER_COUNTRY: 'FR' });
  });
  after(async () => bare.close());

  it('cannot issue an invoice with tax: the organization fails with the reason, the others are invoiced', async () => {
    bare.clock.set(new Date('2026-04-01T00:00:00Z'));
    await putPlan(bare, 'PRO_EUR', { monthly: 10_000, kind: 'credits', currency: 'EUR', name: 'Pro' });
    const rate = await http(bare, 'PUT', '/admin/tax-rates/fr-vat', { headers: bare.admin, body: { country: 'FR', percentage: '20', name: 'TVA' } });
    assert.equal(rate.status, 201, rate.text);
    const taxed = await createBillingOrganization(bare, { name: 'Taxed', plan: 'PRO_EUR' });
    await setBillingInfo(bare, taxed, consumer({ country_code: 'FR' }));
    const untaxed = await createBillingOrganization(bare, { name: 'Untaxed', plan: 'PRO_EUR' });
    await setBillingInfo(bare, untaxed, consumer({ country_code: 'JP' }));

    bare.clock.set(new Date('2026-05-01T00:05:00Z'));
    const run = await runBilling(bare, '2026-05-01T00:00:00Z');
    assert.equal(run.organizations_failed, 1);
    assert.equal(run.invoices_created, 1);
    assert.ok(
      bare.logs.some((line) => line.includes("An invoice with tax cannot be issued while the seller's tax id (PUT /admin/seller, or BURSAR_SELLER_TAX_ID) is not set")),
      'the reason is logged for the operator',
    );
    assert.equal((await http(bare, 'GET', `/organization/${taxed.id}/invoice`, { headers: taxed.owner })).body.results.length, 0);
  });
});
