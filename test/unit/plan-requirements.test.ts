import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { missingDetailsForInvoicedPlan } from '../../src/domain/plan-requirements.js';

const complete = { email: 'billing@example.com', addressLine1: '21 Jenny Street', city: 'Greenbow', postalCode: '36744', country: 'US' };

describe('missingDetailsForInvoicedPlan', () => {
  it('is empty for a complete profile', () => {
    assert.deepEqual(missingDetailsForInvoicedPlan(complete), []);
  });

  it('names every missing or blank detail, in a stable order', () => {
    assert.deepEqual(missingDetailsForInvoicedPlan({ email: null, addressLine1: null, city: null, postalCode: null, country: null }), [
      'email',
      'addressLine1',
      'city',
      'postalCode',
      'country',
    ]);
    assert.deepEqual(missingDetailsForInvoicedPlan({ ...complete, city: '  ', country: null }), ['city', 'country']);
  });
});
