import assert from 'node:assert/strict';
import { test } from 'node:test';
import { providerCustomerDetails } from '../../src/billing/payment-methods/provider-customer-details.js';
import type { BillingProfile } from '../../src/billing/profile/billing-profile.js';

function profile(values: Partial<BillingProfile> = {}): BillingProfile {
  return {
    organizationId: 'org-1',
    organizationName: 'Acme',
    organizationSlug: 'acme',
    organizationCreatedAt: new Date('2026-01-01T00:00:00Z'),
    plan: 'FREE',
    defaultAddressId: null,
    version: 1n,
    contactFirstName: null,
    contactLastName: null,
    email: null,
    companyName: null,
    addressLine1: null,
    addressLine2: null,
    city: null,
    state: null,
    postalCode: null,
    country: null,
    taxId: null,
    taxIdType: null,
    ...values,
  };
}

test('no details set: nothing but the organization id (the provider shows the e-mail, if any)', () => {
  assert.deepEqual(providerCustomerDetails(profile()), { organizationId: 'org-1', name: null, email: null, address: null, taxId: null, taxExempt: 'none' });
  assert.deepEqual(providerCustomerDetails(profile({ email: 'a@b.test' })).email, 'a@b.test');
});

test('the company is the name; without one, the contact name; blank values count as unset', () => {
  assert.equal(providerCustomerDetails(profile({ companyName: 'Acme GmbH', contactFirstName: 'Ada', contactLastName: 'Lovelace' })).name, 'Acme GmbH');
  assert.equal(providerCustomerDetails(profile({ companyName: '  ', contactFirstName: 'Ada', contactLastName: 'Lovelace' })).name, 'Ada Lovelace');
  assert.equal(providerCustomerDetails(profile({ contactLastName: 'Lovelace' })).name, 'Lovelace');
  assert.equal(providerCustomerDetails(profile({ email: '' })).email, null);
});

test('the address is sent when any line of it is set, with unset lines as null', () => {
  assert.deepEqual(providerCustomerDetails(profile({ city: 'Berlin', country: 'DE' })).address, {
    line1: null,
    line2: null,
    city: 'Berlin',
    state: null,
    postalCode: null,
    country: 'DE',
  });
});

test('the VAT id goes with its type; a type without an id means nothing', () => {
  assert.deepEqual(providerCustomerDetails(profile({ taxId: 'DE123456789', taxIdType: 'eu_vat' })).taxId, { value: 'DE123456789', type: 'eu_vat' });
  assert.deepEqual(providerCustomerDetails(profile({ taxId: 'DE123456789' })).taxId, { value: 'DE123456789', type: null });
  assert.equal(providerCustomerDetails(profile({ taxIdType: 'eu_vat' })).taxId, null);
});
