import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PDFParse } from 'pdf-parse';
import { formatMoney } from '../../src/domain/money.js';
import type { InvoiceDocument } from '../../src/pdf/invoice-document.js';
import { renderInvoicePdf, toWinAnsi } from '../../src/pdf/render-invoice-pdf.js';

function baseDocument(overrides: Partial<InvoiceDocument> = {}): InvoiceDocument {
  return {
    number: 'INV-000042',
    issuedAt: new Date('2024-05-01T09:30:00Z'),
    periodStart: new Date('2024-04-01T00:00:00Z'),
    periodEnd: new Date('2024-04-30T23:59:59Z'),
    dueAt: new Date('2024-05-15T00:00:00Z'),
    status: 'NOT_PAID',
    currency: 'USD',
    seller: {
      name: 'Bursar Billing Ltd',
      addressLines: ['1 Market Street', 'San Francisco, CA 94105'],
      taxId: 'US-98-7654321',
      email: 'billing@bursar.test',
    },
    billTo: {
      company: 'Acme Corporation',
      contactName: 'Jane Doe',
      email: 'jane@acme.test',
      addressLines: ['42 Rue de la Paix', '75002 Paris'],
      country: 'France',
      taxId: 'FR12345678901',
    },
    lines: [
      { description: 'Pro plan (monthly)', quantity: '1', amountMinor: 4900n },
      { description: 'Additional seats', quantity: '12', amountMinor: 123_456_789n },
      { description: 'Goodwill credit', quantity: null, amountMinor: -500n },
    ],
    subtotalMinor: 123_461_689n,
    creditsAppliedMinor: 500n,
    totalMinor: 123_461_189n,
    ...overrides,
  };
}

async function pdfText(pdf: Buffer): Promise<{ text: string; pages: number }> {
  const parser = new PDFParse({ data: new Uint8Array(pdf) });
  try {
    const result = await parser.getText();
    // Intl puts no-break spaces in some currency formats ("BHD 12.345"); compare with plain spaces.
    return { text: result.text.replace(/[\u00a0\u202f]/g, ' '), pages: result.total };
  } finally {
    await parser.destroy();
  }
}

function money(amountMinor: bigint, currency: string): string {
  return formatMoney(amountMinor, currency).replace(/[\u00a0\u202f]/g, ' ');
}

function assertContainsAll(text: string, expected: string[]): void {
  for (const fragment of expected) assert.ok(text.includes(fragment), `PDF text lacks ${JSON.stringify(fragment)}:\n${text}`);
}

