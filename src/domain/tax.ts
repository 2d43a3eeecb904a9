/**
 * The tax rule: which rates apply to an invoice, and how much tax they make. Pure; decided at issue from the
 * bill-to snapshot.
 *
 * - A rate applies when it is configured for the customer's country and either has no region (the whole country) or
 *   names the customer's region (by its code, `NY`, or its name, `New York`). Every rate that applies is charged
 *   (a country rate and a regional one add up). No rate configured for the country: no tax.
 * - Reverse charge: the seller is in the EU and the customer is in another EU member state with a VAT id (type
 *   `eu_vat`, or no type) valid for that country by format and check digits: no VAT, and the invoice carries the
 *   reverse-charge mention. Without a valid VAT id, the customer's country's rates apply.
 * - Amounts: the tax of each rate is computed on the taxable total of the invoice's lines (integer minor units)
 *   times the rate, in exact decimal arithmetic (bigint, the percentage scaled by 10^4), rounded half away from zero
 *   to the currency's minor unit. Credits are a payment: they are applied after tax, so the taxable total is the
 *   full price.
 */
import { divideRounded } from './money.js';
import { hasValidEuVatId, isEuMemberState, type CustomerTaxId } from './tax-ids.js';

export const REVERSE_CHARGE_MENTION =
  'Reverse charge: VAT to be accounted for by the recipient (Article 196, Council Directive 2006/112/EC)';

export interface TaxRate {
  code: string;
  /** ISO 3166-1 alpha-2 */
  country: string;
  /** A state or province code (`NY`), or null for the whole country. */
  region: string | null;
  /** A decimal string with up to 4 decimals: "20", "8.875". */
  percentage: string;
  name: string;
}

export interface TaxCustomer extends CustomerTaxId {
  /** The state or province as entered (a code or a name), or null. */
  region: string | null;
}

export type TaxDecision =
  | { kind: 'none' }
  | { kind: 'reverse_charge' }
  | { kind: 'rates'; rates: TaxRate[] };

/** One rate's tax on an invoice (or credit note): a copy of the rate's name and percentage, its base and amount. */
export interface TaxLine {
  name: string;
  percentage: string;
  taxableMinor: bigint;
  taxMinor: bigint;
}

const PERCENTAGE_SCALE = 10_000n;
const percentagePattern = /^(\d{1,3})(?:\.(\d{1,4}))?$/;

/** "8.875" → 88750n (the percentage × 10^4), or null when it is not a decimal with up to 4 decimals in 0..100. */
export function parsePercentage(value: string): bigint | null {
  const match = percentagePattern.exec(value);
  if (!match) return null;
  const scaled = BigInt(match[1]!) * PERCENTAGE_SCALE + BigInt((match[2] ?? '').padEnd(4, '0'));
  return scaled > 100n * PERCENTAGE_SCALE ? null : scaled;
}

/** "8.8750" → "8.875", "20.0" → "20": one spelling per percentage. */
export function normalizePercentage(value: string): string | null {
  const scaled = parsePercentage(value);
  if (scaled === null) return null;
  const whole = scaled / PERCENTAGE_SCALE;
  const fraction = (scaled % PERCENTAGE_SCALE).toString().padStart(4, '0').replace(/0+$/, '');
  return fraction === '' ? whole.toString() : `${whole}.${fraction}`;
}

/** The tax of `percentage` on `taxableMinor`, rounded half away from zero to the minor unit. */
export function taxOn(taxableMinor: bigint, percentage: string): bigint {
  const scaled = parsePercentage(percentage);
  if (scaled === null) throw new RangeError(`not a tax percentage: ${percentage}`);
  return divideRounded(taxableMinor * scaled, 100n * PERCENTAGE_SCALE);
}

