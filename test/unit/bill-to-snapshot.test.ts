import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { billToSnapshot } from '../../src/billing/invoices/bill-to-snapshot.js';
import { toInvoiceDocument } from '../../src/billing/invoices/invoice-pdf.js';
import type { InvoiceWithLines } from '../../src/billing/invoices/invoice.js';
import type { BillingProfile } from '../../src/billing/profile/billing-profile.js';

function profile(overrides: Partial<BillingProfile> = {}): BillingProfile {
  return {
    organizationId: 'org',
    organizationName: 'Acme',
    organizationSlug: 'acme',
    organizationCreatedAt: new Date('2026-01-01T00:00:00Z'),
    plan: 'FREE',
    defaultAddressId: null,
    version: 1n,
    contactFirstName: 'Jane',
    contactLastName: 'Doe',
    email: 'billing@acme.test',
    companyName: 'Acme SAS',
    addressLine1: '42 Rue de la Paix',
    addressLine2: 'Bâtiment B',
    city: 'Paris',
    state: null,
    postalCode: '75002',
    country: 'FR',
    taxId: 'FR12345678901',
    taxIdType: 'eu_vat',
    ...overrides,
  };
}

describe('billToSnapshot', () => {
  it('keeps company, contact, address lines, country and VAT id, and not the e-mail', () => {
    assert.deepEqual(billToSnapshot(profile()), {
      company: 'Acme SAS',
      contactName: 'Jane Doe',
      email: null,
      addressLines: ['42 Rue de la Paix', 'Bâtiment B', '75002 Paris'],
      country: 'FR',
      countryName: 'France',
      taxId: 'FR12345678901',
    });
  });

  it('adds the state line (US) and drops blank parts', () => {
    const snapshot = billToSnapshot(profile({ companyName: '  ', addressLine2: null, state: 'IL', city: 'Springfield', postalCode: '62701', country: 'US', taxId: null }));
    assert.equal(snapshot.company, null);
    assert.deepEqual(snapshot.addressLines, ['42 Rue de la Paix', '62701 Springfield', 'IL']);
    assert.equal(snapshot.countryName, 'United States');
    assert.equal(snapshot.taxId, null);
  });

  it('keeps the billing e-mail only when nothing else names or locates the customer', () => {
    const bare = profile({
      contactFirstName: null,
      contactLastName: null,
      companyName: null,
      addressLine1: null,
      addressLine2: null,
      city: null,
      postalCode: null,
      country: null,
      taxId: 'FR12345678901',
    });
    assert.equal(billToSnapshot(bare).email, 'billing@acme.test');
    assert.equal(billToSnapshot({ ...bare, contactFirstName: 'Jane' }).email, null);
    assert.equal(billToSnapshot({ ...bare, country: 'DE' }).email, null);
  });
});

describe('toInvoiceDocument', () => {
  it('maps an invoice to what the PDF shows: last day of the period, country name, lines in order', () => {
    const invoice: InvoiceWithLines = {
      id: 'i',
      organizationId: 'o',
      number: 'INV-000007',
      sequenceNumber: 7n,
      periodStart: new Date('2026-10-01T00:00:00Z'),
      periodEnd: new Date('2026-11-01T00:00:00Z'),
      planCode: 'FREE',
      planKind: 'credits',
      currency: 'JPY',
      status: 'PAID',
      subtotalMinor: 1200n,
      taxMinor: 0n,
      taxLines: [],
      reverseCharge: false,
      creditedMinor: 0n,
      owedReducedMinor: 0n,
      creditsAppliedMinor: 1200n,
      totalMinor: 0n,
      billTo: billToSnapshot(profile()),
      seller: { name: 'Bursar', addressLines: ['1 Main St'], country: 'FR', countryName: 'France', taxId: null, email: null },
      paymentTerms: 'Paid from the credit balance at issue.',
      issuedAt: new Date('2026-11-01T00:00:05Z'),
      dueAt: null,
      paidAt: new Date('2026-11-01T00:00:05Z'),
      voidedAt: null,
      paymentAttempts: 0,
      nextPaymentAttemptAt: null,
      lastPaymentError: null,
      providerChargeReference: null,
      lastPaymentMethodId: null,
      paymentActionUrl: null,
      refundedMinor: 0n,
      disputedMinor: null,
      disputeReason: null,
      disputedAt: null,
      lines: [
        { position: 1, kind: 'usage', description: 'Cluster a (node-hours)', quantity: '12', unitPriceMinor: 100n, amountMinor: 1200n, parts: [], clusterId: null },
        { position: 2, kind: 'credit', description: 'Credits applied', quantity: null, unitPriceMinor: null, amountMinor: -1200n, parts: [], clusterId: null },
      ],
    };
    const doc = toInvoiceDocument(invoice);
    assert.equal(doc.periodEnd?.toISOString(), '2026-10-31T23:59:59.999Z');
    assert.equal(doc.seller.country, 'France');
    assert.equal(doc.paymentTerms, 'Paid from the credit balance at issue.');
    assert.equal('status' in doc, false, 'the document never carries a payment status');
    assert.equal(doc.billTo.country, 'France');
    assert.equal(doc.currency, 'JPY');
    assert.deepEqual(doc.lines.map((line) => line.amountMinor), [1200n], 'credits are shown with the totals, not as a line');
    assert.equal(doc.creditsAppliedMinor, 1200n);
    assert.equal(doc.totalMinor, 0n);
  });
});