describe('renderInvoicePdf', () => {
  it('renders a USD invoice with every part of the document', async () => {
    const doc = baseDocument();
    const pdf = await renderInvoicePdf(doc);
    assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
    const { text, pages } = await pdfText(pdf);
    assert.equal(pages, 1);
    assertContainsAll(text, [
      'Invoice',
      'INV-000042',
      '2024-05-01', // issued
      '2024-04-01', // period start
      '2024-04-30', // period end
      '2024-05-15', // due
      'Not paid',
      'Bursar Billing Ltd',
      '1 Market Street',
      'San Francisco, CA 94105',
      'VAT: US-98-7654321',
      'billing@bursar.test',
      'Bill to',
      'Acme Corporation',
      'Jane Doe',
      '42 Rue de la Paix',
      '75002 Paris',
      'France',
      'VAT: FR12345678901',
      'Pro plan (monthly)',
      'Additional seats',
      'Goodwill credit',
      '$49.00',
      '$1,234,567.89',
      '-$5.00',
      'Subtotal',
      '$1,234,616.89',
      'Credits applied',
      'Total',
      '$1,234,611.89',
    ]);
    for (const line of doc.lines) assert.ok(text.includes(money(line.amountMinor, 'USD')));
    // A company and an address are set: the e-mail is not shown in the bill-to block.
    assert.ok(!text.includes('jane@acme.test'));
  });

  it('formats JPY without decimals', async () => {
    const doc = baseDocument({
      currency: 'JPY',
      lines: [
        { description: 'Enterprise plan', quantity: '1', amountMinor: 150_000n },
        { description: 'Credit note CN-7', quantity: null, amountMinor: -2_500n },
      ],
      subtotalMinor: 150_000n,
      creditsAppliedMinor: 2_500n,
      totalMinor: 147_500n,
    });
    const { text } = await pdfText(await renderInvoicePdf(doc));
    assertContainsAll(text, ['Enterprise plan', 'Credit note CN-7', money(150_000n, 'JPY'), money(-2_500n, 'JPY'), money(147_500n, 'JPY')]);
    assert.ok(text.includes('150,000') && !text.includes('150,000.'), 'JPY has no minor digits');
  });

  it('formats BHD with three decimals', async () => {
    const doc = baseDocument({
      currency: 'BHD',
      lines: [{ description: 'Usage', quantity: '1,234 GB', amountMinor: 12_345n }],
      subtotalMinor: 12_345n,
      creditsAppliedMinor: 0n,
      totalMinor: 12_345n,
    });
    const { text } = await pdfText(await renderInvoicePdf(doc));
    assertContainsAll(text, ['Usage', '1,234 GB', money(12_345n, 'BHD'), '12.345', money(0n, 'BHD')]);
  });

  it('shows the e-mail when it is all the bill-to has, and no VAT line without a tax id', async () => {
    const doc = baseDocument({
      billTo: { company: null, contactName: null, email: 'solo@example.test', addressLines: [], country: null, taxId: null },
      dueAt: null,
      status: 'PAID',
    });
    const { text } = await pdfText(await renderInvoicePdf(doc));
    assertContainsAll(text, ['Bill to', 'solo@example.test', 'Paid', 'VAT: US-98-7654321']);
    assert.ok(!text.includes('VAT: FR'));
    assert.equal(text.match(/VAT:/g)?.length, 1);
  });

  it('renders the same document to identical bytes', async () => {
    const first = await renderInvoicePdf(baseDocument());
    const second = await renderInvoicePdf(baseDocument());
    assert.ok(first.equals(second), 'two renderings differ');
    const other = await renderInvoicePdf(baseDocument({ number: 'INV-000043' }));
    assert.ok(!first.equals(other));
  });

  it('replaces characters Helvetica cannot show instead of failing', async () => {
    const doc = baseDocument({
      seller: { name: 'Zoë & Søren – Café', addressLines: ['東京都 1-2-3'], taxId: null, email: null },
      lines: [{ description: 'Emoji 🚀 plan\u2212pro', quantity: '1', amountMinor: 100n }],
      subtotalMinor: 100n,
      creditsAppliedMinor: 0n,
      totalMinor: 100n,
    });
    const { text } = await pdfText(await renderInvoicePdf(doc));
    assertContainsAll(text, ['Zoë & Søren', 'Café', '??? 1-2-3', 'Emoji ? plan-pro']);
  });

  it('continues the table on further pages when there are many lines', async () => {
    const lines = Array.from({ length: 120 }, (_, index) => ({
      description: `Metered item ${index + 1}`,
      quantity: String(index + 1),
      amountMinor: BigInt((index + 1) * 100),
    }));
    const total = lines.reduce((sum, line) => sum + line.amountMinor, 0n);
    const doc = baseDocument({ lines, subtotalMinor: total, creditsAppliedMinor: 0n, totalMinor: total });
    const { text, pages } = await pdfText(await renderInvoicePdf(doc));
    assert.ok(pages >= 3, `expected several pages, got ${pages}`);
    for (const line of lines) assert.ok(text.includes(`${line.description} `) || text.includes(`${line.description}\t`), line.description);
    assertContainsAll(text, [money(total, 'USD'), `Page ${pages} of ${pages}`]);
  });
});

describe('toWinAnsi', () => {
  it('keeps Latin-1 and WinAnsi extras, maps spaces and replaces the rest', () => {
    assert.equal(toWinAnsi('Ça coûte 5 € – “ok”'), 'Ça coûte 5 € – “ok”');
    assert.equal(toWinAnsi('e\u0301'), 'é'); // NFC
    assert.equal(toWinAnsi('a\u202fb\tc\nd'), 'a b c d');
    assert.equal(toWinAnsi('Ω 😀'), '? ?');
  });
});
