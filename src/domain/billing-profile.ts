import countries, { type LocaleData } from 'i18n-iso-countries';
import bg from 'i18n-iso-countries/langs/bg.json' with { type: 'json' };
import ca from 'i18n-iso-countries/langs/ca.json' with { type: 'json' };
import cs from 'i18n-iso-countries/langs/cs.json' with { type: 'json' };
import da from 'i18n-iso-countries/langs/da.json' with { type: 'json' };
import de from 'i18n-iso-countries/langs/de.json' with { type: 'json' };
import el from 'i18n-iso-countries/langs/el.json' with { type: 'json' };
import en from 'i18n-iso-countries/langs/en.json' with { type: 'json' };
import es from 'i18n-iso-countries/langs/es.json' with { type: 'json' };
import et from 'i18n-iso-countries/langs/et.json' with { type: 'json' };
import fi from 'i18n-iso-countries/langs/fi.json' with { type: 'json' };
import fr from 'i18n-iso-countries/langs/fr.json' with { type: 'json' };
import ga from 'i18n-iso-countries/langs/ga.json' with { type: 'json' };
import hr from 'i18n-iso-countries/langs/hr.json' with { type: 'json' };
import hu from 'i18n-iso-countries/langs/hu.json' with { type: 'json' };
import it from 'i18n-iso-countries/langs/it.json' with { type: 'json' };
import lt from 'i18n-iso-countries/langs/lt.json' with { type: 'json' };
import lv from 'i18n-iso-countries/langs/lv.json' with { type: 'json' };
import mt from 'i18n-iso-countries/langs/mt.json' with { type: 'json' };
import nb from 'i18n-iso-countries/langs/nb.json' with { type: 'json' };
import nl from 'i18n-iso-countries/langs/nl.json' with { type: 'json' };
import pl from 'i18n-iso-countries/langs/pl.json' with { type: 'json' };
import pt from 'i18n-iso-countries/langs/pt.json' with { type: 'json' };
import ro from 'i18n-iso-countries/langs/ro.json' with { type: 'json' };
import sk from 'i18n-iso-countries/langs/sk.json' with { type: 'json' };
import sl from 'i18n-iso-countries/langs/sl.json' with { type: 'json' };
import sv from 'i18n-iso-countries/langs/sv.json' with { type: 'json' };
import type { FieldError } from '../errors.js';

/**
 * Billing profile field rules shared by every API surface, so that what one surface writes,
 * another reads back unchanged.
 */

/**
 * The languages whose country names a billing country may be written in: English, and the official languages of the
 * European Union with Norwegian and Catalan. The package's Node entry already registers every locale; registering
 * them explicitly keeps this module correct whichever entry point gets resolved.
 */
const otherLocales: LocaleData[] = [bg, ca, cs, da, de, el, es, et, fi, fr, ga, hr, hu, it, lt, lv, mt, nb, nl, pl, pt, ro, sk, sl, sv];
countries.registerLocale(en);
for (const locale of otherLocales) countries.registerLocale(locale);

// ---------------------------------------------------------------------------------------------------
// Contact name: one free-text name ⇄ first name + last name.
// ---------------------------------------------------------------------------------------------------

export interface ContactNameParts {
  firstName: string | null;
  lastName: string | null;
}

/**
 * Trim, then split at the FIRST space (U+0020): first = before it, last = everything after it, kept as is
 * (inner spaces included). One word → { first: word, last: null }; null, empty or blank → both null.
 * Lossless: joinContactName(split.firstName, split.lastName) === name.trim() (null when that is empty).
 */
export function splitContactName(name: string | null): ContactNameParts {
  if (name === null) return { firstName: null, lastName: null };
  const trimmed = name.trim();
  if (trimmed === '') return { firstName: null, lastName: null };
  const space = trimmed.indexOf(' ');
  if (space === -1) return { firstName: trimmed, lastName: null };
  return { firstName: trimmed.slice(0, space), lastName: trimmed.slice(space + 1) };
}

/**
 * The present parts joined by exactly one space; a part is absent when null, empty or blank.
 * Parts are not trimmed or otherwise changed. Both absent → null.
 */
export function joinContactName(firstName: string | null, lastName: string | null): string | null {
  const parts = [firstName, lastName].filter((p): p is string => p !== null && p.trim() !== '');
  return parts.length === 0 ? null : parts.join(' ');
}

// ---------------------------------------------------------------------------------------------------
// Address: one free-text address ⇄ line1 + line2.
// ---------------------------------------------------------------------------------------------------

export interface AddressLines {
  line1: string | null;
  line2: string | null;
}

/**
 * Split at the FIRST '\n': line1 = before it (null when empty), line2 = everything after it, as is
 * (it may contain more newlines, or be '' for a trailing newline). No newline → line2 null.
 * null or '' → both null. Nothing is trimmed ('\r' of a CRLF stays at the end of line1).
 * Lossless: joinAddress(split.line1, split.line2) === (address || null) for every string.
 */
