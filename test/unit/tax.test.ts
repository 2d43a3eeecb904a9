import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { composeInvoice } from '../../src/domain/invoice-math.js';
import {
  decideTax,
  normalizePercentage,
  parsePercentage,
  regionMatches,
  taxLinesFor,
  taxOn,
  type TaxCustomer,
  type TaxRate,
} from '../../src/domain/tax.js';
import { effectiveTaxIdType, hasValidEuVatId, isTaxIdType, taxIdStatus } from '../../src/domain/tax-ids.js';

const rates: TaxRate[] = [
  { code: 'fr-vat', country: 'FR', region: null, percentage: '20', name: 'TVA' },
  { code: 'de-vat', country: 'DE', region: null, percentage: '19', name: 'MwSt' },
  { code: 'us-ny', country: 'US', region: 'NY', percentage: '8.875', name: 'NY sales tax' },
  { code: 'ca-gst', country: 'CA', region: null, percentage: '5', name: 'GST' },
  { code: 'ca-qc', country: 'CA', region: 'QC', percentage: '9.975', name: 'QST' },
];

function customer(overrides: Partial<TaxCustomer>): TaxCustomer {
  return { country: null, region: null, taxId: null, taxIdType: null, ...overrides };
}

describe('tax rule', () => {
  it('same country: the country rate', () => {
    assert.deepEqual(decideTax('FR', customer({ country: 'FR' }), rates), { kind: 'rates', rates: [rates[0]] });
    // A French business with a valid VAT id still pays French VAT: reverse charge is for another member state.
    assert.deepEqual(decideTax('FR', customer({ country: 'FR', taxId: 'FR40303265045' }), rates), { kind: 'rates', rates: [rates[0]] });
  });

  it('another EU country with a valid VAT id: reverse charge, whether typed eu_vat or untyped', () => {
    assert.deepEqual(decideTax('FR', customer({ country: 'DE', taxId: 'DE136695976', taxIdType: 'eu_vat' }), rates), { kind: 'reverse_charge' });
    assert.deepEqual(decideTax('FR', customer({ country: 'DE', taxId: 'DE 136 695 976' }), rates), { kind: 'reverse_charge' });
    // Without its prefix, the id is read as the customer's country's.
    assert.deepEqual(decideTax('FR', customer({ country: 'DE', taxId: '136695976' }), rates), { kind: 'reverse_charge' });
  });

  it('another EU country without a valid VAT id: the customer country rate', () => {
    const german = { kind: 'rates', rates: [rates[1]] };
    assert.deepEqual(decideTax('FR', customer({ country: 'DE' }), rates), german);
    assert.deepEqual(decideTax('FR', customer({ country: 'DE', taxId: 'DE136695977' }), rates), german, 'bad check digit');
    assert.deepEqual(decideTax('FR', customer({ country: 'DE', taxId: 'FR40303265045' }), rates), german, "another country's id");
    assert.deepEqual(decideTax('FR', customer({ country: 'DE', taxId: 'DE136695976', taxIdType: 'de_stn' }), rates), german, 'not a VAT id');
  });

  it('seller outside the EU (or unknown): never reverse charge; the customer country rate or nothing', () => {
    assert.deepEqual(decideTax('US', customer({ country: 'DE', taxId: 'DE136695976' }), rates), { kind: 'rates', rates: [rates[1]] });
    assert.deepEqual(decideTax(null, customer({ country: 'DE', taxId: 'DE136695976' }), rates), { kind: 'rates', rates: [rates[1]] });
    assert.deepEqual(decideTax('US', customer({ country: 'JP' }), rates), { kind: 'none' });
    assert.deepEqual(decideTax('FR', customer({ country: null }), rates), { kind: 'none' });
  });

  it('US state rate: only in its state, matched by code or name', () => {
    const ny = { kind: 'rates', rates: [rates[2]] };
    assert.deepEqual(decideTax('US', customer({ country: 'US', region: 'NY' }), rates), ny);
    assert.deepEqual(decideTax('US', customer({ country: 'US', region: 'New York' }), rates), ny);
    assert.deepEqual(decideTax('US', customer({ country: 'US', region: ' new york ' }), rates), ny);
    assert.deepEqual(decideTax('US', customer({ country: 'US', region: 'NJ' }), rates), { kind: 'none' });
    assert.deepEqual(decideTax('US', customer({ country: 'US' }), rates), { kind: 'none' });
    assert.equal(regionMatches('CA', 'QC', 'Québec'), true);
  });

  it('a country rate and a regional rate add up', () => {
    const decision = decideTax('CA', customer({ country: 'CA', region: 'QC' }), rates);
    assert.deepEqual(decision, { kind: 'rates', rates: [rates[3], rates[4]] });
    assert.deepEqual(taxLinesFor(10_000n, [rates[3]!, rates[4]!]), [
      { name: 'GST', percentage: '5', taxableMinor: 10_000n, taxMinor: 500n },
      { name: 'QST', percentage: '9.975', taxableMinor: 10_000n, taxMinor: 998n },
    ]);
  });
});

