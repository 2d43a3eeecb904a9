/** A billing usage report as CSV: one row per line of the report, then a total row. Amounts are exact decimals. */
import { toCsv } from '../../domain/csv.js';
import { toDecimalString } from '../../domain/money.js';
import type { UsageReportLine } from './usage-report-lines.js';

export const USAGE_REPORT_COLUMNS = [
  'organization_id',
  'organization_name',
  'cluster_id',
  'cluster_name',
  'date',
  'metric',
  'description',
  'quantity',
  'unit_price',
  'amount',
  'amount_in_minor_units',
  'currency',
] as const;

const numericColumns = new Set<string>(['quantity', 'unit_price', 'amount', 'amount_in_minor_units']);

export function usageReportCsv(
  organization: { id: string; name: string; currency: string },
  span: { from: Date; to: Date },
  lines: readonly UsageReportLine[],
): string {
  const money = (amountMinor: bigint | null) => (amountMinor === null ? '' : toDecimalString(amountMinor, organization.currency));
  const rows = lines.map((line) => [
    organization.id,
    organization.name,
    line.cluster?.id ?? '',
    line.cluster?.name ?? '',
    line.day,
    line.metric,
    line.description,
    line.quantity?.toString() ?? '',
    money(line.unitPriceMinor),
    money(line.amountMinor),
    line.amountMinor.toString(),
    organization.currency,
  ]);
  const totalMinor = lines.reduce((sum, line) => sum + line.amountMinor, 0n);
  rows.push([
    organization.id,
    organization.name,
    '',
    '',
    '',
    'total',
    `Total from ${span.from.toISOString()} to ${span.to.toISOString()}`,
    '',
    '',
    money(totalMinor),
    totalMinor.toString(),
    organization.currency,
  ]);
  // A byte order mark, so that spreadsheets read the names as UTF-8.
  return '\uFEFF' + toCsv(USAGE_REPORT_COLUMNS, rows, numericColumns);
}
