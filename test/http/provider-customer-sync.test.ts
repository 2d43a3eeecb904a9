/**
 * The provider-side customer through the real Stripe SDK against the local stand-in: created on first need from the
 * billing profile, kept in step with profile changes by the job queue, and cards added and removed end to end.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ensureProviderCustomer } from '../../src/billing/payment-methods/ensure-provider-customer.js';
import { syncCustomerQueue } from '../../src/jobs/queues.js';
import { startStripeStandIn, type RecordedRequest, type StripeStandIn } from '../fixtures/stripe-stand-in.js';
import { createOrganization, http, startTestApp, type OrganizationFixture, type TestApp } from '../support/test-app.js';

const YEAR = new Date().getUTCFullYear();

let standIn: StripeStandIn;
let app: TestApp;

before(async () => {
  standIn = await startStripeStandIn();
  app = await startTestApp({ PAYMENT_PROVIDER: 'stripe', STRIPE_SECRET_KEY: 'sk_test_x', STRIPE_API_BASE_URL: standIn.url });
});
after(async () => {
  await app.close();
  await standIn.close();
});

const billingInfo = {
  first_name: 'Forrest',
  last_name: 'Gump',
  email: 'billing@acme.test',
  address: 'Hauptstr. 1\nHinterhaus',
  city: 'Berlin',
  zip: '10115',
  country_code: 'DE',
  company: 'Acme GmbH',
  vat_number: 'DE123456789',
};

async function putBillingInfo(org: OrganizationFixture, body: Record<string, unknown>) {
  const result = await http(app, 'PUT', `/organization/${org.id}/billingInfo`, { headers: org.billing, body });
  assert.equal(result.status, 200, result.text);
  return result;
}

async function storedReference(organizationId: string): Promise<string | null> {
  const { rows } = await app.database.query<{ provider_customer_reference: string | null }>(
    'SELECT provider_customer_reference FROM organizations WHERE id = $1',
    [organizationId],
  );
  return rows[0]!.provider_customer_reference;
}

function customerOf(organizationId: string): Record<string, any> {
  const matching = [...standIn.customers.values()].filter((c) => (c['metadata'] as Record<string, unknown>)['organization_id'] === organizationId);
  assert.equal(matching.length, 1, 'exactly one provider customer per organization');
  return matching[0]!;
}

function taxIdsOf(customerId: string): Record<string, unknown>[] {
  return [...standIn.taxIds.values()].filter((t) => t['customer'] === customerId);
}

async function during(action: () => Promise<unknown>): Promise<RecordedRequest[]> {
  const start = standIn.requests.length;
  await action();
  return standIn.requests.slice(start);
}

async function syncJobs(organizationId: string) {
  const { rows } = await app.database.query<{ state: string; attempts: number; last_error: string | null }>(
    `SELECT state, attempts, last_error FROM jobs WHERE queue = $1 AND payload->>'organizationId' = $2 ORDER BY id`,
    [syncCustomerQueue, organizationId],
  );
  return rows;
}

describe('ensureProviderCustomer', () => {
  test('creates the customer from the billing profile once and stores its reference', async () => {
    const org = await createOrganization(app);
    await putBillingInfo(org, billingInfo);
    // No customer yet: the sync job has nothing to update and asks nothing of the provider.
    const beforeCustomer = await during(() => app.app.context.jobs.runUntilIdle());
    assert.deepEqual(beforeCustomer, []);
    assert.deepEqual((await syncJobs(org.id)).map((j) => j.state), ['completed']);

    const reference = await ensureProviderCustomer(app.app.context, org.id);
    assert.match(reference, /^cus_/);
    assert.equal(await storedReference(org.id), reference);
    const customer = customerOf(org.id);
    assert.equal(customer['id'], reference);
    assert.equal(customer['name'], 'Acme GmbH');
    assert.equal(customer['email'], 'billing@acme.test');
    assert.deepEqual(customer['address'], {
      city: 'Berlin',
      country: 'DE',
      line1: 'Hauptstr. 1',
      line2: 'Hinterhaus',
      postal_code: '10115',
      state: null,
    });
    assert.deepEqual(taxIdsOf(reference).map((t) => [t['type'], t['value']]), [['eu_vat', 'DE123456789']]);

    const again = await during(async () => assert.equal(await ensureProviderCustomer(app.app.context, org.id), reference));
    assert.deepEqual(again, [], 'a stored reference is answered without asking the provider');
  });

  test('an organization with no details set gets a customer with nothing but its metadata', async () => {
    const org = await createOrganization(app);
    const reference = await ensureProviderCustomer(app.app.context, org.id);
    const customer = customerOf(org.id);
    assert.equal(customer['id'], reference);
    assert.equal(customer['name'], null);
    assert.equal(customer['email'], null);
    assert.equal(customer['address'], null);
    assert.deepEqual(taxIdsOf(reference), []);
  });

  test('concurrent calls store one reference and all answer it', async () => {
    const org = await createOrganization(app);
    const references = await Promise.all([1, 2, 3, 4].map(() => ensureProviderCustomer(app.app.context, org.id)));
    const stored = await storedReference(org.id);
    assert.ok(stored);
    assert.deepEqual(references, [stored, stored, stored, stored]);
    assert.equal(customerOf(org.id)['id'], stored);
  });

  test('a profile change committed while the customer was being created is synced afterwards', async () => {
    const org = await createOrganization(app);
    await putBillingInfo(org, { ...billingInfo, company: 'Old Name Ltd' });
    const payments = app.app.context.payments;
    const original = payments.upsertCustomer.bind(payments);
    payments.upsertCustomer = async (reference, details) => {
      const created = await original(reference, details);
      payments.upsertCustomer = original;
      // Meanwhile: the profile changes and its sync job runs, finding no customer yet.
      await putBillingInfo(org, { ...billingInfo, company: 'New Name Ltd' });
      await app.app.context.jobs.runUntilIdle();
      return created;
    };
    try {
      await ensureProviderCustomer(app.app.context, org.id);
    } finally {
      payments.upsertCustomer = original;
    }
    assert.equal(customerOf(org.id)['name'], 'Old Name Ltd');
    await app.app.context.jobs.runUntilIdle();
    assert.equal(customerOf(org.id)['name'], 'New Name Ltd');
  });

  test('an unknown organization answers not found', async () => {
    await assert.rejects(ensureProviderCustomer(app.app.context, '00000000-0000-4000-8000-000000000000'), { code: 'not_found' });
  });
});

describe('billing profile changes reach the provider customer through the job queue', () => {
  test('name (company), e-mail, address and VAT id are sent after the commit', async () => {
    const org = await createOrganization(app);
    const reference = await ensureProviderCustomer(app.app.context, org.id);
    const put = await during(() => putBillingInfo(org, billingInfo));
    assert.deepEqual(put, [], 'nothing is sent to the provider inside the request');

    const sent = await during(() => app.app.context.jobs.runUntilIdle());
    const update = sent.find((r) => r.method === 'POST' && r.path === `/v1/customers/${reference}`);
    assert.ok(update, 'the customer update was sent');
    assert.equal(update.body['name'], 'Acme GmbH');
    assert.equal(update.body['email'], 'billing@acme.test');
    assert.deepEqual(update.body['address'], {
      line1: 'Hauptstr. 1',
      line2: 'Hinterhaus',
      city: 'Berlin',
      state: '',
      postal_code: '10115',
      country: 'DE',
    });
    const taxIdCreate = sent.find((r) => r.method === 'POST' && r.path === `/v1/customers/${reference}/tax_ids`);
    assert.ok(taxIdCreate, 'the VAT id was sent as a tax id');
    assert.deepEqual(taxIdCreate.body, { type: 'eu_vat', value: 'DE123456789' });
    assert.deepEqual(taxIdsOf(reference).map((t) => t['value']), ['DE123456789']);
    assert.equal(customerOf(org.id)['name'], 'Acme GmbH');
  });

  test('without a company the contact name is the customer name; a removed VAT id is removed there', async () => {
    const org = await createOrganization(app);
    await putBillingInfo(org, billingInfo);
    const reference = await ensureProviderCustomer(app.app.context, org.id);
    await app.app.context.jobs.runUntilIdle();
    const { company: _company, vat_number: _vat, ...withoutCompany } = billingInfo;
    await putBillingInfo(org, withoutCompany);
    await app.app.context.jobs.runUntilIdle();
    const customer = customerOf(org.id);
    assert.equal(customer['name'], 'Forrest Gump');
    assert.deepEqual(taxIdsOf(reference), []);
  });

  test('a failed sync is retried with backoff and the profile change is kept', async () => {
    const org = await createOrganization(app);
    await ensureProviderCustomer(app.app.context, org.id);
    await app.app.context.jobs.runUntilIdle();

    standIn.failNextRequests(1);
    await putBillingInfo(org, { ...billingInfo, company: 'Retried GmbH' });
    await app.app.context.jobs.runUntilIdle();
    const [job] = await syncJobs(org.id);
    assert.ok(job);
    assert.equal(job.state, 'pending', 'waiting for its retry');
    assert.equal(job.attempts, 1);
    assert.ok(job.last_error);
    assert.notEqual(customerOf(org.id)['name'], 'Retried GmbH');
    const kept = await http(app, 'GET', `/organization/${org.id}/billingInfo`, { headers: org.billing });
    assert.equal(kept.body.company, 'Retried GmbH', 'the profile change stays');

    await app.app.context.jobs.runUntilIdle({ horizonSeconds: 3600 });
    const [retried] = await syncJobs(org.id);
    assert.equal(retried!.state, 'completed');
    assert.equal(retried!.attempts, 2);
    assert.equal(customerOf(org.id)['name'], 'Retried GmbH');
  });
});

describe('cards through the Stripe adapter', () => {
  test('add by number and by token, refuse a declined card, delete and detach', async () => {
    const org = await createOrganization(app);
    await putBillingInfo(org, billingInfo);
    const path = `/organization/${org.id}/creditCard`;

    const addRequests = await during(async () => {
      const added = await http(app, 'POST', path, {
        headers: org.billing,
        body: { number: '4242 4242 4242 4242', cvv: '314', expiry_month: 8, expiry_year: YEAR + 2 },
      });
      assert.equal(added.status, 201, added.text);
      assert.equal(added.body.brand, 'visa');
      assert.equal(added.body.last_digit, '4242');
      assert.equal(added.body.expiry_month, 8);
      assert.equal(added.body.is_expired, false);
    });
    const reference = await storedReference(org.id);
    assert.ok(reference);
    assert.deepEqual(
      addRequests.map((r) => `${r.method} ${r.path.replace(/(cus|pm)_[0-9a-f]+/g, '$1_*')}`),
      ['POST /v1/customers', 'POST /v1/payment_methods', 'POST /v1/payment_methods/pm_*/attach'],
    );
    const attach = addRequests[2]!;
    assert.equal(attach.body['customer'], reference);
    assert.deepEqual(addRequests[1]!.body['card'], { number: '****4242', cvc: '***', exp_month: '8', exp_year: String(YEAR + 2) });

    const byToken = await http(app, 'POST', path, { headers: org.billing, body: { token: 'tok_mastercard' } });
    assert.equal(byToken.status, 201, byToken.text);
    assert.equal(byToken.body.brand, 'mastercard');

    const declined = await http(app, 'POST', path, {
      headers: org.billing,
      body: { number: '4000000000000002', cvv: '314', expiry_month: 8, expiry_year: YEAR + 2 },
    });
    assert.equal(declined.status, 402);
    assert.equal(declined.body.error, 'card_declined');

    const listed = await http(app, 'GET', path, { headers: org.billing });
    assert.equal(listed.body.results.length, 2);
    const visa = listed.body.results.find((c: { brand: string }) => c.brand === 'visa');
    const { rows } = await app.database.query<{ provider_reference: string }>(
      'SELECT provider_reference FROM payment_methods WHERE id = $1',
      [visa.id],
    );
    const paymentMethod = rows[0]!.provider_reference;

    assert.equal((await http(app, 'DELETE', `${path}/${visa.id}`, { headers: org.billing })).status, 204);
    const detach = await during(() => app.app.context.jobs.runUntilIdle());
    assert.ok(detach.some((r) => r.method === 'POST' && r.path === `/v1/payment_methods/${paymentMethod}/detach`));
  });

  test('the same card twice is stored once and the second payment method is detached at the provider', async () => {
    const org = await createOrganization(app);
    const path = `/organization/${org.id}/creditCard`;
    const body = { number: '5555555555554444', cvv: '271', expiry_month: 3, expiry_year: YEAR + 4 };
    const first = await http(app, 'POST', path, { headers: org.billing, body });
    const second = await http(app, 'POST', path, { headers: org.billing, body });
    assert.equal(first.status, 201);
    assert.equal(second.status, 201);
    assert.equal(second.body.id, first.body.id);
    const detach = await during(() => app.app.context.jobs.runUntilIdle());
    assert.equal(detach.filter((r) => r.path.endsWith('/detach')).length, 1);
  });

  test('a provider outage answers 402 provider_unavailable and stores nothing', async () => {
    const org = await createOrganization(app);
    await ensureProviderCustomer(app.app.context, org.id);
    standIn.failNextRequests(1);
    const result = await http(app, 'POST', `/organization/${org.id}/creditCard`, { headers: org.billing, body: { token: 'tok_visa' } });
    assert.equal(result.status, 402);
    assert.equal(result.body.error, 'provider_unavailable');
    const listed = await http(app, 'GET', `/organization/${org.id}/creditCard`, { headers: org.billing });
    assert.deepEqual(listed.body.results, []);
  });
});
