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

/** What the postal block of a snapshot is made of, on the profile and on the seller settings alike. */
type PostalFields = Pick<BillToFields, 'addressLine1' | 'addressLine2' | 'city' | 'state' | 'postalCode' | 'country'>;

/** The postal block of both snapshots: street lines, "postal code city", state; the country beside them. */
function postalBlock(fields: PostalFields): Pick<BillToSnapshot, 'addressLines' | 'country' | 'countryName'> {
  const cityLine = [presentTrimmed(fields.postalCode), presentTrimmed(fields.city)].filter((part) => part !== null).join(' ');
  const addressLines = [presentTrimmed(fields.addressLine1), presentTrimmed(fields.addressLine2), presentTrimmed(cityLine), presentTrimmed(fields.state)].filter(
    (line): line is string => line !== null,
  );
  const country = fields.country === null ? null : normalizeCountryCode(fields.country);
  return { addressLines, country, countryName: country === null ? null : countryNameFromCode(country) };
}

/**
 * Company, contact name, postal address, country and VAT id of the profile. The billing e-mail is kept only when
 * none of those is set, so that the invoice names its recipient somehow.
 */
export function billToSnapshot(profile: BillToFields): BillToSnapshot {
  const company = presentTrimmed(profile.companyName);
  const contactName = presentTrimmed(joinContactName(profile.contactFirstName, profile.contactLastName));
  const postal = postalBlock(profile);
  const nothingElse = company === null && contactName === null && postal.addressLines.length === 0 && postal.country === null;
  return {
    company,
    contactName,
    email: nothingElse ? presentTrimmed(profile.email) : null,
    ...postal,
    taxId: presentTrimmed(profile.taxId),
  };
}

/** The seller's postal block is laid out like the bill-to's. */
export function sellerSnapshot(seller: SellerIdentity): SellerSnapshot {
  return {
    name: seller.name,
    ...postalBlock(seller),
    taxId: presentTrimmed(seller.taxId),
    email: presentTrimmed(seller.email),
  };
}