/** US states and Canadian provinces: a region matches its code or its name. */
const regionNames: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  US: {
    AL: 'Alabama', AK: 'Alaska', AZ: 'Arizona', AR: 'Arkansas', CA: 'California', CO: 'Colorado', CT: 'Connecticut',
    DE: 'Delaware', DC: 'District of Columbia', FL: 'Florida', GA: 'Georgia', HI: 'Hawaii', ID: 'Idaho', IL: 'Illinois',
    IN: 'Indiana', IA: 'Iowa', KS: 'Kansas', KY: 'Kentucky', LA: 'Louisiana', ME: 'Maine', MD: 'Maryland',
    MA: 'Massachusetts', MI: 'Michigan', MN: 'Minnesota', MS: 'Mississippi', MO: 'Missouri', MT: 'Montana',
    NE: 'Nebraska', NV: 'Nevada', NH: 'New Hampshire', NJ: 'New Jersey', NM: 'New Mexico', NY: 'New York',
    NC: 'North Carolina', ND: 'North Dakota', OH: 'Ohio', OK: 'Oklahoma', OR: 'Oregon', PA: 'Pennsylvania',
    RI: 'Rhode Island', SC: 'South Carolina', SD: 'South Dakota', TN: 'Tennessee', TX: 'Texas', UT: 'Utah',
    VT: 'Vermont', VA: 'Virginia', WA: 'Washington', WV: 'West Virginia', WI: 'Wisconsin', WY: 'Wyoming',
    PR: 'Puerto Rico',
  },
  CA: {
    AB: 'Alberta', BC: 'British Columbia', MB: 'Manitoba', NB: 'New Brunswick', NL: 'Newfoundland and Labrador',
    NS: 'Nova Scotia', NT: 'Northwest Territories', NU: 'Nunavut', ON: 'Ontario', PE: 'Prince Edward Island',
    QC: 'Quebec', SK: 'Saskatchewan', YT: 'Yukon',
  },
};

function comparable(value: string): string {
  return value.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').trim().toLowerCase().replace(/[\s.]+/g, ' ');
}

/** Whether the customer's region (a code or a name, as entered) is the rate's region (a code). */
export function regionMatches(country: string, rateRegion: string, customerRegion: string | null): boolean {
  if (customerRegion === null || customerRegion.trim() === '') return false;
  const wanted = comparable(customerRegion);
  if (wanted === comparable(rateRegion)) return true;
  const name = regionNames[country]?.[rateRegion.trim().toUpperCase()];
  return name !== undefined && wanted === comparable(name);
}

/** Which tax applies to an invoice from `sellerCountry` (null: unknown, treated as outside the EU) to `customer`. */
export function decideTax(sellerCountry: string | null, customer: TaxCustomer, rates: readonly TaxRate[]): TaxDecision {
  const country = customer.country?.toUpperCase() ?? null;
  if (country === null) return { kind: 'none' };
  const seller = sellerCountry?.toUpperCase() ?? null;
  if (isEuMemberState(seller) && isEuMemberState(country) && seller !== country && hasValidEuVatId({ ...customer, country })) {
    return { kind: 'reverse_charge' };
  }
  const applicable = rates.filter(
    (rate) => rate.country === country && (rate.region === null || regionMatches(country, rate.region, customer.region)),
  );
  // Country-wide rates first, then regional ones, each by code: a stable order for documents.
  applicable.sort((a, b) => Number(a.region !== null) - Number(b.region !== null) || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
  return applicable.length === 0 ? { kind: 'none' } : { kind: 'rates', rates: applicable };
}

/** One tax line per rate, each on the whole taxable total. */
export function taxLinesFor(taxableMinor: bigint, rates: ReadonlyArray<Pick<TaxRate, 'name' | 'percentage'>>): TaxLine[] {
  return rates.map((rate) => ({ name: rate.name, percentage: rate.percentage, taxableMinor, taxMinor: taxOn(taxableMinor, rate.percentage) }));
}

export function totalTax(lines: readonly TaxLine[]): bigint {
  return lines.reduce((sum, line) => sum + line.taxMinor, 0n);
}
