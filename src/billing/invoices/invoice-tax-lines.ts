/** Tax lines as stored in jsonb (invoices and credit notes): amounts as strings of minor units, read back field by field. */
import type { TaxLine } from '../../domain/tax.js';
import { fieldOf } from '../../jobs/job-payload.js';

interface StoredTaxLine {
  name: string;
  percentage: string;
  taxableMinor: string;
  taxMinor: string;
}

export function storedTaxLines(lines: readonly TaxLine[]): StoredTaxLine[] {
  return lines.map((line) => ({
    name: line.name,
    percentage: line.percentage,
    taxableMinor: line.taxableMinor.toString(),
    taxMinor: line.taxMinor.toString(),
  }));
}

function minorOf(value: unknown): bigint {
  return typeof value === 'string' && /^-?\d+$/.test(value) ? BigInt(value) : 0n;
}

export function toTaxLines(value: unknown): TaxLine[] {
  if (!Array.isArray(value)) return [];
  return value.map((item: unknown) => ({
    name: String(fieldOf(item, 'name') ?? ''),
    percentage: String(fieldOf(item, 'percentage') ?? '0'),
    taxableMinor: minorOf(fieldOf(item, 'taxableMinor')),
    taxMinor: minorOf(fieldOf(item, 'taxMinor')),
  }));
}
