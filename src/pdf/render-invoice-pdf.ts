import PDFDocument from 'pdfkit';
import { formatMoney } from '../domain/money.js';
import type { InvoiceDocument } from './invoice-document.js';

/**
 * Renders an invoice as an A4 PDF with pdfkit's built-in Helvetica fonts (no font files).
 *
 * Deterministic: the same document renders the same bytes. pdfkit derives the trailer /ID from an
 * MD5 of the info dictionary, and we pin `CreationDate` to the issue date, so nothing depends on
 * the wall clock or on randomness. (Content streams are deflated by zlib, which is deterministic
 * for a given zlib build.)
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

/** Table columns: description (wraps), quantity and amount (right-aligned). */
const COL_DESCRIPTION_X = MARGIN;
const COL_DESCRIPTION_WIDTH = 300;
const COL_QUANTITY_X = 360;
const COL_QUANTITY_WIDTH = 70;
const COL_AMOUNT_X = 435;
const COL_AMOUNT_WIDTH = CONTENT_RIGHT - COL_AMOUNT_X;
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

/** PAID → "Paid", NOT_PAID → "Not paid". */
function formatStatus(status: string): string {
  const words = status.trim().replace(/_+/g, ' ').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function nonEmpty(value: string | null | undefined): value is string {
  return value != null && value.trim() !== '';
}

export async function renderInvoicePdf(doc: InvoiceDocument): Promise<Buffer> {
  const pdf = new PDFDocument({
    size: PAGE_SIZE,
    margin: MARGIN,
    bufferPages: true, // to write "Page i of n" footers once the page count is known
    pdfVersion: '1.4',
    info: {
      Title: toWinAnsi(`${doc.title ?? 'Invoice'} ${doc.number}`),
      Author: toWinAnsi(doc.seller.name),
      Producer: 'Bursar',
      Creator: 'Bursar',
      CreationDate: doc.issuedAt,
    },
  });

  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    pdf.on('data', (chunk: Buffer) => chunks.push(chunk));
    pdf.on('end', () => resolve(Buffer.concat(chunks)));
    pdf.on('error', reject);
  });

  const money = (amountMinor: bigint): string => toWinAnsi(formatMoney(amountMinor, doc.currency));
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
  const rule = (y: number, color = RULE_COLOR, x1 = MARGIN, x2 = CONTENT_RIGHT): void => {
    pdf.moveTo(x1, y).lineTo(x2, y).lineWidth(0.5).strokeColor(color).stroke();
  };

  // ---- Header: title and invoice facts ----
  const title = doc.title ?? 'Invoice';
  text(title, MARGIN, MARGIN, { font: FONT_BOLD, size: 24 });
  const facts: Array<[string, string]> = [
    [`${title} number`, doc.number],
    ...(nonEmpty(doc.reference) ? [['Invoice', doc.reference] as [string, string]] : []),
    ['Issue date', formatDate(doc.issuedAt)],
    ['Billing period', `${formatDate(doc.periodStart)} to ${formatDate(doc.periodEnd)}`],
    ['Due date', doc.dueAt ? formatDate(doc.dueAt) : '-'],
    ['Status', formatStatus(doc.status)],
  ];
  let factsY = MARGIN + 2;
  for (const [label, value] of facts) {
    text(label, 320, factsY, { width: 90, color: MUTED_COLOR });
    const height = text(value, 410, factsY, { width: CONTENT_RIGHT - 410, font: FONT_BOLD });
    factsY += Math.max(height, 12) + 2;
  }

  // ---- Parties: seller (left) and bill-to (right) ----
  const partiesY = Math.max(factsY, MARGIN + 40) + 24;
  const blockWidth = 230;

  let sellerY = partiesY;
  sellerY += text('From', MARGIN, sellerY, { width: blockWidth, color: MUTED_COLOR, size: 8.5 }) + 3;
  sellerY += text(doc.seller.name, MARGIN, sellerY, { width: blockWidth, font: FONT_BOLD });
  for (const line of doc.seller.addressLines.filter(nonEmpty)) sellerY += text(line, MARGIN, sellerY, { width: blockWidth });
  if (nonEmpty(doc.seller.taxId)) sellerY += text(`VAT: ${doc.seller.taxId}`, MARGIN, sellerY, { width: blockWidth });
  if (nonEmpty(doc.seller.email)) sellerY += text(doc.seller.email, MARGIN, sellerY, { width: blockWidth });

  const billX = 320;
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
  if (nonEmpty(billTo.taxId)) billY += text(`VAT: ${billTo.taxId}`, billX, billY, { width: billWidth });

  // ---- Lines table ----
  const tableHeader = (y: number): number => {
    text('Description', COL_DESCRIPTION_X, y, { width: COL_DESCRIPTION_WIDTH, font: FONT_BOLD, size: 8.5, color: MUTED_COLOR });
    text('Quantity', COL_QUANTITY_X, y, { width: COL_QUANTITY_WIDTH, align: 'right', font: FONT_BOLD, size: 8.5, color: MUTED_COLOR });
    text('Amount', COL_AMOUNT_X, y, { width: COL_AMOUNT_WIDTH, align: 'right', font: FONT_BOLD, size: 8.5, color: MUTED_COLOR });
    const bottom = y + 14;
    rule(bottom, TEXT_COLOR);
    return bottom + ROW_PADDING;
  };
  const newPage = (): number => {
    pdf.addPage();
    return MARGIN;
  };

  let y = tableHeader(Math.max(sellerY, billY) + 30);
  pdf.font(FONT).fontSize(BODY_SIZE);
  const lineHeight = pdf.currentLineHeight(true);
  for (const line of doc.lines) {
    // A row must fit on one page (pdfkit would otherwise break inside it): cap pathological descriptions.
    const description =
      line.description.length > MAX_DESCRIPTION_LENGTH
        ? `${line.description.slice(0, MAX_DESCRIPTION_LENGTH)}\u2026`
        : line.description;
    const quantity = nonEmpty(line.quantity) ? toWinAnsi(line.quantity) : '';
    const amount = money(line.amountMinor);
    pdf.font(FONT).fontSize(BODY_SIZE);
    const contentHeight = Math.max(
      lineHeight,
      pdf.heightOfString(toWinAnsi(description), { width: COL_DESCRIPTION_WIDTH }),
      quantity ? pdf.heightOfString(quantity, { width: COL_QUANTITY_WIDTH }) : 0,
      pdf.heightOfString(amount, { width: COL_AMOUNT_WIDTH }),
    );
    const rowHeight = contentHeight + 2 * ROW_PADDING;
    if (y + rowHeight > CONTENT_BOTTOM - 20) y = tableHeader(newPage());
    text(description, COL_DESCRIPTION_X, y, { width: COL_DESCRIPTION_WIDTH });
    if (quantity) text(quantity, COL_QUANTITY_X, y, { width: COL_QUANTITY_WIDTH, align: 'right' });
    text(amount, COL_AMOUNT_X, y, { width: COL_AMOUNT_WIDTH, align: 'right' });
    y += rowHeight - ROW_PADDING;
    rule(y);
    y += ROW_PADDING;
  }

  // ---- Totals ----
  const taxLines = doc.taxLines ?? [];
  const totalsHeight = (3 + taxLines.length) * (lineHeight + 6) + 12 + (nonEmpty(doc.notice) ? 3 * lineHeight : 0);
  if (y + 10 + totalsHeight > CONTENT_BOTTOM - 20) y = newPage();
  y += 10;
  const labelX = 300;
  const labelWidth = COL_AMOUNT_X - labelX - 10;
  const credits = doc.creditsAppliedMinor < 0n ? doc.creditsAppliedMinor : -doc.creditsAppliedMinor;
  const totals: Array<[string, string, boolean]> = [
    ['Subtotal', money(doc.subtotalMinor), false],
    ...taxLines.map(
      (line): [string, string, boolean] => [`${line.name} ${line.percentage}% on ${money(line.taxableMinor)}`, money(line.taxMinor), false],
    ),
    ['Credits applied', money(credits), false],
    ['Total', money(doc.totalMinor), true],
  ];
  for (const [label, value, strong] of totals) {
    if (strong) {
      rule(y - 3, TEXT_COLOR, labelX, CONTENT_RIGHT);
      y += 3;
    }
    const size = strong ? 11 : BODY_SIZE;
    const font = strong ? FONT_BOLD : FONT;
    const labelHeight = text(label, labelX, y, { width: labelWidth, align: 'right', font, size });
    const height = text(value, COL_AMOUNT_X, y, { width: COL_AMOUNT_WIDTH, align: 'right', font, size });
    // A long label (a tax line with its base) may wrap.
    y += Math.max(height, labelHeight) + 6;
  }
  if (nonEmpty(doc.notice)) text(doc.notice, MARGIN, y + 8, { width: CONTENT_RIGHT - MARGIN });

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
