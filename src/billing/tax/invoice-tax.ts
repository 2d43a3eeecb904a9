/** The tax of an invoice at issue: the tax rule applied to the bill-to fields the invoice is issued with. */
import { decideTax, type TaxCustomer, type TaxDecision, type TaxRate } from '../../domain/tax.js';
import { normalizeCountryCode } from '../../domain/billing-profile.js';
import type { BillToFields } from '../invoices/bill-to-snapshot.js';
import { missingSellerTaxIdentity, type SellerTaxIdentity } from './seller-tax-identity.js';

export function taxCustomerOf(billTo: Pick<BillToFields, 'country' | 'state' | 'taxId' | 'taxIdType'>): TaxCustomer {
  return {
    country: billTo.country === null ? null : normalizeCountryCode(billTo.country),
    region: billTo.state,
    taxId: billTo.taxId,
    taxIdType: billTo.taxIdType,
  };
}

/**
 * Which tax applies to the invoice of `billTo`. Throws `seller_tax_identity_missing` when a rate applies (or reverse
 * charge, which names the seller's VAT id) while the seller's country or tax id is unset.
 */
export function invoiceTaxDecision(seller: SellerTaxIdentity, billTo: BillToFields, rates: readonly TaxRate[]): TaxDecision {
  const decision = decideTax(seller.country, taxCustomerOf(billTo), rates);
  if (decision.kind !== 'none') {
    const missing = missingSellerTaxIdentity(seller);
    if (missing !== null) throw missing;
  }
  return decision;
}
