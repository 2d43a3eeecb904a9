import { MAX_EMAIL_LENGTH, normalizeTextFields, postalAddressRules, type TextFieldRule } from '../../domain/billing-profile.js';
import type { FieldError } from '../../errors.js';
import { isTaxIdType } from '../../domain/tax-ids.js';
import type { ProfileField, ProfilePatch } from './billing-profile.js';

/** In the order of `profileFields`, the order in which errors name the fields. */
const profileRules: Record<ProfileField, TextFieldRule> = {
  contactFirstName: { maxLength: 255 },
  // Kept as sent: seed 002's one contact name is split at its first space and joined back with one.
  contactLastName: { maxLength: 255, keepSpaces: true },
  email: { maxLength: MAX_EMAIL_LENGTH, kind: 'email' },
  companyName: postalAddressRules.company,
  addressLine1: postalAddressRules.addressLine1,
  // Kept as sent: seed 000's one `address` is split at its first newline and joined back losslessly.
  addressLine2: { ...postalAddressRules.addressLine2, keepSpaces: true },
  city: postalAddressRules.city,
  state: postalAddressRules.state,
  postalCode: postalAddressRules.postalCode,
  country: postalAddressRules.country,
  taxId: { maxLength: 64 },
  taxIdType: { maxLength: 32 },
};

/**
 * The rules every surface shares, checked after the surface's own schema: trimmed strings, lengths,
 * e-mail format, ISO 3166-1 alpha-2 country. Returns the normalised patch or the fields at fault.
 */
export function normalizeProfilePatch(patch: ProfilePatch): { patch: ProfilePatch; errors: FieldError[] } {
  const { values, errors } = normalizeTextFields(patch, profileRules);
  const taxIdType = values.taxIdType;
  if (typeof taxIdType === 'string' && !isTaxIdType(taxIdType) && !errors.some((error) => error.field === 'taxIdType')) {
    errors.push({
      field: 'taxIdType',
      reason: 'enum',
      message: `must be one of the payment provider's tax id types (eu_vat, gb_vat, us_ein, ch_vat, au_abn, ca_bn, in_gst, …)`,
    });
  }
  return { patch: values, errors };
}

export const slugPattern = /^[a-z0-9][a-z0-9-]*$/;

export function validateOrganizationName(name: string): FieldError | null {
  const trimmed = name.trim();
  if (trimmed.length < 1 || trimmed.length > 100) {
    return { field: 'name', reason: 'length', message: 'must be 1 to 100 characters' };
  }
  return null;
}

export function validateSlug(slug: string): FieldError | null {
  if (slug.length < 1 || slug.length > 64 || !slugPattern.test(slug)) {
    return {
      field: 'slug',
      reason: 'pattern',
      message: 'must be 1 to 64 characters of a-z, 0-9 and "-", starting with a letter or digit',
    };
  }
  return null;
}

/** A slug made from a name: "Acme Corp." → "acme-corp". */
export function slugFromName(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64)
    .replace(/-+$/, '');
  return slug || 'org';
}
