/**
 * Invoice PDFs rendered per second: Bursar's `renderInvoicePdf` (WinAnsi-safe text, measured wrapping, money
 * formatting, page breaks, "Page i of n" footers) against plain pdfkit drawing the same page (same size, fonts,
 * texts and positions, already formatted) in the same run. The two alternate in short slices so that a busy machine
 * slows both alike.
 */
import PDFDocument from 'pdfkit';
import { formatMoney } from '../src/domain/money.js';
import type { InvoiceDocument } from '../src/pdf/invoice-document.js';
import { renderInvoicePdf } from '../src/pdf/render-invoice-pdf.js';
import { round, type BenchFigure } from './support.js';

const SLICE_MS = 500;
const SLICES = Number(process.env.BENCH_PDF_SLICES ?? 8);

const invoice: InvoiceDocument = {
  number: 'INV-000042',
  issuedAt: new Date('2026-11-01T00:00:05Z'),
  periodStart: new Date('2026-10-01T00:00:00Z'),
  periodEnd: new Date('2026-10-31T23:59:59.999Z'),
  dueAt: new Date('2026-11-08T00:00:05Z'),
  paymentTerms: 'Charged to the card on file at issue; payable within 7 days of the issue date.',
  currency: 'USD',
  seller: {
    name: 'Bursar Cloud GmbH',
    addressLines: ['Hauptstrasse 1', '10115 Berlin'],
    country: 'Germany',
    taxId: 'DE123456789',
    email: 'billing@bursar.test',
  },
  billTo: {
    company: 'Acme SAS',
    contactName: 'Jane Doe',
    email: null,
    addressLines: ['42 Rue de la Paix', '75002 Paris'],
    country: 'France',
    taxId: 'FR12345678901',
  },
  lines: [
    { description: 'Plan Startup (Oct 16 – Oct 31, 2026, prorated)', quantity: '16 of 31 days', unitPriceMinor: 9900n, amountMinor: 5110n },
    { description: 'Cluster production (node-hours)', quantity: '1,000', unitPriceMinor: 25n, amountMinor: 25_000n },
    { description: 'Cluster batch (node-hours, capped at its maximum of 3 nodes)', quantity: '2,500', unitPriceMinor: 20n, amountMinor: 44_640n },
  ],
  subtotalMinor: 74_750n,
  taxLines: [],
  reverseCharge: false,
  creditsAppliedMinor: 0n,
  totalMinor: 74_750n,
};