export function splitAddress(address: string | null): AddressLines {
  if (address === null || address === '') return { line1: null, line2: null };
  const newline = address.indexOf('\n');
  if (newline === -1) return { line1: address, line2: null };
  const line1 = address.slice(0, newline);
  return { line1: line1 === '' ? null : line1, line2: address.slice(newline + 1) };
}

/**
 * line2 null → line1 (null when line1 is null or ''); otherwise `${line1 ?? ''}\n${line2}`.
 * Lossless: splitAddress(joinAddress(l1, l2)) gives back (l1, l2) whenever l1 is null or a non-empty
 * string without '\n' (l2 may be anything). Pass null, not '', for an absent line2: '' is kept and
 * yields a trailing newline.
 */
export function joinAddress(line1: string | null, line2: string | null): string | null {
  if (line2 === null) return line1 === null || line1 === '' ? null : line1;
  return `${line1 ?? ''}\n${line2}`;
}

// ---------------------------------------------------------------------------------------------------
// Country.
// ---------------------------------------------------------------------------------------------------

/** Lower case, no diacritics, one kind of apostrophe, single spaces: for comparing names. */
function foldName(value: string): string {
  return value
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/[\u2018\u2019\u02BC`]/g, "'")
    .replace(/\s+/g, ' ')
    .trim()
    .toLowerCase();
}

const allEnglishNames = countries.getNames('en', { select: 'all' });

/** folded name → the alpha-2 codes that use it (more than one when ambiguous, e.g. 'Congo'). */
const codesByFoldedName = new Map<string, Set<string>>();
for (const [alpha2, names] of Object.entries(allEnglishNames)) {
  for (const name of names) {
    const folded = foldName(name);
    const codes = codesByFoldedName.get(folded) ?? new Set<string>();
    codes.add(alpha2);
    codesByFoldedName.set(folded, codes);
  }
}

/**
 * folded name in another language → its alpha-2 codes. Consulted only for names English does not know, so a name
 * keeps its English meaning ('Georgia' is GE, whatever it means elsewhere); ambiguous across languages → no code.
 */
const codesByFoldedLocalName = new Map<string, Set<string>>();
for (const locale of otherLocales) {
  for (const [alpha2, names] of Object.entries(countries.getNames(locale.locale, { select: 'all' }))) {
    for (const name of names) {
      const folded = foldName(name);
      if (codesByFoldedName.has(folded)) continue;
      const codes = codesByFoldedLocalName.get(folded) ?? new Set<string>();
      codes.add(alpha2);
      codesByFoldedLocalName.set(folded, codes);
    }
  }
}

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The display name of each country. i18n-iso-countries lists an "official" name first and aliases after
 * it; neither `select: 'official'` ('United States of America') nor `select: 'alias'` ('UK', 'UAE') gives
 * short common names throughout. Rule: the official name, except when the first alias is a shorter form
 * that appears as whole words inside the official name and names no other country — then the alias.
 * So: 'United States', 'United Kingdom', 'Germany', 'China', 'Iran', 'Taiwan', 'Tanzania', 'Russian Federation',
 * 'United Arab Emirates', 'South Korea', 'Republic of the Congo' ('Congo' is ambiguous).
 */
const displayNameByCode = new Map<string, string>();
for (const [alpha2, names] of Object.entries(allEnglishNames)) {
  const official = names[0];
  const alias = names.length > 1 ? names[1] : undefined;
  let chosen = official;
  if (alias !== undefined && alias.length < official.length) {
    const wholeWords = new RegExp(`(^|[^\\p{L}\\p{N}])${escapeRegExp(alias)}($|[^\\p{L}\\p{N}])`, 'u');
    const codes = codesByFoldedName.get(foldName(alias));
    if (wholeWords.test(official) && codes !== undefined && codes.size === 1) chosen = alias;
  }
  displayNameByCode.set(alpha2, chosen);
}

/** 'de', ' DE ' → 'DE'; null unless the input is a valid ISO 3166-1 alpha-2 code. */
export function normalizeCountryCode(input: string): string | null {
  const code = input.trim().toUpperCase();
  if (!/^[A-Z]{2}$/.test(code)) return null;
  return countries.isValid(code) && countries.alpha2ToNumeric(code) !== undefined ? code : null;
}

/**
 * Alpha-2 code from an alpha-2 code, an alpha-3 code or an English name or alias
 * ('United States', 'United States of America', 'USA', 'UK', 'Germany', 'Cote d'Ivoire') or a name in one of the
 * other languages above ('Deutschland', 'Allemagne', 'Alemania'), compared case-, diacritic- and
 * whitespace-insensitively. null when unknown or ambiguous (e.g. 'Congo').
 */
export function countryCodeFromName(name: string): string | null {
  const trimmed = name.trim();
  if (trimmed === '') return null;
  if (/^[A-Za-z]{2}$/.test(trimmed)) {
    const alpha2 = normalizeCountryCode(trimmed);
    if (alpha2 !== null) return alpha2;
  }
  if (/^[A-Za-z]{3}$/.test(trimmed)) {
    const alpha2 = countries.alpha3ToAlpha2(trimmed.toUpperCase());
    if (alpha2 !== undefined) return alpha2;
  }
  const folded = foldName(trimmed);
  const codes = codesByFoldedName.get(folded) ?? codesByFoldedLocalName.get(folded);
  if (codes === undefined || codes.size !== 1) return null;
  const [only] = codes;
  return only;
}

/**
 * English display name of an alpha-2 (or alpha-3) code, case-insensitive: 'US' → 'United States',
 * 'GB' → 'United Kingdom', 'DE' → 'Germany' (see the rule above). countryCodeFromName of the result
 * gives the code back. Throws RangeError for an unknown code (check with normalizeCountryCode first).
 */
export function countryNameFromCode(code: string): string {
  const trimmed = code.trim().toUpperCase();
  const alpha2 = /^[A-Z]{3}$/.test(trimmed) ? countries.alpha3ToAlpha2(trimmed) : trimmed;
  const name = alpha2 === undefined ? undefined : displayNameByCode.get(alpha2);
  if (name === undefined) throw new RangeError('unknown country code');
  return name;
}

// ---------------------------------------------------------------------------------------------------
// E-mail.
// ---------------------------------------------------------------------------------------------------

export const MAX_EMAIL_LENGTH = 254;

/**
 * Pragmatic check, not RFC 5322: at most 254 characters, exactly one '@', no whitespace, a non-empty
 * local part, and a domain with a dot that has no empty label ('a@b.co' yes; 'a@b', 'a@.b', 'a@b.' no).
 * Does not trim: trim before checking and storing.
 */
export function isValidEmail(value: string): boolean {
  if (value.length === 0 || value.length > MAX_EMAIL_LENGTH) return false;
  if (/\s/.test(value)) return false;
  const at = value.indexOf('@');
  if (at === -1 || value.indexOf('@', at + 1) !== -1) return false;
  const local = value.slice(0, at);
  const domain = value.slice(at + 1);
  if (local.length === 0 || !domain.includes('.')) return false;
  return domain.split('.').every((label) => label.length > 0);
}

// ---------------------------------------------------------------------------------------------------
// Field values: limits and normalisation of the profile's and the billing addresses' text fields.
// ---------------------------------------------------------------------------------------------------

export interface TextFieldRule {
  /** The longest value the core accepts; a surface may document a tighter limit of its own. */
  maxLength: number;
  /** Kept as sent rather than trimmed (a blank value is still cleared): for values a surface joins and splits losslessly. */
  keepSpaces?: boolean;
  /** An ISO 3166-1 alpha-2 code (normalised to upper case), or an e-mail address. */
  kind?: 'country' | 'email';
}

/** The postal address: the profile's (its default billing address) and every billing address's. */
export const postalAddressRules = {
  company: { maxLength: 255 },
  addressLine1: { maxLength: 255 },
  addressLine2: { maxLength: 255 },
  city: { maxLength: 128 },
  state: { maxLength: 128 },
  postalCode: { maxLength: 32 },
  country: { maxLength: 2, kind: 'country' },
} as const satisfies Record<string, TextFieldRule>;

/**
 * Trims (unless the rule keeps spaces), clears blank values, checks the length, the country code and the e-mail
 * format. Fields left out (undefined) stay out; fields are checked in the order of `rules`. Returns the normalised
 * values or every field at fault.
 */
export function normalizeTextFields<Field extends string>(
  values: Partial<Record<Field, string | null>>,
  rules: Record<Field, TextFieldRule>,
): { values: Partial<Record<Field, string | null>>; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const normalized: Partial<Record<Field, string | null>> = {};
  for (const field of Object.keys(rules) as Field[]) {
    const raw = values[field];
    if (raw === undefined) continue;
    const rule = rules[field];
    const value = raw === null ? '' : rule.keepSpaces ? raw : raw.trim();
    if (value.trim() === '') {
      normalized[field] = null;
    } else if (rule.kind === 'country') {
      const code = normalizeCountryCode(value);
      if (code) normalized[field] = code;
      else errors.push({ field, reason: 'invalid_country', message: 'must be an ISO 3166-1 alpha-2 country code' });
    } else if (value.length > rule.maxLength) {
      errors.push({ field, reason: 'max_length', message: `must be at most ${rule.maxLength} characters` });
    } else if (rule.kind === 'email' && !isValidEmail(value)) {
      errors.push({ field, reason: 'format', message: 'must be a valid e-mail address' });
    } else {
      normalized[field] = value;
    }
  }
  return { values: normalized, errors };
}
