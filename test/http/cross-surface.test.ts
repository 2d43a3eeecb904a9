/**
 * One billing profile, four surfaces: a value written through any surface reads back through every other surface
 * that has the field, with the documented mappings (address lines ⇄ one newline-joined address in 000, ISO code ⇄
 * country name in 002, first + last name ⇄ one contact name in 002, company and postal address = the default
 * billing address of 003).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createOrganization, http, startTestApp, type OrganizationFixture, type TestApp } from '../support/test-app.js';

let app: TestApp;
before(async () => {
  app = await startTestApp();
});
after(async () => {
  await app.close();
});

type Values = Record<string, string | null>;

async function get(org: OrganizationFixture, path: string) {
  const result = await http(app, 'GET', path, { headers: org.owner });
  assert.equal(result.status, 200, `${path}: ${result.text}`);
  return result;
}

/** Seed 000, translated to domain fields (only those it has). */
async function viaBillingInfo(org: OrganizationFixture): Promise<Values> {
  const body = (await get(org, `/organization/${org.id}/billingInfo`)).body;
  const newline = body.address === null ? -1 : body.address.indexOf('\n');
  return {
    contactFirstName: body.first_name,
    contactLastName: body.last_name,
    email: body.email,
    companyName: body.company,
    addressLine1: newline === -1 ? body.address : body.address.slice(0, newline) || null,
    addressLine2: newline === -1 ? null : body.address.slice(newline + 1),
    city: body.city,
    state: body.state,
    postalCode: body.zip,
    country: body.country_code,
    taxId: body.vat_number,
  };
}

/** Seed 001. */
async function viaExternalOrgs(org: OrganizationFixture): Promise<Values> {
  const body = (await get(org, `/api/v2/external/orgs/${org.slug}`)).body;
  const details = body.billing_details;
  return {
    email: body.billing_email,
    companyName: details.billing_company_name,
    addressLine1: details.billing_address_line1,
    addressLine2: details.billing_address_line2,
    city: details.billing_city,
    state: details.billing_state,
    postalCode: details.billing_postal_code,
    country: details.billing_country,
    taxId: details.billing_tax_id,
    taxIdType: details.billing_tax_id_type,
  };
}

const countryNames: Record<string, string> = { 'United States': 'US', Germany: 'DE', France: 'FR', 'United Kingdom': 'GB', Japan: 'JP' };

/** Seed 002: the contact name is one string, the country a name. */
async function viaBillingDetails(org: OrganizationFixture): Promise<Values> {
  const body = (await get(org, '/api/v1/organization/billing')).body;
  const country = body.billingCountry === null ? null : countryNames[body.billingCountry];
  assert.notEqual(country, undefined, `unexpected country name ${body.billingCountry}`);
  return {
    contactName: body.billingContactName,
    email: body.billingEmail,
    companyName: body.companyName,
    addressLine1: body.billingAddressLine1,
    addressLine2: body.billingAddressLine2,
    city: body.billingCity,
    state: body.billingState,
    postalCode: body.billingPostalCode,
    country: country ?? null,
    taxId: body.vatNumber,
  };
}

/** Seed 003: the default billing address (null when there is none). */
async function viaDefaultAddress(org: OrganizationFixture): Promise<Values | null> {
  const addresses = (await get(org, `/organizations/${org.id}/billing-addresses`)).body.data.billing_addresses;
  const defaults = addresses.filter((address: { is_default: boolean }) => address.is_default);
  assert.equal(defaults.length, addresses.length === 0 ? 0 : 1, 'exactly one default address');
  const address = defaults[0];
  if (!address) return null;
  return {
    companyName: address.company,
    addressLine1: address.address_line_1,
    addressLine2: address.address_line_2,
    city: address.city,
    state: address.state,
    postalCode: address.postal_code,
    country: address.country,
  };
}

const pick = (values: Values, fields: string[]): Values => Object.fromEntries(fields.map((field) => [field, values[field] ?? null]));
const addressFields = ['companyName', 'addressLine1', 'addressLine2', 'city', 'state', 'postalCode', 'country'];

