/**
 * CSV as spreadsheets open it (RFC 4180): comma-separated, CRLF line ends, a field quoted when it holds a comma, a
 * quote or a line break. Text a spreadsheet would run as a formula (starting with =, +, -, @, tab or CR) is prefixed
 * with an apostrophe; numbers are passed as `number`-like strings in `numericColumns` and left alone.
 */
const needsQuotes = /[",\r\n]/;
const formulaStart = /^[=+\-@\t\r]/;

export function csvField(value: string, numeric = false): string {
  const text = !numeric && formulaStart.test(value) ? `'${value}` : value;
  return needsQuotes.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The whole document: a header row, then the rows; `numericColumns` name the columns that hold numbers. */
export function toCsv(header: readonly string[], rows: ReadonlyArray<ReadonlyArray<string>>, numericColumns: ReadonlySet<string>): string {
  const numeric = header.map((name) => numericColumns.has(name));
  const lines = [header.map((name) => csvField(name)).join(',')];
  for (const row of rows) lines.push(row.map((value, index) => csvField(value, numeric[index])).join(','));
  return lines.join('\r\n') + '\r\n';
}
