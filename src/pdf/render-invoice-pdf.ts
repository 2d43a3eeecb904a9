import PDFDocument from 'pdfkit';
import { formatAmountWithCode } from '../domain/money.js';
import { REVERSE_CHARGE_MENTION, type DocumentLinePart, type InvoiceDocument } from './invoice-document.js';

/**
 * Renders an invoice (or a credit note) as an A4 PDF with pdfkit's built-in Helvetica fonts (no font files).
 *
 * Deterministic: the same document renders the same bytes. pdfkit derives the trailer /ID from an
 * MD5 of the info dictionary, which holds only the document's number, kind, seller and issue date
 * (`CreationDate` and `ModDate` pinned to it), so nothing depends on the wall clock or on randomness.
 * (Content streams are deflated by zlib, which is deterministic for a given zlib build.)
 *
 * Helvetica is a standard Type 1 font with WinAnsi encoding: characters it cannot show are
 * replaced with '?' (see `toWinAnsi`) so rendering never fails on user-supplied names.
 */

const PAGE_SIZE = 'A4';
const MARGIN = 50;
/** A4 in PDF points. */
const PAGE_WIDTH = 595.28;
const PAGE_HEIGHT = 841.89;
const CONTENT_RIGHT = PAGE_WIDTH - MARGIN;
const CONTENT_BOTTOM = PAGE_HEIGHT - MARGIN;

const FONT = 'Helvetica';
const FONT_BOLD = 'Helvetica-Bold';
const TEXT_COLOR = '#1a1a1a';
const MUTED_COLOR = '#6b6b6b';
const RULE_COLOR = '#d0d0d0';

/** Table columns: description (wraps), quantity, unit price and amount (right-aligned). */
const COL_DESCRIPTION_X = MARGIN;
const COL_DESCRIPTION_WIDTH = 215;
const COL_QUANTITY_X = 270;
const COL_QUANTITY_WIDTH = 75;
const COL_UNIT_PRICE_X = 350;
const COL_UNIT_PRICE_WIDTH = 85;
const COL_AMOUNT_X = 440;
const COL_AMOUNT_WIDTH = CONTENT_RIGHT - COL_AMOUNT_X;
/** Parts of a line are indented under it, in a smaller muted type. */
const PART_INDENT = 12;
const PART_SIZE = 8.5;
const ROW_PADDING = 5;
const BODY_SIZE = 9.5;
/** About 25 wrapped lines in the description column: a row always fits on a page. */
const MAX_DESCRIPTION_LENGTH = 1500;

/** Code points the WinAnsi encoding maps outside Latin-1 (pdfkit's table), e.g. € – — ' ' " " • … ™. */
const WIN_ANSI_EXTRA = new Set([
  402, 8211, 8212, 8216, 8217, 8218, 8220, 8221, 8222, 8224, 8225, 8226, 8230, 8364, 8240, 8249, 8250, 710, 8482, 338,
  339, 732, 352, 353, 376, 381, 382,
]);

/**
 * Makes a string safe for Helvetica/WinAnsi: NFC-normalises (so "e" + combining accent becomes "é"),
 * turns control characters and exotic spaces into a plain space, U+2212 minus into '-', and every
 * other character WinAnsi cannot show into '?'.
 */
export function toWinAnsi(text: string): string {
  let out = '';
  for (const char of text.normalize('NFC')) {
    const code = char.codePointAt(0)!;
    if ((code >= 0x20 && code <= 0x7e) || (code >= 0xa0 && code <= 0xff) || WIN_ANSI_EXTRA.has(code)) {
      out += char;
    } else if (code < 0x20 || (code >= 0x7f && code < 0xa0) || (code >= 0x2000 && code <= 0x200a) || code === 0x202f || code === 0x205f || code === 0x3000) {
      out += ' ';
    } else if (code === 0x200b || code === 0x200c || code === 0x200d || code === 0xfeff) {
      // zero-width characters: drop
    } else if (code === 0x2212) {
      out += '-';
    } else {
      out += '?';
    }
  }
  return out;
}

