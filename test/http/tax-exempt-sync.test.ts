/**
 * The provider customer carries the tax-exempt state: `reverse` while EU reverse charge applies to the organization
 * (a French seller, a German business with a valid VAT id), `none` otherwise. Through the real Stripe SDK and the stand-in.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ensureProviderCustomer } from '../../src/billing/payment-methods/ensure-provider-customer.js';
import { startStripeStandIn, type StripeStandIn } from '../fixtures/stripe-stand-in.js';
import { createOrganization, http, startTestApp, type TestApp } from '../support/test-app.js';

let standIn: StripeStandIn;
let app: TestApp;

before(async () => {
  standIn = await startStripeStandIn();
  app = await startTestApp({
    PAYMENT_PROVIDER: 'stripe',
    STRIPE_SECRET_KEY: 'sk_test_x',
    STRIPE_API_BASE_URL: standIn.url,
    BURSAR_SELLER_COUNTRY: 'FR',
    BURSAR_SELLER_TAX_ID: 'FR40303265045',
  });
});
after(async () => {
  await app.close();
  await standIn.close();
});

test('a German business with a valid VAT id is tax exempt (reverse) at the provider, with its typed tax id', async () => {
  const org = await createOrganization(app);
  const patch = (body: Record<string, unknown>) => http(app, 'PATCH', `/api/v2/external/orgs/${org.slug}`, { headers: org.owner, body });
  const reference = await ensureProviderCustomer(app.app.context, org.id);
  assert.equal(standIn.customers.get(reference)!['tax_exempt'], 'none');

  const valid = await patch({ billing_country: 'DE', billing_company_name: 'Beispiel GmbH', billing_tax_id: 'DE136695976', billing_tax_id_type: 'eu_vat' });
  assert.equal(valid.status, 200, valid.text);
  await app.app.context.jobs.runUntilIdle();
  assert.equal(standIn.customers.get(reference)!['tax_exempt'], 'reverse');
  const taxIds = [...standIn.taxIds.values()].filter((t) => t['customer'] === reference);
  assert.deepEqual(taxIds.map((t) => [t['type'], t['value']]), [['eu_vat', 'DE136695976']]);

  // A VAT id that is not well-formed: the customer's country's VAT applies, so not exempt.
  assert.equal((await patch({ billing_tax_id: 'DE123456789' })).status, 200);
  await app.app.context.jobs.runUntilIdle();
  assert.equal(standIn.customers.get(reference)!['tax_exempt'], 'none');
});