describe('tax amounts', () => {
  it('percentages: up to 4 decimals, 0 to 100, one spelling', () => {
    assert.equal(parsePercentage('8.875'), 88_750n);
    assert.equal(parsePercentage('20'), 200_000n);
    assert.equal(parsePercentage('100'), 1_000_000n);
    for (const bad of ['100.0001', '8.87501', '-1', '1e2', '', ' 20', '20.', '.5']) assert.equal(parsePercentage(bad), null, bad);
    assert.equal(normalizePercentage('8.8750'), '8.875');
    assert.equal(normalizePercentage('020.0'), '20');
    assert.equal(normalizePercentage('0.0001'), '0.0001');
  });

  it('rounds half away from zero to the minor unit', () => {
    assert.equal(taxOn(250n, '20'), 50n);
    assert.equal(taxOn(1n, '50'), 1n, '0.5 rounds up');
    assert.equal(taxOn(3n, '50'), 2n, '1.5 rounds up');
    assert.equal(taxOn(-3n, '50'), -2n, 'away from zero');
    assert.equal(taxOn(1n, '49.9999'), 0n);
    assert.equal(taxOn(10_000n, '8.875'), 888n, '887.5 → 888');
    assert.equal(taxOn(1_000n, '8.875'), 89n, '88.75 → 89');
  });

  it('zero- and three-decimal currencies: the minor unit is the unit rounded to', () => {
    // JPY 1,005 at 10 % = 100.5 yen → 101 yen.
    assert.deepEqual(composeInvoice({ currency: 'JPY', planLines: [{ description: 'Plan', amountMinor: 1005n }], usageLines: [], availableCreditMinor: 0n, applyCredits: false, taxRates: [{ name: 'JCT', percentage: '10' }] }).taxMinor, 101n);
    // BHD 1.005 (1005 fils) at 10 % = 100.5 fils → 101 fils.
    const bhd = composeInvoice({ currency: 'BHD', planLines: [{ description: 'Plan', amountMinor: 1005n }], usageLines: [], availableCreditMinor: 0n, applyCredits: false, taxRates: [{ name: 'VAT', percentage: '10' }] });
    assert.equal(bhd.taxMinor, 101n);
    assert.equal(bhd.totalMinor, 1106n);
  });

  it('credits are a payment: tax on the full price, credits applied after tax', () => {
    const invoice = composeInvoice({
      currency: 'EUR',
      planLines: [{ description: 'Plan', amountMinor: 10_000n }],
      usageLines: [],
      availableCreditMinor: 11_000n,
      applyCredits: true,
      taxRates: [{ name: 'TVA', percentage: '20' }],
    });
    assert.equal(invoice.subtotalMinor, 10_000n);
    assert.equal(invoice.taxMinor, 2_000n);
    assert.equal(invoice.creditsAppliedMinor, 11_000n);
    assert.equal(invoice.totalMinor, 1_000n);
  });
});

describe('tax ids', () => {
  it('types are Stripe types', () => {
    assert.equal(isTaxIdType('eu_vat'), true);
    assert.equal(isTaxIdType('us_ein'), true);
    assert.equal(isTaxIdType('vat'), false);
  });

  it('status: valid, invalid, unchecked, none', () => {
    assert.equal(taxIdStatus({ taxId: null, taxIdType: null, country: 'DE' }), 'none');
    assert.equal(taxIdStatus({ taxId: 'DE136695976', taxIdType: null, country: 'DE' }), 'valid');
    assert.equal(taxIdStatus({ taxId: 'DE136695977', taxIdType: null, country: 'DE' }), 'invalid');
    assert.equal(taxIdStatus({ taxId: 'anything', taxIdType: 'eu_vat', country: null }), 'invalid');
    assert.equal(taxIdStatus({ taxId: 'EL094259216', taxIdType: 'eu_vat', country: 'GR' }), 'valid');
    assert.equal(taxIdStatus({ taxId: 'GB980780684', taxIdType: 'gb_vat', country: 'GB' }), 'valid');
    assert.equal(taxIdStatus({ taxId: '12-3456789', taxIdType: 'us_ein', country: 'US' }), 'unchecked');
    assert.equal(taxIdStatus({ taxId: '12-3456789', taxIdType: null, country: 'US' }), 'unchecked');
  });

  it('an untyped id counts as eu_vat for an EU customer only', () => {
    assert.equal(effectiveTaxIdType({ taxId: 'x', taxIdType: null, country: 'FR' }), 'eu_vat');
    assert.equal(effectiveTaxIdType({ taxId: 'x', taxIdType: null, country: 'US' }), null);
    assert.equal(hasValidEuVatId({ taxId: 'DE136695976', taxIdType: null, country: 'FR' }), false, 'valid but of another country');
  });
});
