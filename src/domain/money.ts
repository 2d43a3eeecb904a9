/**
 * Money is an integer number of minor units (bigint) beside an ISO 4217 currency code.
 * The number of decimals of a currency comes from ICU (Intl), not from a hand-written table.
 */
export interface Money {
  amountMinor: bigint;
  currency: string;
}

const decimalsCache = new Map<string, number>();

/** ICU's currency list, read once: building it costs more than a whole invoice's arithmetic. */
let knownCurrencies: ReadonlySet<string> | undefined;

export function isKnownCurrency(code: string): boolean {
  if (!/^[A-Z]{3}$/.test(code)) return false;
  try {
    knownCurrencies ??= new Set(Intl.supportedValuesOf('currency'));
    return knownCurrencies.has(code);
  } catch {
    return false;
  }
}

/** Digits after the decimal point for a currency: USD 2, JPY 0, BHD 3. */
export function currencyDecimals(currency: string): number {
  const cached = decimalsCache.get(currency);
  if (cached !== undefined) return cached;
  const digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  decimalsCache.set(currency, digits);
  return digits;
}

/** "12345" minor units of USD → "123.45"; of JPY → "12345"; of BHD → "12.345". Exact, no floats. */
export function toDecimalString(amountMinor: bigint, currency: string): string {
  const decimals = currencyDecimals(currency);
  const negative = amountMinor < 0n;
  const digits = (negative ? -amountMinor : amountMinor).toString().padStart(decimals + 1, '0');
  const whole = digits.slice(0, digits.length - decimals);
  const fraction = decimals > 0 ? '.' + digits.slice(digits.length - decimals) : '';
  return (negative ? '-' : '') + whole + fraction;
}

/**
 * The major-unit number some APIs insist on (`total: 300`). Derived from the exact decimal string,
 * only at the edge of the system; never used for arithmetic.
 */
export function toMajorUnitsNumber(amountMinor: bigint, currency: string): number {
  return Number(toDecimalString(amountMinor, currency));
}

/** A JSON-safe integer for `*_in_cents` fields; refuses values a JSON number cannot hold exactly. */
export function toSafeInteger(amountMinor: bigint): number {
  if (amountMinor > BigInt(Number.MAX_SAFE_INTEGER) || amountMinor < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new RangeError('amount exceeds the range a JSON number holds exactly');
  }
  return Number(amountMinor);
}

function isDecimalLiteral(value: string): value is `${number}` {
  return /^-?\d+(\.\d+)?$/.test(value);
}

/** "$1,234.56", "¥1,235", "BHD 12.345": for documents and e-mails. */
export function formatMoney(amountMinor: bigint, currency: string, locale = 'en-US'): string {
  const decimals = currencyDecimals(currency);
  const formatter = new Intl.NumberFormat(locale, {
    style: 'currency',
    currency,
    minimumFractionDigits: decimals,
    maximumFractionDigits: decimals,
  });
  // Intl formats a decimal string exactly (no float rounding), ES2023.
  const decimal = toDecimalString(amountMinor, currency);
  if (!isDecimalLiteral(decimal)) throw new RangeError(`not a decimal amount: ${decimal}`);
  return formatter.format(decimal);
}

/** Integer division rounding half away from zero: the one rounding rule for prorations and rates. */
export function divideRounded(numerator: bigint, denominator: bigint): bigint {
  if (denominator === 0n) throw new RangeError('division by zero');
  const negative = numerator < 0n !== denominator < 0n;
  const n = numerator < 0n ? -numerator : numerator;
  const d = denominator < 0n ? -denominator : denominator;
  const quotient = (n * 2n + d) / (2n * d);
  return negative ? -quotient : quotient;
}

/**
 * "1,234.56 USD", "150,000 JPY", "12.345 BHD", "-5.00 USD": the amount with its ISO 4217 code, as documents print it
 * (a symbol alone is ambiguous: $ is also CAD, AUD, …). Exact digits, no floats, no locale data.
 */
export function formatAmountWithCode(amountMinor: bigint, currency: string): string {
  const decimal = toDecimalString(amountMinor, currency);
  const negative = decimal.startsWith('-');
  const [whole = '0', fraction] = (negative ? decimal.slice(1) : decimal).split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${negative ? '-' : ''}${grouped}${fraction === undefined ? '' : `.${fraction}`} ${currency}`;
}