/** 2024-05-01, in UTC: billing dates are UTC instants. */
function formatDate(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function nonEmpty(value: string | null | undefined): value is string {
  return value != null && value.trim() !== '';
}

function cappedDescription(description: string): string {
  // A row must fit on one page (pdfkit would otherwise break inside it): cap pathological descriptions.
  return description.length > MAX_DESCRIPTION_LENGTH ? `${description.slice(0, MAX_DESCRIPTION_LENGTH)}\u2026` : description;
}

export async function renderInvoicePdf(doc: InvoiceDocument): Promise<Buffer> {
  const creditNote = doc.kind === 'credit_note';
  const title = creditNote ? 'Credit note' : 'Invoice';
  const pdf = new PDFDocument({
    size: PAGE_SIZE,
    margin: MARGIN,
    bufferPages: true, // to write "Page i of n" footers once the page count is known
    pdfVersion: '1.4',
    info: {
      Title: toWinAnsi(`${title} ${doc.number}`),
      Author: toWinAnsi(doc.seller.name),
      Producer: 'Bursar',
      Creator: 'Bursar',
      CreationDate: doc.issuedAt,
      ModDate: doc.issuedAt,
    },
  });

  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    pdf.on('data', (chunk: Buffer) => chunks.push(chunk));
    pdf.on('end', () => resolve(Buffer.concat(chunks)));
    pdf.on('error', reject);
  });

  const money = (amountMinor: bigint): string => formatAmountWithCode(amountMinor, doc.currency);
  const text = (
    value: string,
    x: number,
    y: number,
    options: { width?: number; align?: 'left' | 'right'; font?: string; size?: number; color?: string } = {},
  ): number => {
    pdf
      .font(options.font ?? FONT)
      .fontSize(options.size ?? BODY_SIZE)
      .fillColor(options.color ?? TEXT_COLOR);
    const safe = toWinAnsi(value);
    const width = options.width ?? CONTENT_RIGHT - x;
    pdf.text(safe, x, y, { width, align: options.align ?? 'left' });
    return pdf.heightOfString(safe, { width });
  };
  const heightOf = (value: string, width: number, size = BODY_SIZE, font = FONT): number => {
    pdf.font(font).fontSize(size);
    return pdf.heightOfString(toWinAnsi(value), { width });
  };
  const rule = (y: number, color = RULE_COLOR, x1 = MARGIN, x2 = CONTENT_RIGHT): void => {
    pdf.moveTo(x1, y).lineTo(x2, y).lineWidth(0.5).strokeColor(color).stroke();
  };
  const newPage = (): number => {
    pdf.addPage();
    return MARGIN;
  };

  // ---- Header: title and document facts ----
  text(title, MARGIN, MARGIN, { font: FONT_BOLD, size: 24, width: 200 });
  const facts: Array<[string, string]> = [[creditNote ? 'Credit note number' : 'Invoice number', doc.number]];
  if (creditNote && nonEmpty(doc.refersToNumber)) facts.push(['Refers to invoice', doc.refersToNumber]);
  facts.push(['Issue date', formatDate(doc.issuedAt)]);
  if (doc.periodStart !== null && doc.periodEnd !== null) {
    facts.push(['Billing period', `${formatDate(doc.periodStart)} to ${formatDate(doc.periodEnd)}`]);
  }
  if (doc.dueAt !== null) facts.push(['Due date', formatDate(doc.dueAt)]);
  facts.push(['Currency', doc.currency]);
  const factsLabelX = 300;
  const factsValueX = 400;
  let factsY = MARGIN + 2;
  for (const [label, value] of facts) {
    text(label, factsLabelX, factsY, { width: factsValueX - factsLabelX - 5, color: MUTED_COLOR });
    const height = text(value, factsValueX, factsY, { width: CONTENT_RIGHT - factsValueX, font: FONT_BOLD });
    factsY += Math.max(height, 12) + 2;
  }

  // ---- Parties: seller (left) and bill-to (right) ----
  const partiesY = Math.max(factsY, MARGIN + 40) + 24;
  const blockWidth = 230;

  const seller = doc.seller;
  let sellerY = partiesY;
  sellerY += text('From', MARGIN, sellerY, { width: blockWidth, color: MUTED_COLOR, size: 8.5 }) + 3;
  sellerY += text(seller.name, MARGIN, sellerY, { width: blockWidth, font: FONT_BOLD });
  for (const line of seller.addressLines.filter(nonEmpty)) sellerY += text(line, MARGIN, sellerY, { width: blockWidth });
  if (nonEmpty(seller.country)) sellerY += text(seller.country, MARGIN, sellerY, { width: blockWidth });
  if (nonEmpty(seller.taxId)) sellerY += text(`Tax ID: ${seller.taxId}`, MARGIN, sellerY, { width: blockWidth });
  if (nonEmpty(seller.email)) sellerY += text(seller.email, MARGIN, sellerY, { width: blockWidth });

  const billX = factsLabelX;
  const billWidth = CONTENT_RIGHT - billX;
  const billTo = doc.billTo;
  const billAddress = billTo.addressLines.filter(nonEmpty);
  // The e-mail stands in for the recipient only when nothing else identifies or locates them.
  const showEmail =
    nonEmpty(billTo.email) && !nonEmpty(billTo.company) && !nonEmpty(billTo.contactName) && billAddress.length === 0 && !nonEmpty(billTo.country);
  let billY = partiesY;
  billY += text('Bill to', billX, billY, { width: billWidth, color: MUTED_COLOR, size: 8.5 }) + 3;
  if (nonEmpty(billTo.company)) billY += text(billTo.company, billX, billY, { width: billWidth, font: FONT_BOLD });
  if (nonEmpty(billTo.contactName)) {
    billY += text(billTo.contactName, billX, billY, { width: billWidth, font: nonEmpty(billTo.company) ? FONT : FONT_BOLD });
  }
  if (showEmail) billY += text(billTo.email!, billX, billY, { width: billWidth, font: FONT_BOLD });
  for (const line of billAddress) billY += text(line, billX, billY, { width: billWidth });
  if (nonEmpty(billTo.country)) billY += text(billTo.country, billX, billY, { width: billWidth });
  if (nonEmpty(billTo.taxId)) billY += text(`Tax ID: ${billTo.taxId}`, billX, billY, { width: billWidth });

  // ---- Lines table ----
  const tableHeader = (y: number): number => {
    const header = { font: FONT_BOLD, size: 8.5, color: MUTED_COLOR };
    text('Description', COL_DESCRIPTION_X, y, { ...header, width: COL_DESCRIPTION_WIDTH });
    text('Quantity', COL_QUANTITY_X, y, { ...header, width: COL_QUANTITY_WIDTH, align: 'right' });
    text('Unit price', COL_UNIT_PRICE_X, y, { ...header, width: COL_UNIT_PRICE_WIDTH, align: 'right' });
    text('Amount', COL_AMOUNT_X, y, { ...header, width: COL_AMOUNT_WIDTH, align: 'right' });
    const bottom = y + 14;
    rule(bottom, TEXT_COLOR);
    return bottom + ROW_PADDING;
  };

  /**
   * One row (a line, or a part indented under its line); returns its height without padding. A line with parts
   * shows its amount only: its parts carry the quantities and unit prices that make it.
   */
  const row = (y: number, line: DocumentLinePart, part: boolean, measureOnly: boolean, hasParts = false): number => {
    const indent = part ? PART_INDENT : 0;
    const size = part ? PART_SIZE : BODY_SIZE;
    const color = part ? MUTED_COLOR : TEXT_COLOR;
    const cells: Array<[string, number, number, 'left' | 'right']> = [
      [cappedDescription(line.description), COL_DESCRIPTION_X + indent, COL_DESCRIPTION_WIDTH - indent, 'left'],
      [nonEmpty(line.quantity) && !hasParts ? line.quantity : '', COL_QUANTITY_X, COL_QUANTITY_WIDTH, 'right'],
      [line.unitPriceMinor == null || hasParts ? '' : money(line.unitPriceMinor), COL_UNIT_PRICE_X, COL_UNIT_PRICE_WIDTH, 'right'],
      [money(line.amountMinor), COL_AMOUNT_X, COL_AMOUNT_WIDTH, 'right'],
    ];
    pdf.font(FONT).fontSize(size);
    const lineHeight = pdf.currentLineHeight(true);
    let height = lineHeight;
    for (const [value, x, width, align] of cells) {
      if (value === '') continue;
      height = Math.max(height, measureOnly ? heightOf(value, width, size) : text(value, x, y, { width, align, size, color }));
    }
    return height;
  };

  let y = tableHeader(Math.max(sellerY, billY) + 30);
  for (const line of doc.lines) {
    const parts = line.parts ?? [];
    // A line and its parts stay on one page.
    const hasParts = parts.length > 0;
    const heights = [row(0, line, false, true, hasParts), ...parts.map((part) => row(0, part, true, true))];
    const blockHeight = heights.reduce((sum, height) => sum + height + 2, 0) + 2 * ROW_PADDING;
    if (y + blockHeight > CONTENT_BOTTOM - 20) y = tableHeader(newPage());
    y += row(y, line, false, false, hasParts) + 2;
    for (const part of parts) y += row(y, part, true, false) + 2;
    y += ROW_PADDING - 2;
    rule(y);
    y += ROW_PADDING;
  }

  // ---- Totals: subtotal, one row per tax rate with its base, credits, total ----
  const totals: Array<{ label: string; value: string; strong?: boolean }> = [{ label: 'Subtotal', value: money(doc.subtotalMinor) }];
  for (const tax of doc.taxLines) {
    totals.push({ label: `${tax.name} ${tax.percentage}% on ${money(tax.taxableMinor)}`, value: money(tax.taxMinor) });
  }
  if (doc.taxLines.length > 1) {
    totals.push({ label: 'Total tax', value: money(doc.taxLines.reduce((sum, tax) => sum + tax.taxMinor, 0n)) });
  }
  if (doc.creditsAppliedMinor !== 0n) {
    const credits = doc.creditsAppliedMinor < 0n ? doc.creditsAppliedMinor : -doc.creditsAppliedMinor;
    totals.push({ label: 'Credits applied', value: money(credits) });
  }
  totals.push({ label: creditNote ? 'Total credited' : 'Total', value: money(doc.totalMinor), strong: true });

  const labelX = 230;
  const labelWidth = COL_AMOUNT_X - labelX - 10;
  const totalsHeight = totals.reduce((sum, total) => sum + heightOf(total.label, labelWidth) + 6, 0) + 12;
  if (y + 10 + totalsHeight > CONTENT_BOTTOM - 20) y = newPage();
  y += 10;
  for (const total of totals) {
    if (total.strong) {
      rule(y - 3, TEXT_COLOR, labelX, CONTENT_RIGHT);
      y += 3;
    }
    const size = total.strong ? 11 : BODY_SIZE;
    const font = total.strong ? FONT_BOLD : FONT;
    const labelHeight = text(total.label, labelX, y, { width: labelWidth, align: 'right', font, size });
    const valueHeight = text(total.value, COL_AMOUNT_X, y, { width: COL_AMOUNT_WIDTH, align: 'right', font, size });
    y += Math.max(labelHeight, valueHeight) + 6;
  }

  // ---- Notes: reverse charge, credit note reason, payment terms ----
  const notes: string[] = [];
  if (doc.reverseCharge) notes.push(REVERSE_CHARGE_MENTION);
  if (creditNote && nonEmpty(doc.reason)) notes.push(`Reason: ${doc.reason}`);
  if (nonEmpty(doc.paymentTerms)) notes.push(`Payment terms: ${doc.paymentTerms}`);
  const notesWidth = CONTENT_RIGHT - MARGIN;
  y += 14;
  for (const note of notes) {
    const height = heightOf(note, notesWidth);
    if (y + height > CONTENT_BOTTOM - 20) y = newPage();
    y += text(note, MARGIN, y, { width: notesWidth }) + 6;
  }

  // ---- Footer on every page ----
  const range = pdf.bufferedPageRange();
  for (let index = range.start; index < range.start + range.count; index++) {
    pdf.switchToPage(index);
    const bottomMargin = pdf.page.margins.bottom;
    pdf.page.margins.bottom = 0; // the footer sits in the margin; keep pdfkit from breaking the page
    text(`${doc.number}  -  Page ${index - range.start + 1} of ${range.count}`, MARGIN, PAGE_HEIGHT - 35, {
      width: CONTENT_RIGHT - MARGIN,
      align: 'right',
      size: 7.5,
      color: MUTED_COLOR,
    });
    pdf.page.margins.bottom = bottomMargin;
  }

  pdf.end();
  return done;
}