/** Checks every surface against the expected domain values. */
async function expectEverywhere(org: OrganizationFixture, expected: Values & { contactName?: string | null; taxIdType?: string | null }) {
  const domain = Object.keys(expected).filter((field) => field !== 'contactName' && field !== 'taxIdType');
  const billingInfo = await viaBillingInfo(org);
  assert.deepEqual(pick(billingInfo, domain), pick(expected, domain), 'seed 000');
  const external = await viaExternalOrgs(org);
  const externalFields = domain.filter((field) => !field.startsWith('contact'));
  assert.deepEqual(pick(external, externalFields), pick(expected, externalFields), 'seed 001');
  if ('taxIdType' in expected) assert.equal(external.taxIdType, expected.taxIdType, 'seed 001 tax id type');
  const details = await viaBillingDetails(org);
  assert.deepEqual(pick(details, externalFields), pick(expected, externalFields), 'seed 002');
  if ('contactName' in expected) assert.equal(details.contactName, expected.contactName, 'seed 002 contact name');
  const address = await viaDefaultAddress(org);
  const addressExpected = domain.filter((field) => addressFields.includes(field));
  assert.ok(address, 'seed 003 has a default address');
  assert.deepEqual(pick(address, addressExpected), pick(expected, addressExpected), 'seed 003 default address');
}

