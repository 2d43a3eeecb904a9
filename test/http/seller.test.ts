/**
 * The seller identity: set by the operator (validated, audited, operators only), starting from the BURSAR_SELLER_*
 * settings, stored in the database for every process, frozen into each invoice at issue with the number prefix.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadSeller } from '../../src/billing/seller/seller.js';
import { http, startTestApp, type TestApp } from '../support/test-app.js';
import {
  acmeBillingInfo,
  assertContainsAll,
  changePlan,
  createBillingOrganization,
  downloadInvoicePdf,
  listInvoices,
  pdfText,
  putPlan,
  runBilling,
  setBillingInfo,
} from './invoice-fixtures.js';

let app: TestApp;

before(async () => {
  app = await startTestApp({
    BURSAR_SELLER_NAME: 'Bursar Cloud SAS',
    BURSAR_SELLER_ADDRESS: '12 Rue de Rivoli|75004 Paris',
    BURSAR_SELLER_TAX_ID: 'FR40303265045',
    BURSAR_SELLER_EMAIL: 'billing@bursar.example',
  });
});
after(async () => app.close());

const frenchSeller = {
  name: 'Bursar Cloud SAS',
  address_line_1: '12 Rue de Rivoli',
  address_line_2: 'Bâtiment B',
  city: 'Paris',
  postal_code: '75004',
  country: 'fr',
  tax_id: 'FR40303265045',
  email: 'billing@bursar.example',
};

describe('GET and PUT /admin/seller', () => {
  it('starts from the BURSAR_SELLER_* settings', async () => {
    const result = await http(app, 'GET', '/admin/seller', { headers: app.admin });
    assert.equal(result.status, 200, result.text);
    assert.deepEqual(
      { ...result.body, updated_at: undefined },
      {
        name: 'Bursar Cloud SAS',
        address_line_1: '12 Rue de Rivoli',
        address_line_2: '75004 Paris',
        city: null,
        postal_code: null,
        state: null,
        country: null,
        tax_id: 'FR40303265045',
        email: 'billing@bursar.example',
        invoice_number_prefix: 'INV-',
        set_by_operator: false,
        updated_at: undefined,
      },
    );
  });

  it('replaces the identity, normalises the country, audits the change, and stays set over a restart', async () => {
    const result = await http(app, 'PUT', '/admin/seller', { headers: app.admin, body: { ...frenchSeller, invoice_number_prefix: 'BC-' } });
    assert.equal(result.status, 200, result.text);
    assert.equal(result.body.country, 'FR');
    assert.equal(result.body.address_line_2, 'Bâtiment B');
    assert.equal(result.body.state, null);
    assert.equal(result.body.set_by_operator, true);
    assert.equal(result.body.invoice_number_prefix, 'BC-');
    assert.deepEqual((await http(app, 'GET', '/admin/seller', { headers: app.admin })).body, result.body);

    const { rows } = await app.database.query<{ changes: any; actor_type: string }>(
      "SELECT changes, actor_type FROM audit_events WHERE type = 'SELLER_UPDATE' ORDER BY created_at",
    );
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.actor_type, 'operator');
    assert.deepEqual(rows[0]!.changes.country, { old: null, new: 'FR' });
    assert.deepEqual(rows[0]!.changes.invoiceNumberPrefix, { old: 'INV-', new: 'BC-' });

    // The same PUT again changes nothing and records nothing; a second process with other settings keeps it.
    assert.equal((await http(app, 'PUT', '/admin/seller', { headers: app.admin, body: { ...frenchSeller } })).status, 200);
    const other = await startTestApp({ BURSAR_SELLER_NAME: 'Somebody Else' }, { shareDatabaseOf: app });
    try {
      assert.equal((await loadSeller(other.database)).name, 'Bursar Cloud SAS');
      assert.equal((await loadSeller(other.database)).invoiceNumberPrefix, 'BC-', 'a PUT without the prefix keeps it');
    } finally {
      await other.close();
    }
    const events = await app.database.query("SELECT 1 FROM audit_events WHERE type = 'SELLER_UPDATE'");
    assert.equal(events.rows.length, 1);
  });

  it('names every field at fault', async () => {
    const result = await http(app, 'PUT', '/admin/seller', {
      headers: app.admin,
      body: { ...frenchSeller, name: '  ', country: 'France', email: 'not-an-email', postal_code: 'x'.repeat(33), invoice_number_prefix: 'INV 2026 ' },
    });
    assert.equal(result.status, 400, result.text);
    assert.equal(result.body.error, 'invalid_input');
    assert.deepEqual(
      result.body.fields.map((field: any) => field.field),
      ['postal_code', 'country', 'email', 'name', 'invoice_number_prefix'],
    );
    assert.match(result.body.fields.find((field: any) => field.field === 'country').message, /ISO 3166-1 alpha-2/);

    const missing = await http(app, 'PUT', '/admin/seller', { headers: app.admin, body: { name: 'Bursar' } });
    assert.equal(missing.status, 400, missing.text);
    assert.equal(missing.body.error, 'validation_error');
    assert.match(missing.text, /address_line_1/);
    assert.equal((await loadSeller(app.database)).name, 'Bursar Cloud SAS', 'nothing was written');
  });

  it('is for operators only', async () => {
    const org = await createBillingOrganization(app);
    for (const method of ['GET', 'PUT'] as const) {
      const result = await http(app, method, '/admin/seller', { headers: org.owner, ...(method === 'PUT' ? { body: frenchSeller } : {}) });
      assert.equal(result.status, 403, `${method}: ${result.text}`);
    }
    assert.equal((await http(app, 'GET', '/admin/seller')).status, 401);
  });
});

describe('the seller on invoices', () => {
  it('is frozen into each invoice at issue, with the number prefix', async () => {
    assert.equal((await http(app, 'PUT', '/admin/seller', { headers: app.admin, body: frenchSeller })).status, 200);
    app.clock.set(new Date('2026-01-01T00:00:00Z'));
    await putPlan(app, 'PRO', { monthly: 2999, kind: 'invoiced', name: 'Pro' });
    const org = await createBillingOrganization(app, { name: 'Acme' });
    await setBillingInfo(app, org, acmeBillingInfo);
    await changePlan(app, org, 'PRO');
    app.clock.set(new Date('2026-02-01T00:00:05Z'));
    await runBilling(app, '2026-02-01T00:00:00Z');
    const [invoice] = await listInvoices(app, org);
    assert.match(invoice.number, /^BC-\d{6}$/);

    // A later change of the seller does not touch the issued invoice.
    const renamed = await http(app, 'PUT', '/admin/seller', { headers: app.admin, body: { ...frenchSeller, name: 'Renamed SAS', invoice_number_prefix: 'INV-' } });
    assert.equal(renamed.status, 200, renamed.text);
    const text = await pdfText((await downloadInvoicePdf(app, org, invoice.id)).pdf);
    assertContainsAll(text, [
      invoice.number,
      'Bursar Cloud SAS',
      '12 Rue de Rivoli',
      'Bâtiment B',
      '75004 Paris',
      'France',
      'Tax ID: FR40303265045',
      'billing@bursar.example',
      'Acme SAS',
      'Tax ID: FR12345678901',
      'Description Quantity Unit price Amount',
      'Plan Pro (January 2026) 1 month 29.99 USD 29.99 USD',
      'Subtotal 29.99 USD',
      'Total 29.99 USD',
      'Due date 2026-02-08',
      'Payment terms: Charged to the card on file at issue; payable within 7 days of the issue date.',
    ]);
    assert.ok(!text.includes('Renamed'));
    assert.ok(!text.toLowerCase().includes('prorated'), 'a whole month is not prorated');
  });
});
