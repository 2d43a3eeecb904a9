/** The bill-to and seller blocks copied into an invoice when it is issued. */
import type { Config } from '../../config.js';
import { countryNameFromCode, joinContactName, normalizeCountryCode } from '../../domain/billing-profile.js';
import type { ProfileValues } from '../profile/billing-profile.js';
import type { BillToSnapshot, SellerSnapshot } from './invoice.js';

function present(value: string | null): string | null {
  return value !== null && value.trim() !== '' ? value.trim() : null;
}

/** What the bill-to block is made of: the profile's contact, e-mail and VAT id, and its default address. */
export type BillToFields = Pick<
  ProfileValues,
  'companyName' | 'contactFirstName' | 'contactLastName' | 'email' | 'addressLine1' | 'addressLine2' | 'city' | 'state' | 'postalCode' | 'country' | 'taxId'
>;

/**
 * Company, contact name, postal address, country and VAT id of the profile. The billing e-mail is kept only when
 * none of those is set, so that the invoice names its recipient somehow.
 */
export function billToSnapshot(profile: BillToFields): BillToSnapshot {
  const company = present(profile.companyName);
  const contactName = present(joinContactName(profile.contactFirstName, profile.contactLastName));
  const cityLine = [present(profile.postalCode), present(profile.city)].filter((part) => part !== null).join(' ');
  const addressLines = [present(profile.addressLine1), present(profile.addressLine2), present(cityLine), present(profile.state)].filter(
    (line): line is string => line !== null,
  );
  const country = profile.country === null ? null : normalizeCountryCode(profile.country);
  const nothingElse = company === null && contactName === null && addressLines.length === 0 && country === null;
  return {
    company,
    contactName,
    email: nothingElse ? present(profile.email) : null,
    addressLines,
    country,
    countryName: country === null ? null : countryNameFromCode(country),
    taxId: present(profile.taxId),
  };
}

export function sellerSnapshot(config: Config): SellerSnapshot {
  return {
    name: config.seller.name,
    addressLines: [...config.seller.addressLines],
    taxId: config.seller.taxId,
    email: config.seller.email,
  };
}
