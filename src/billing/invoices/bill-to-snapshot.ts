/** The bill-to and seller blocks copied into an invoice when it is issued. */
import { countryNameFromCode, joinContactName, normalizeCountryCode } from '../../domain/billing-profile.js';
import type { ProfileValues } from '../profile/billing-profile.js';
import type { BillToSnapshot, SellerSnapshot } from './invoice.js';
import { presentTrimmed } from '../../domain/present.js';
import type { SellerIdentity } from '../seller/seller.js';

/**
 * What the bill-to block is made of: the profile's contact, e-mail and VAT id, and its default address (and the
 * tax id's type, which the tax rule reads).
 */
export type BillToFields = Pick<
  ProfileValues,
  | 'companyName'
  | 'contactFirstName'
  | 'contactLastName'
  | 'email'
  | 'addressLine1'
  | 'addressLine2'
  | 'city'
  | 'state'
  | 'postalCode'
  | 'country'
  | 'taxId'
  | 'taxIdType'
>;

/**
 * Company, contact name, postal address, country and VAT id of the profile. The billing e-mail is kept only when
 * none of those is set, so that the invoice names its recipient somehow.
 */
export function billToSnapshot(profile: BillToFields): BillToSnapshot {
  const company = presentTrimmed(profile.companyName);
  const contactName = presentTrimmed(joinContactName(profile.contactFirstName, profile.contactLastName));
  const cityLine = [presentTrimmed(profile.postalCode), presentTrimmed(profile.city)].filter((part) => part !== null).join(' ');
  const addressLines = [presentTrimmed(profile.addressLine1), presentTrimmed(profile.addressLine2), presentTrimmed(cityLine), presentTrimmed(profile.state)].filter(
    (line): line is string => line !== null,
  );
  const country = profile.country === null ? null : normalizeCountryCode(profile.country);
  const nothingElse = company === null && contactName === null && addressLines.length === 0 && country === null;
  return {
    company,
    contactName,
    email: nothingElse ? presentTrimmed(profile.email) : null,
    addressLines,
    country,
    countryName: country === null ? null : countryNameFromCode(country),
    taxId: presentTrimmed(profile.taxId),
  };
}

/** The seller's postal lines as the bill-to's: street lines, "postal code city", state; the country beside them. */
export function sellerSnapshot(seller: SellerIdentity): SellerSnapshot {
  const cityLine = [presentTrimmed(seller.postalCode), presentTrimmed(seller.city)].filter((part) => part !== null).join(' ');
  const addressLines = [presentTrimmed(seller.addressLine1), presentTrimmed(seller.addressLine2), presentTrimmed(cityLine), presentTrimmed(seller.state)].filter(
    (line): line is string => line !== null,
  );
  const country = seller.country === null ? null : normalizeCountryCode(seller.country);
  return {
    name: seller.name,
    addressLines,
    country,
    countryName: country === null ? null : countryNameFromCode(country),
    taxId: presentTrimmed(seller.taxId),
    email: presentTrimmed(seller.email),
  };
}
