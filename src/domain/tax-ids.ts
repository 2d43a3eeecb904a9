/**
 * Customers' tax ids: the types the payment provider knows (Stripe's list, in one place), whether an id is
 * well-formed for its type (EU VAT ids by format and check digits, with jsvat), and the EU member states.
 * Seed 002 accepts any VAT string: it is kept as entered, and only a well-formed id qualifies for reverse charge.
 */
import { checkVAT, countries as vatCountries, norway, switzerland, unitedKingdom, type Country as VatCountry } from 'jsvat';

/** Stripe's tax id types (`customer.tax_ids[].type`); `billing_tax_id_type` must be one of them. */
export const taxIdTypes = [
  'ad_nrt', 'ae_trn', 'al_tin', 'am_tin', 'ao_tin', 'ar_cuit', 'au_abn', 'au_arn', 'aw_tin', 'az_tin', 'ba_tin', 'bb_tin',
  'bd_bin', 'bf_ifu', 'bg_uic', 'bh_vat', 'bj_ifu', 'bo_tin', 'br_cnpj', 'br_cpf', 'bs_tin', 'by_tin', 'ca_bn', 'ca_gst_hst',
  'ca_pst_bc', 'ca_pst_mb', 'ca_pst_sk', 'ca_qst', 'cd_nif', 'ch_uid', 'ch_vat', 'cl_tin', 'cm_niu', 'cn_tin', 'co_nit',
  'cr_tin', 'cv_nif', 'de_stn', 'do_rcn', 'ec_ruc', 'eg_tin', 'es_cif', 'et_tin', 'eu_oss_vat', 'eu_vat', 'gb_vat', 'ge_vat',
  'gn_nif', 'hk_br', 'hr_oib', 'hu_tin', 'id_npwp', 'il_vat', 'in_gst', 'is_vat', 'jp_cn', 'jp_rn', 'jp_trn', 'ke_pin',
  'kg_tin', 'kh_tin', 'kr_brn', 'kz_bin', 'la_tin', 'li_uid', 'li_vat', 'ma_vat', 'md_vat', 'me_pib', 'mk_vat', 'mr_nif',
  'mx_rfc', 'my_frp', 'my_itn', 'my_sst', 'ng_tin', 'no_vat', 'no_voec', 'np_pan', 'nz_gst', 'om_vat', 'pe_ruc', 'ph_tin',
  'ro_tin', 'rs_pib', 'ru_inn', 'ru_kpp', 'sa_vat', 'sg_gst', 'sg_uen', 'si_tin', 'sn_ninea', 'sr_fin', 'sv_nit', 'th_vat',
  'tj_tin', 'tr_tin', 'tw_vat', 'tz_vat', 'ua_vat', 'ug_tin', 'us_ein', 'uy_ruc', 'uz_tin', 'uz_vat', 've_rif', 'vn_tin',
  'za_vat', 'zm_tin', 'zw_tin',
] as const;
export type TaxIdType = (typeof taxIdTypes)[number];

const knownTaxIdTypes: ReadonlySet<string> = new Set(taxIdTypes);

export function isTaxIdType(value: string): value is TaxIdType {
  return knownTaxIdTypes.has(value);
}

/** The EU member states (ISO 3166-1 alpha-2). */
export const euMemberStates: ReadonlySet<string> = new Set([
  'AT', 'BE', 'BG', 'HR', 'CY', 'CZ', 'DK', 'EE', 'FI', 'FR', 'DE', 'GR', 'HU', 'IE', 'IT', 'LV', 'LT', 'LU', 'MT', 'NL',
  'PL', 'PT', 'RO', 'SK', 'SI', 'ES', 'SE',
]);

export function isEuMemberState(country: string | null): boolean {
  return country !== null && euMemberStates.has(country.toUpperCase());
}

/**
 * `valid`: well-formed for its type (format and check digits where the type has them); `invalid`: not;
 * `unchecked`: a type Bursar has no check for; `none`: no tax id.
 */
export type TaxIdStatus = 'valid' | 'invalid' | 'unchecked' | 'none';

export interface CustomerTaxId {
  taxId: string | null;
  taxIdType: string | null;
  /** The customer's country (ISO 3166-1 alpha-2), when known. */
  country: string | null;
}

/** A tax id entered without a type counts as an EU VAT id for a customer in an EU member state. */
export function effectiveTaxIdType(customer: CustomerTaxId): string | null {
  const type = customer.taxIdType?.trim() || null;
  if (type !== null) return type;
  return isEuMemberState(customer.country) ? 'eu_vat' : null;
}

/** Greece's VAT prefix is EL, not its ISO code. */
function vatPrefixOf(country: string): string {
  return country === 'GR' ? 'EL' : country;
}

function checkWith(value: string, candidates: VatCountry[], country: string | null): boolean {
  const compact = value.replace(/[\s.\-]/g, '').toUpperCase();
  // An id entered without its country prefix is read as the customer's country's.
  const prefixed = /^[A-Z]{2}/.test(compact) || country === null ? compact : vatPrefixOf(country) + compact;
  const result = checkVAT(prefixed, candidates);
  if (!result.isValid) return false;
  return country === null || result.country?.isoCode.short === country;
}

const euVatCountries = vatCountries.filter((candidate) => euMemberStates.has(candidate.codes[0] ?? ''));
const checkedTypes: Readonly<Record<string, VatCountry[]>> = {
  eu_vat: euVatCountries,
  gb_vat: [unitedKingdom],
  ch_vat: [switzerland],
  no_vat: [norway],
};

export function taxIdStatus(customer: CustomerTaxId): TaxIdStatus {
  const taxId = customer.taxId?.trim() || null;
  if (taxId === null) return 'none';
  const type = effectiveTaxIdType(customer);
  const candidates = type === null ? undefined : checkedTypes[type];
  if (candidates === undefined) return 'unchecked';
  // An EU VAT id must be one of the customer's own country when the country is known.
  const country = type === 'eu_vat' && isEuMemberState(customer.country) ? customer.country!.toUpperCase() : null;
  return checkWith(taxId, candidates, country) ? 'valid' : 'invalid';
}

/** A valid EU VAT id of the customer's own (EU) country: what reverse charge requires. */
export function hasValidEuVatId(customer: CustomerTaxId): boolean {
  return isEuMemberState(customer.country) && effectiveTaxIdType(customer) === 'eu_vat' && taxIdStatus(customer) === 'valid';
}