describe('written through one surface, read through all', () => {
  test('seed 000 PUT → 001, 002, 003', async () => {
    const org = await createOrganization(app);
    const put = await http(app, 'PUT', `/organization/${org.id}/billingInfo`, {
      headers: org.owner,
      body: {
        first_name: 'Mary Ann',
        last_name: 'van Dyke',
        email: 'mary@example.com',
        address: '1 Infinite Loop\nBuilding 2\nRoom 3',
        city: 'Cupertino',
        zip: '95014',
        state: 'CA',
        country_code: 'US',
        company: 'Fruit Inc.',
        vat_number: 'US999',
      },
    });
    assert.equal(put.status, 200, put.text);
    await expectEverywhere(org, {
      contactFirstName: 'Mary Ann',
      contactLastName: 'van Dyke',
      contactName: 'Mary Ann van Dyke',
      email: 'mary@example.com',
      companyName: 'Fruit Inc.',
      addressLine1: '1 Infinite Loop',
      // Everything after the first newline is line 2, further newlines included.
      addressLine2: 'Building 2\nRoom 3',
      city: 'Cupertino',
      state: 'CA',
      postalCode: '95014',
      country: 'US',
      taxId: 'US999',
    });
    assert.equal((await viaBillingDetails(org)).country, 'US');
    assert.equal((await get(org, '/api/v1/organization/billing')).body.billingCountry, 'United States');
  });

  test('seed 001 PATCH → 000, 002, 003', async () => {
    const org = await createOrganization(app);
    const patch = await http(app, 'PATCH', `/api/v2/external/orgs/${org.slug}`, {
      headers: org.owner,
      body: {
        billing_email: 'accounts@example.de',
        billing_company_name: 'Beispiel GmbH',
        billing_address_line1: 'Unter den Linden 5',
        billing_address_line2: '3. OG',
        billing_city: 'Berlin',
        billing_state: 'BE',
        billing_postal_code: '10117',
        billing_country: 'DE',
        billing_tax_id: 'DE811907980',
        billing_tax_id_type: 'eu_vat',
      },
    });
    assert.equal(patch.status, 200, patch.text);
    await expectEverywhere(org, {
      email: 'accounts@example.de',
      companyName: 'Beispiel GmbH',
      addressLine1: 'Unter den Linden 5',
      addressLine2: '3. OG',
      city: 'Berlin',
      state: 'BE',
      postalCode: '10117',
      country: 'DE',
      taxId: 'DE811907980',
      taxIdType: 'eu_vat',
    });
    assert.equal((await get(org, '/api/v1/organization/billing')).body.billingCountry, 'Germany');
    const info = (await get(org, `/organization/${org.id}/billingInfo`)).body;
    assert.equal(info.address, 'Unter den Linden 5\n3. OG');

    // null through 001 clears everywhere.
    await http(app, 'PATCH', `/api/v2/external/orgs/${org.slug}`, { headers: org.owner, body: { billing_address_line2: null, billing_state: null } });
    await expectEverywhere(org, { addressLine1: 'Unter den Linden 5', addressLine2: null, state: null, city: 'Berlin' });
    assert.equal((await get(org, `/organization/${org.id}/billingInfo`)).body.address, 'Unter den Linden 5');
  });

  test('seed 002 PATCH → 000, 001, 003', async () => {
    const org = await createOrganization(app);
    const patch = await http(app, 'PATCH', '/api/v1/organization/billing', {
      headers: org.owner,
      body: {
        companyName: 'Example Corp',
        billingContactName: 'Jane Smith',
        billingEmail: 'jane@example.com',
        billingAddressLine1: '123 Main Street',
        billingAddressLine2: 'Suite 400',
        billingCity: 'San Francisco',
        billingPostalCode: '94105',
        billingState: 'California',
        billingCountry: 'United States',
        vatNumber: 'US123456789',
      },
    });
    assert.equal(patch.status, 200, patch.text);
    await expectEverywhere(org, {
      contactFirstName: 'Jane',
      contactLastName: 'Smith',
      contactName: 'Jane Smith',
      email: 'jane@example.com',
      companyName: 'Example Corp',
      addressLine1: '123 Main Street',
      addressLine2: 'Suite 400',
      city: 'San Francisco',
      state: 'California',
      postalCode: '94105',
      country: 'US',
      taxId: 'US123456789',
    });
    assert.equal((await get(org, `/organization/${org.id}/billingInfo`)).body.address, '123 Main Street\nSuite 400');
  });

  test('seed 003 default address → 000, 001, 002; moving the default moves the profile address', async () => {
    const org = await createOrganization(app);
    const first = await http(app, 'POST', `/organizations/${org.id}/billing-addresses`, {
      headers: org.owner,
      body: { name: 'HQ', company: 'Acme', address_line_1: '1 Rue de Rivoli', city: 'Paris', state: 'IDF', postal_code: '75001', country: 'FR' },
    });
    assert.equal(first.status, 201, first.text);
    const hq = { companyName: 'Acme', addressLine1: '1 Rue de Rivoli', addressLine2: null, city: 'Paris', state: 'IDF', postalCode: '75001', country: 'FR' };
    await expectEverywhere(org, hq);
    assert.equal((await get(org, '/api/v1/organization/billing')).body.billingCountry, 'France');

    // A second address that is not the default leaves the profile alone.
    const branch = await http(app, 'POST', `/organizations/${org.id}/billing-addresses`, {
      headers: org.owner,
      body: { name: 'Branch', company: 'Acme KK', address_line_1: '1-1 Chiyoda', address_line_2: 'Floor 9', city: 'Tokyo', state: 'Tokyo', postal_code: '100-0001', country: 'JP' },
    });
    assert.equal(branch.body.data.billing_address.is_default, false);
    await expectEverywhere(org, hq);

    // Making it the default makes it the profile's address on every surface.
    const branchId = branch.body.data.billing_address.id;
    const moved = await http(app, 'PATCH', `/organizations/${org.id}/billing-addresses/${branchId}`, { headers: org.owner, body: { is_default: true } });
    assert.equal(moved.status, 200);
    const tokyo = { companyName: 'Acme KK', addressLine1: '1-1 Chiyoda', addressLine2: 'Floor 9', city: 'Tokyo', state: 'Tokyo', postalCode: '100-0001', country: 'JP' };
    await expectEverywhere(org, tokyo);

    // A PATCH of the default address shows everywhere too.
    await http(app, 'PATCH', `/organizations/${org.id}/billing-addresses/${branchId}`, { headers: org.owner, body: { city: 'Osaka' } });
    await expectEverywhere(org, { ...tokyo, city: 'Osaka' });

    // And a write through 000 lands on that default address, leaving the other one as it was.
    await http(app, 'PUT', `/organization/${org.id}/billingInfo`, {
      headers: org.owner,
      body: { first_name: 'Ken', last_name: 'Sato', email: 'ken@example.jp', address: '2-2 Umeda', city: 'Osaka', zip: '530-0001', country_code: 'JP' },
    });
    const addresses = (await get(org, `/organizations/${org.id}/billing-addresses`)).body.data.billing_addresses;
    const updated = addresses.find((address: { id: string }) => address.id === branchId);
    assert.equal(updated.address_line_1, '2-2 Umeda');
    assert.equal(updated.address_line_2, null);
    assert.equal(updated.company, null);
    assert.equal(updated.name, 'Branch');
    const untouched = addresses.find((address: { id: string }) => address.id !== branchId);
    assert.equal(untouched.address_line_1, '1 Rue de Rivoli');

    // Deleting the default promotes the other one, which becomes the profile address.
    await http(app, 'DELETE', `/organizations/${org.id}/billing-addresses/${branchId}`, { headers: org.owner });
    await expectEverywhere(org, hq);
  });

  test('a profile written through 000 before any address creates the default address of 003', async () => {
    const org = await createOrganization(app);
    assert.equal(await viaDefaultAddress(org), null);
    await http(app, 'PATCH', `/api/v2/external/orgs/${org.slug}`, { headers: org.owner, body: { billing_email: 'only@example.com' } });
    assert.equal(await viaDefaultAddress(org), null, 'a change without address fields creates no address');
    await http(app, 'PATCH', '/api/v1/organization/billing', { headers: org.owner, body: { billingCity: 'Lyon' } });
    const address = await viaDefaultAddress(org);
    assert.equal(address?.city, 'Lyon');
  });
});