/** The same page with pdfkit alone: every string already formatted, every position fixed. */
function renderPlain(doc: InvoiceDocument): Promise<Buffer> {
  const pdf = new PDFDocument({ size: 'A4', margin: 50, pdfVersion: '1.4', info: { Title: `Invoice ${doc.number}`, CreationDate: doc.issuedAt } });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    pdf.on('data', (chunk: Buffer) => chunks.push(chunk));
    pdf.on('end', () => resolve(Buffer.concat(chunks)));
    pdf.on('error', reject);
  });
  const money = (amount: bigint) => formatMoney(amount, doc.currency);
  pdf.font('Helvetica-Bold').fontSize(24).text('Invoice', 50, 50);
  const facts = [
    ['Invoice number', doc.number],
    ['Issue date', '2026-11-01'],
    ['Billing period', '2026-10-01 to 2026-10-31'],
    ['Due date', '2026-11-08'],
    ['Status', 'Paid'],
  ];
  facts.forEach(([label, value], index) => {
    pdf.font('Helvetica').fontSize(9.5).fillColor('#6b6b6b').text(label!, 320, 52 + index * 14, { width: 90 });
    pdf.font('Helvetica-Bold').fillColor('#1a1a1a').text(value!, 410, 52 + index * 14, { width: 135 });
  });
  let y = 150;
  pdf.font('Helvetica').fontSize(8.5).fillColor('#6b6b6b').text('From', 50, y).text('Bill to', 320, y);
  pdf.fontSize(9.5).fillColor('#1a1a1a');
  [doc.seller.name, ...doc.seller.addressLines, `VAT: ${doc.seller.taxId}`, doc.seller.email ?? ''].forEach((line, index) =>
    pdf.text(line, 50, y + 14 + index * 12, { width: 230 }),
  );
  [doc.billTo.company ?? '', doc.billTo.contactName ?? '', ...doc.billTo.addressLines, doc.billTo.country ?? '', `VAT: ${doc.billTo.taxId}`].forEach(
    (line, index) => pdf.text(line, 320, y + 14 + index * 12, { width: 225 }),
  );
  y = 260;
  pdf.font('Helvetica-Bold').fontSize(8.5).fillColor('#6b6b6b');
  pdf.text('Description', 50, y, { width: 300 }).text('Quantity', 360, y, { width: 70, align: 'right' }).text('Amount', 435, y, { width: 110, align: 'right' });
  pdf.moveTo(50, y + 14).lineTo(545, y + 14).lineWidth(0.5).strokeColor('#1a1a1a').stroke();
  y += 19;
  pdf.font('Helvetica').fontSize(9.5).fillColor('#1a1a1a');
  for (const line of doc.lines) {
    pdf.text(line.description, 50, y, { width: 300 });
    if (line.quantity) pdf.text(line.quantity, 360, y, { width: 70, align: 'right' });
    pdf.text(money(line.amountMinor), 435, y, { width: 110, align: 'right' });
    y += 21;
    pdf.moveTo(50, y - 5).lineTo(545, y - 5).lineWidth(0.5).strokeColor('#d0d0d0').stroke();
  }
  y += 10;
  for (const [label, value] of [
    ['Subtotal', money(doc.subtotalMinor)],
    ['Credits applied', money(-doc.creditsAppliedMinor)],
    ['Total', money(doc.totalMinor)],
  ]) {
    pdf.text(label!, 300, y, { width: 125, align: 'right' }).text(value!, 435, y, { width: 110, align: 'right' });
    y += 18;
  }
  pdf.fontSize(7.5).fillColor('#6b6b6b').text(`${doc.number}  -  Page 1 of 1`, 50, 790, { width: 495, align: 'right' });
  pdf.end();
  return done;
}

async function renderFor(render: () => Promise<Buffer>, ms: number): Promise<{ count: number; elapsedMs: number; bytes: number }> {
  const started = performance.now();
  let count = 0;
  let bytes = 0;
  while (performance.now() - started < ms) {
    bytes = (await render()).length;
    count += 1;
  }
  return { count, elapsedMs: performance.now() - started, bytes };
}

export async function run(): Promise<BenchFigure[]> {
  // Warm-up: fonts loaded, code compiled.
  await renderFor(() => renderInvoicePdf(invoice), 300);
  await renderFor(() => renderPlain(invoice), 300);
  const totals = { real: { count: 0, ms: 0, bytes: 0 }, plain: { count: 0, ms: 0, bytes: 0 } };
  for (let slice = 0; slice < SLICES; slice++) {
    const real = await renderFor(() => renderInvoicePdf(invoice), SLICE_MS);
    const plain = await renderFor(() => renderPlain(invoice), SLICE_MS);
    totals.real = { count: totals.real.count + real.count, ms: totals.real.ms + real.elapsedMs, bytes: real.bytes };
    totals.plain = { count: totals.plain.count + plain.count, ms: totals.plain.ms + plain.elapsedMs, bytes: plain.bytes };
  }
  const realRate = (totals.real.count / totals.real.ms) * 1000;
  const plainRate = (totals.plain.count / totals.plain.ms) * 1000;
  return [
    {
      name: 'invoice PDF renders (one page, 3 lines)',
      unit: 'PDFs/s',
      value: Math.round(realRate),
      baseline: Math.round(plainRate),
      ratio: round(realRate / plainRate),
      note: `${(1000 / realRate).toFixed(2)} ms vs ${(1000 / plainRate).toFixed(2)} ms each; ${totals.real.bytes} vs ${totals.plain.bytes} bytes`,
    },
  ];
}
