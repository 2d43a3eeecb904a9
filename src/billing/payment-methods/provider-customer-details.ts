/** What Bursar tells the payment provider about an organization's customer: built from its billing profile. */
import { joinContactName } from '../../domain/billing-profile.js';
import type { ProviderCustomerDetails } from '../../providers/payments/payment-provider.js';
import type { BillingProfile } from '../profile/billing-profile.js';
import { present } from '../../domain/present.js';
import { decideTax } from '../../domain/tax.js';
import { taxCustomerOf } from '../tax/invoice-tax.js';

/**
 * Name: the company if set, else the contact's name. Address: only when at least one line of it is set. Tax id: the
 * VAT id with its type (the adapter picks the provider's default type when none is recorded). An organization with
 * no details set ends up with the e-mail only (or nothing), which the provider shows as is. Tax exempt: `reverse`
 * when the tax rule gives reverse charge (the seller in the EU, the customer in another member state with a valid VAT id).
 */
export function providerCustomerDetails(profile: BillingProfile, sellerCountry: string | null = null): ProviderCustomerDetails {
  const address = {
    line1: present(profile.addressLine1),
    line2: present(profile.addressLine2),
    city: present(profile.city),
    state: present(profile.state),
    postalCode: present(profile.postalCode),
    country: present(profile.country),
  };
  const taxId = present(profile.taxId);
  return {
    organizationId: profile.organizationId,
    name: present(profile.companyName) ?? present(joinContactName(profile.contactFirstName, profile.contactLastName)),
    email: present(profile.email),
    address: Object.values(address).some((value) => value !== null) ? address : null,
    taxId: taxId === null ? null : { value: taxId, type: present(profile.taxIdType) },
    taxExempt: decideTax(sellerCountry, taxCustomerOf(profile), []).kind === 'reverse_charge' ? 'reverse' : 'none',
  };
}
