import { isValidEmail, normalizeCountryCode } from '../../domain/billing-profile.js';
import type { FieldError } from '../../errors.js';
import { profileFieldMaxLength, profileFields, type ProfilePatch } from './billing-profile.js';

/**
 * The rules every surface shares, checked after the surface's own schema: trimmed strings, lengths,
 * e-mail format, ISO 3166-1 alpha-2 country. Returns the normalised patch or the fields at fault.
 */
export function normalizeProfilePatch(patch: ProfilePatch): { patch: ProfilePatch; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const normalized: ProfilePatch = {};
  for (const field of profileFields) {
    const raw = patch[field];
    if (raw === undefined) continue;
    if (raw === null) {
      normalized[field] = null;
      continue;
    }
    const value = field === 'contactLastName' || field === 'addressLine2' ? raw : raw.trim();
    if (value.trim() === '') {
      normalized[field] = null;
      continue;
    }
    if (field === 'country') {
      const code = normalizeCountryCode(value);
      if (!code) {
        errors.push({ field, reason: 'invalid_country', message: 'must be an ISO 3166-1 alpha-2 country code' });
      } else {
        normalized[field] = code;
      }
      continue;
    }
    if (value.length > profileFieldMaxLength[field]) {
      errors.push({ field, reason: 'max_length', message: `must be at most ${profileFieldMaxLength[field]} characters` });
      continue;
    }
    if (field === 'email' && !isValidEmail(value)) {
      errors.push({ field, reason: 'format', message: 'must be a valid e-mail address' });
      continue;
    }
    normalized[field] = value;
  }
  return { patch: normalized, errors };
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
