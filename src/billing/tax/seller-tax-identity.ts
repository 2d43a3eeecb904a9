/**
 * The seller's country and tax id, as the tax rule needs them. Read from the `BURSAR_SELLER_*` settings until the
 * seller settings live in the database (then: `loadSeller(db)`), through this one function.
 */
import type { AppContext } from '../../app-context.js';
import type { Queryable } from '../../db/database.js';
import { BillingError } from '../../errors.js';

export interface SellerTaxIdentity {
  /** ISO 3166-1 alpha-2, or null while unset. */
  country: string | null;
  taxId: string | null;
}

export async function loadSellerTaxIdentity(context: AppContext, _db: Queryable): Promise<SellerTaxIdentity> {
  const { country, taxId } = context.config.seller;
  return { country, taxId };
}

/** What is missing for an invoice with tax, named so that the operator knows what to set; null when nothing is. */
export function missingSellerTaxIdentity(seller: SellerTaxIdentity): BillingError | null {
  const missing = [
    ...(seller.country === null ? ["the seller's country (BURSAR_SELLER_COUNTRY)"] : []),
    ...(seller.taxId === null ? ["the seller's tax id (BURSAR_SELLER_TAX_ID)"] : []),
  ];
  if (missing.length === 0) return null;
  return new BillingError(
    'seller_tax_identity_missing',
    409,
    `An invoice with tax cannot be issued while ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not set`,
  );
}
