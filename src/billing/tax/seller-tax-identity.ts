/**
 * The seller's country and tax id, as the tax rule needs them: from the seller identity in the database (set by
 * `PUT /admin/seller`, starting from the `BURSAR_SELLER_*` settings).
 */
import type { Queryable } from '../../db/database.js';
import { BillingError } from '../../errors.js';
import { loadSeller, type Seller } from '../seller/seller.js';

export interface SellerTaxIdentity {
  /** ISO 3166-1 alpha-2, or null while unset. */
  country: string | null;
  taxId: string | null;
}

export function sellerTaxIdentity(seller: Pick<Seller, 'country' | 'taxId'>): SellerTaxIdentity {
  return { country: seller.country, taxId: seller.taxId };
}

export async function loadSellerTaxIdentity(db: Queryable): Promise<SellerTaxIdentity> {
  return sellerTaxIdentity(await loadSeller(db));
}

/** What is missing for an invoice with tax, named so that the operator knows what to set; null when nothing is. */
export function missingSellerTaxIdentity(seller: SellerTaxIdentity): BillingError | null {
  const missing = [
    ...(seller.country === null ? ["the seller's country (PUT /admin/seller, or BURSAR_SELLER_COUNTRY)"] : []),
    ...(seller.taxId === null ? ["the seller's tax id (PUT /admin/seller, or BURSAR_SELLER_TAX_ID)"] : []),
  ];
  if (missing.length === 0) return null;
  return new BillingError(
    'seller_tax_identity_missing',
    409,
    `An invoice with tax cannot be issued while ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not set`,
  );
}
