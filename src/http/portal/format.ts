/** How the billing page writes dates, periods and money: English, UTC (the billing periods are UTC months). */
import { formatMoney } from '../../domain/money.js';

const day = new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', month: 'short', day: 'numeric', year: 'numeric' });
const dayInMonth = new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', month: 'short', day: 'numeric' });

export function formatDay(date: Date): string {
  return day.format(date);
}

/** A period whose end is exclusive, as the days it covers: "Nov 1 – Nov 30, 2026". */
export function formatPeriod(start: Date, endExclusive: Date): string {
  const lastDay = new Date(endExclusive.getTime() - 1);
  const sameYear = start.getUTCFullYear() === lastDay.getUTCFullYear();
  return `${sameYear ? dayInMonth.format(start) : day.format(start)} – ${day.format(lastDay)}`;
}

export function money(amountMinor: bigint, currency: string): string {
  return formatMoney(amountMinor, currency);
}

/** YYYY-MM-DD of a UTC day, the value of a date input. */
export function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

const statusWords: Record<string, string> = {
  PAID: 'Paid',
  NOT_PAID: 'Not paid',
  PAYMENT_DUE: 'Payment due',
  PENDING: 'Pending',
  POSTED: 'Posted',
  UNKNOWN: 'Unknown',
  VOIDED: 'Voided',
};

export function invoiceStatusWords(status: string): string {
  return statusWords[status] ?? status;
}

export function brandName(brand: string): string {
  const names: Record<string, string> = { visa: 'Visa', mastercard: 'Mastercard', amex: 'American Express', discover: 'Discover' };
  return names[brand] ?? brand.charAt(0).toUpperCase() + brand.slice(1);
}