describe('names that differ between surfaces lose nothing', () => {
  test('contact names round-trip between 000 (first/last) and 002 (one name)', async () => {
    const org = await createOrganization(app);
    for (const [first, last, joined] of [
      ['Jane', 'Smith', 'Jane Smith'],
      ['Cher', null, 'Cher'],
      ['Jean', 'de La Fontaine', 'Jean de La Fontaine'],
    ] as const) {
      const put = await http(app, 'PUT', `/organization/${org.id}/billingInfo`, {
        headers: org.owner,
        body: { first_name: first, last_name: last ?? ' ', email: 'x@example.com', address: 'a', city: 'c', zip: 'z', country_code: 'GB' },
      });
      assert.equal(put.status, 200, put.text);
      const details = (await get(org, '/api/v1/organization/billing')).body;
      assert.equal(details.billingContactName, joined);
      // Writing the joined name back through 002 gives the same first and last name in 000.
      await http(app, 'PATCH', '/api/v1/organization/billing', { headers: org.owner, body: { billingContactName: details.billingContactName } });
      const info = (await get(org, `/organization/${org.id}/billingInfo`)).body;
      assert.equal(info.first_name, first);
      assert.equal(info.last_name, last);
      assert.equal(details.billingCountry, 'United Kingdom');
    }
  });

  test('an address with a newline in 000 is two lines elsewhere, and back', async () => {
    const org = await createOrganization(app);
    await http(app, 'PATCH', `/api/v2/external/orgs/${org.slug}`, {
      headers: org.owner,
      body: { billing_address_line1: 'Line one', billing_address_line2: 'Line two' },
    });
    const info = (await get(org, `/organization/${org.id}/billingInfo`)).body;
    assert.equal(info.address, 'Line one\nLine two');
    // Sending that address back unchanged through 000 keeps both lines exactly.
    await http(app, 'PUT', `/organization/${org.id}/billingInfo`, {
      headers: org.owner,
      body: { first_name: 'A', last_name: 'B', email: 'a@b.co', address: info.address, city: 'C', zip: 'Z', country_code: 'US' },
    });
    const external = (await get(org, `/api/v2/external/orgs/${org.slug}`)).body.billing_details;
    assert.equal(external.billing_address_line1, 'Line one');
    assert.equal(external.billing_address_line2, 'Line two');
  });
});

describe('one ETag for every surface', () => {
  test('a write through any surface makes the ETags read through the others stale', async () => {
    const org = await createOrganization(app);
    const etagOf = async (path: string) => (await get(org, path)).headers.get('etag')!;
    const infoPath = `/organization/${org.id}/billingInfo`;
    const infoBody = { first_name: 'A', last_name: 'B', email: 'a@b.co', address: 'a', city: 'c', zip: 'z', country_code: 'US' };

    let etag = await etagOf(infoPath);
    assert.equal(etag, await etagOf('/api/v1/organization/billing'));
    assert.equal(etag, await etagOf(`/api/v2/external/orgs/${org.slug}`));

    await http(app, 'POST', `/organizations/${org.id}/billing-addresses`, {
      headers: org.owner,
      body: { name: 'HQ', company: 'Acme', address_line_1: 'x', city: 'y', state: 'z', postal_code: '1', country: 'US' },
    });
    const stale = await http(app, 'PUT', infoPath, { headers: { ...org.owner, 'if-match': etag }, body: infoBody });
    assert.equal(stale.status, 412);

    etag = await etagOf(infoPath);
    await http(app, 'PATCH', `/api/v2/external/orgs/${org.slug}`, { headers: org.owner, body: { billing_city: 'Elsewhere' } });
    const stale002 = await http(app, 'PATCH', '/api/v1/organization/billing', { headers: { ...org.owner, 'if-match': etag }, body: { billingCity: 'Mine' } });
    assert.equal(stale002.status, 412);
    assert.equal((await viaBillingInfo(org)).city, 'Elsewhere');
  });
});
