import cardValidator from 'card-validator';

/**
 * Card detail rules. Pure: the current instant is always passed in.
 *
 * Error messages are constant strings: they never echo the card number, the CVV or any part of them,
 * so they are safe to log and to return to the client.
 */

export type CardField = 'number' | 'cvv' | 'expiry_month' | 'expiry_year';

export interface CardFieldError {
  field: CardField;
  message: string;
}

export interface CardDetailsInput {
  number: string;
  cvv: string;
  expiryMonth: number;
  expiryYear: number;
}

export type CardValidationResult =
  | {
      ok: true;
      /** The card-validator type: 'visa', 'mastercard', 'american-express', … (see brandDisplayName). */
      brand: string;
      last4: string;
      /** The number with spaces and dashes removed: digits only. Never log it. */
      digits: string;
    }
  | { ok: false; errors: CardFieldError[] };

export const CARD_ERROR_MESSAGES = {
  numberCharacters: 'Card number may contain only digits, spaces and dashes.',
  numberMissing: 'Card number is required.',
  numberUnknownBrand: 'Card number does not match a supported card brand.',
  numberInvalid: 'Card number is not valid.',
  cvvMissing: 'Security code (CVV) is required.',
  cvvThree: 'Security code (CVV) must be three digits.',
  cvvFour: 'Security code (CVV) must be four digits for this card brand.',
  cvvThreeOrFour: 'Security code (CVV) must be three or four digits.',
  monthInvalid: 'Expiry month must be a whole number from 1 to 12.',
  yearInvalid: 'Expiry year must be a four-digit year, e.g. 2030.',
  expired: 'The card has expired.',
} as const;

/** Strip spaces (any whitespace) and dashes, the separators people type inside card numbers. */
export function normalizeCardNumber(number: string): string {
  return number.replace(/[\s-]/g, '');
}

function isValidMonth(month: number): boolean {
  return Number.isInteger(month) && month >= 1 && month <= 12;
}

function isValidYear(year: number): boolean {
  return Number.isInteger(year) && year >= 1000 && year <= 9999;
}

/**
 * A card is valid through the last instant of its expiry month (UTC): it is expired from the first
 * instant of the following month on. Throws RangeError for a month outside 1–12 or a year that is not
 * a four-digit integer (validate first with validateCardDetails).
 */
export function isCardExpired(expiryMonth: number, expiryYear: number, now: Date): boolean {
  if (!isValidMonth(expiryMonth)) throw new RangeError('expiry month must be an integer from 1 to 12');
  if (!isValidYear(expiryYear)) throw new RangeError('expiry year must be a four-digit integer');
  const nowMs = now.getTime();
  if (Number.isNaN(nowMs)) throw new RangeError('now is an invalid date');
  // Date.UTC months are 0-based, so `expiryMonth` is the month after the expiry month (12 rolls over).
  const firstInstantAfterExpiry = Date.UTC(expiryYear, expiryMonth, 1);
  return nowMs >= firstInstantAfterExpiry;
}

const BRAND_DISPLAY_NAMES: Readonly<Record<string, string>> = {
  visa: 'VISA',
  mastercard: 'MASTERCARD',
  'american-express': 'AMEX',
  'diners-club': 'DINERS CLUB',
  discover: 'DISCOVER',
  jcb: 'JCB',
  unionpay: 'UNIONPAY',
  maestro: 'MAESTRO',
  elo: 'ELO',
  mir: 'MIR',
  hiper: 'HIPER',
  hipercard: 'HIPERCARD',
};

/** card-validator type → display name ('american-express' → 'AMEX'); anything unmapped is uppercased. */
export function brandDisplayName(type: string): string {
  return Object.hasOwn(BRAND_DISPLAY_NAMES, type) ? BRAND_DISPLAY_NAMES[type] : type.toUpperCase();
}

export function validateCardDetails(input: CardDetailsInput, now: Date): CardValidationResult {
  const errors: CardFieldError[] = [];

  // Number: separators stripped, then Luhn + brand + length by card-validator.
  const digits = normalizeCardNumber(input.number);
  let expectedCvvLengths: number[] = [3, 4];
  let brand: string | null = null;
  if (digits.length === 0) {
    errors.push({ field: 'number', message: CARD_ERROR_MESSAGES.numberMissing });
  } else if (!/^\d+$/.test(digits)) {
    errors.push({ field: 'number', message: CARD_ERROR_MESSAGES.numberCharacters });
  } else {
    const verification = cardValidator.number(digits);
    if (verification.card !== null) {
      expectedCvvLengths = [verification.card.code.size];
    }
    if (verification.isValid && verification.card !== null) {
      brand = verification.card.type;
    } else if (verification.card === null && !verification.isPotentiallyValid) {
      errors.push({ field: 'number', message: CARD_ERROR_MESSAGES.numberUnknownBrand });
    } else {
      errors.push({ field: 'number', message: CARD_ERROR_MESSAGES.numberInvalid });
    }
  }

  // CVV: length per brand (3, or 4 for American Express); 3 or 4 when the brand is unknown.
  const cvv = input.cvv.trim();
  if (cvv.length === 0) {
    errors.push({ field: 'cvv', message: CARD_ERROR_MESSAGES.cvvMissing });
  } else {
    const cvvLength = expectedCvvLengths.length === 1 ? expectedCvvLengths[0] : expectedCvvLengths;
    if (!cardValidator.cvv(cvv, cvvLength).isValid) {
      const message =
        expectedCvvLengths.length !== 1
          ? CARD_ERROR_MESSAGES.cvvThreeOrFour
          : expectedCvvLengths[0] === 4
            ? CARD_ERROR_MESSAGES.cvvFour
            : CARD_ERROR_MESSAGES.cvvThree;
      errors.push({ field: 'cvv', message });
    }
  }

  // Expiry.
  const monthOk = isValidMonth(input.expiryMonth);
  const yearOk = isValidYear(input.expiryYear);
  if (!monthOk) errors.push({ field: 'expiry_month', message: CARD_ERROR_MESSAGES.monthInvalid });
  if (!yearOk) errors.push({ field: 'expiry_year', message: CARD_ERROR_MESSAGES.yearInvalid });
  if (monthOk && yearOk && isCardExpired(input.expiryMonth, input.expiryYear, now)) {
    // A past year is the year's fault; in the current year, the month's.
    const field: CardField = input.expiryYear < now.getUTCFullYear() ? 'expiry_year' : 'expiry_month';
    errors.push({ field, message: CARD_ERROR_MESSAGES.expired });
  }

  if (errors.length > 0 || brand === null) {
    return { ok: false, errors };
  }
  return { ok: true, brand, last4: digits.slice(-4), digits };
}
