import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { PDFParse } from 'pdf-parse';
import { formatAmountWithCode } from '../../src/domain/money.js';
import { REVERSE_CHARGE_MENTION, type InvoiceDocument } from '../../src/pdf/invoice-document.js';
import { renderInvoicePdf, toWinAnsi } from '../../src/pdf/render-invoice-pdf.js';

function baseDocument(overrides: Partial<InvoiceDocument> = {}): InvoiceDocument {
  return {
    number: 'INV-000042',
    issuedAt: new Date('2024-05-01T09:30:00Z'),
    periodStart: new Date('2024-04-01T00:00:00Z'),
    periodEnd: new Date('2024-04-30T23:59:59Z'),
    dueAt: new Date('2024-05-15T00:00:00Z'),
    paymentTerms: 'Charged to the card on file at issue; payable within 7 days of the issue date.',
    currency: 'USD',
    seller: {
      name: 'Bursar Billing Ltd',
      addressLines: ['1 Market Street', 'San Francisco, CA 94105'],
      country: 'United States',
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
      { description: 'Pro plan (monthly)', quantity: '1 month', unitPriceMinor: 4900n, amountMinor: 4900n },
      { description: 'Additional seats', quantity: '12', unitPriceMinor: 10_288_065n, amountMinor: 123_456_789n },
      { description: 'Goodwill credit', quantity: null, amountMinor: -500n },
    ],
    subtotalMinor: 123_461_689n,
    taxLines: [],
    reverseCharge: false,
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
  return formatAmountWithCode(amountMinor, currency);
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
      'Bursar Billing Ltd',
      '1 Market Street',
      'San Francisco, CA 94105',
      'United States',
      'Tax ID: US-98-7654321',
      'billing@bursar.test',
      'Bill to',
      'Acme Corporation',
      'Jane Doe',
      '42 Rue de la Paix',
      '75002 Paris',
      'France',
      'Tax ID: FR12345678901',
      'Description Quantity Unit price Amount',
      'Pro plan (monthly) 1 month 49.00 USD 49.00 USD',
      'Additional seats 12 102,880.65 USD 1,234,567.89 USD',
      'Goodwill credit -5.00 USD',
      'Subtotal 1,234,616.89 USD',
      'Credits applied -5.00 USD',
      'Total 1,234,611.89 USD',
      'Payment terms: Charged to the card on file at issue; payable within 7 days of the issue date.',
    ]);
    assert.doesNotMatch(text, /Status|Not paid|\bPaid\b|\$/, 'no payment status, no currency symbol');
    for (const line of doc.lines) assert.ok(text.includes(money(line.amountMinor, 'USD')));
    // A company and an address are set: the e-mail is not shown in the bill-to block.
    assert.ok(!text.includes('jane@acme.test'));
  });

  it('formats JPY without decimals', async () => {
    const doc = baseDocument({
      currency: 'JPY',
      lines: [
        { description: 'Enterprise plan', quantity: '1 month', unitPriceMinor: 150_000n, amountMinor: 150_000n },
        { description: 'Credit note CN-7', quantity: null, amountMinor: -2_500n },
      ],
      subtotalMinor: 150_000n,
      creditsAppliedMinor: 2_500n,
      totalMinor: 147_500n,
    });
    const { text } = await pdfText(await renderInvoicePdf(doc));
    assertContainsAll(text, ['Enterprise plan', 'Credit note CN-7', money(150_000n, 'JPY'), money(-2_500n, 'JPY'), money(147_500n, 'JPY')]);
    assertContainsAll(text, ['Enterprise plan 1 month 150,000 JPY 150,000 JPY', 'Total 147,500 JPY']);
    assert.ok(!text.includes('150,000.'), 'JPY has no minor digits');
  });

  it('formats BHD with three decimals', async () => {
    const doc = baseDocument({
      currency: 'BHD',
      lines: [{ description: 'Usage', quantity: '1,234 GB', unitPriceMinor: 10n, amountMinor: 12_345n }],
      subtotalMinor: 12_345n,
      creditsAppliedMinor: 0n,
      totalMinor: 12_345n,
    });
    const { text } = await pdfText(await renderInvoicePdf(doc));
    assertContainsAll(text, ['Usage 1,234 GB 0.010 BHD 12.345 BHD', 'Total 12.345 BHD']);
    assert.ok(!text.includes('Credits applied'), 'no credits row without credits');
  });

  it('shows the e-mail when it is all the bill-to has, and no tax id line without a tax id', async () => {
    const doc = baseDocument({
      billTo: { company: null, contactName: null, email: 'solo@example.test', addressLines: [], country: null, taxId: null },
      dueAt: null,
    });
    const { text } = await pdfText(await renderInvoicePdf(doc));
    assertContainsAll(text, ['Bill to', 'solo@example.test', 'Tax ID: US-98-7654321']);
    assert.ok(!text.includes('Tax ID: FR'));
    assert.equal(text.match(/Tax ID:/g)?.length, 1);
    assert.ok(!text.includes('Due date'));
  });

  it('prints one tax row per rate with its base, and the reverse-charge mention when the document says so', async () => {
    const doc = baseDocument({
      currency: 'EUR',
      lines: [{ description: 'Plan Pro (May 2024)', quantity: '1 month', unitPriceMinor: 10_000n, amountMinor: 10_000n }],
      subtotalMinor: 10_000n,
      taxLines: [
        { name: 'VAT', percentage: '20', taxableMinor: 10_000n, taxMinor: 2_000n },
        { name: 'City tax', percentage: '8.875', taxableMinor: 4_000n, taxMinor: 355n },
      ],
      creditsAppliedMinor: 0n,
      totalMinor: 12_355n,
    });
    const { text } = await pdfText(await renderInvoicePdf(doc));
    assertContainsAll(text, [
      'VAT 20% on 100.00 EUR 20.00 EUR',
      'City tax 8.875% on 40.00 EUR 3.55 EUR',
      'Total tax 23.55 EUR',
      'Total 123.55 EUR',
    ]);
    assert.ok(!text.includes('Reverse charge'));

    const reverse = await pdfText(await renderInvoicePdf({ ...doc, taxLines: [], reverseCharge: true, totalMinor: 10_000n }));
    assert.ok(reverse.text.replace(/\s+/g, ' ').includes(REVERSE_CHARGE_MENTION), reverse.text);
    assert.ok(!reverse.text.includes('Total tax'));
  });

  it('prints the parts of a line under it', async () => {
    const doc = baseDocument({
      lines: [
        {
          description: 'Cluster production (node-hours, capped at its maximum of 3 nodes)',
          quantity: '2,500',
          unitPriceMinor: 20n,
          amountMinor: 45_320n,
          parts: [
            { description: 'Fixed part (May 2024)', quantity: '1 month', unitPriceMinor: 5_000n, amountMinor: 5_000n },
            { description: 'Usage (node-hours)', quantity: '2,500', unitPriceMinor: 20n, amountMinor: 50_000n },
            { description: 'Cap: at most 3 nodes for 672 hours', quantity: null, unitPriceMinor: null, amountMinor: -9_680n },
          ],
        },
      ],
      subtotalMinor: 45_320n,
      creditsAppliedMinor: 0n,
      totalMinor: 45_320n,
    });
    const { text } = await pdfText(await renderInvoicePdf(doc));
    assertContainsAll(text, [
      'Fixed part (May 2024) 1 month 50.00 USD 50.00 USD',
      'Usage (node-hours) 2,500 0.20 USD 500.00 USD',
      'Cap: at most 3 nodes for 672 hours -96.80 USD',
      'Subtotal 453.20 USD',
    ]);
  });

  it('renders a credit note with its own number, title and the invoice it refers to', async () => {
    const doc = baseDocument({
      kind: 'credit_note',
      number: 'CN-000001',
      refersToNumber: 'INV-000042',
      reason: 'Service outage in May',
      periodStart: null,
      periodEnd: null,
      dueAt: null,
      paymentTerms: null,
      lines: [{ description: 'Plan Pro (May 2024)', quantity: '1 month', unitPriceMinor: 4_900n, amountMinor: 4_900n }],
      subtotalMinor: 4_900n,
      creditsAppliedMinor: 0n,
      totalMinor: 4_900n,
    });
    const pdf = await renderInvoicePdf(doc);
    const { text } = await pdfText(pdf);
    assertContainsAll(text, ['Credit note', 'Credit note number CN-000001', 'Refers to invoice INV-000042', 'Reason: Service outage in May', 'Total credited 49.00 USD']);
    assert.ok(!text.includes('Invoice number'));
    assert.ok(!text.includes('Billing period'));
  });

  it('keeps long names, addresses and descriptions inside their blocks', async () => {
    const long = 'Internationale Handelsgesellschaft für Cloud-Infrastruktur und Plattformdienste mbH & Co. KG';
    const doc = baseDocument({
      seller: { name: long, addressLines: ['Sehr lange Strasse mit einem ausgesprochen langen Namen 123, Hinterhaus, 4. OG'], country: 'Germany', taxId: 'DE123456789', email: 'rechnungen@example.test' },
      billTo: { company: long, contactName: 'Jane Doe', email: null, addressLines: ['42 Rue de la Paix'], country: 'France', taxId: 'FR12345678901' },
      lines: [{ description: `Cluster ${'very-long-cluster-name-'.repeat(6)} (node-hours)`, quantity: '1,234,567', unitPriceMinor: 123_456n, amountMinor: 152_414_703_552n }],
      subtotalMinor: 152_414_703_552n,
      creditsAppliedMinor: 0n,
      totalMinor: 152_414_703_552n,
    });
    const { text, pages } = await pdfText(await renderInvoicePdf(doc));
    assert.equal(pages, 1);
    assertContainsAll(text, ['1,524,147,035.52 USD', 'Tax ID: DE123456789', 'Tax ID: FR12345678901']);
  });

  it('renders the same document to identical bytes', async () => {
    const first = await renderInvoicePdf(baseDocument());
    const second = await renderInvoicePdf(baseDocument());
    assert.ok(first.equals(second), 'two renderings differ');
    const other = await renderInvoicePdf(baseDocument({ number: 'INV-000043' }));
    assert.ok(!first.equals(other));
  });

  it('renders the same bytes whatever the wall clock says (dates and document id come from the document)', async () => {
    const renderAt = async (now: string): Promise<Buffer> => {
      mock.timers.enable({ apis: ['Date'], now: new Date(now) });
      try {
        return await renderInvoicePdf(baseDocument());
      } finally {
        mock.timers.reset();
      }
    };
    const early = await renderAt('2024-05-01T09:30:00Z');
    const late = await renderAt('2031-12-31T23:59:59Z');
    assert.ok(early.equals(late), 'the PDF depends on the wall clock');
    assert.ok(early.toString('latin1').includes('(D:20240501093000Z)'), 'the PDF dates are the issue date');
  });

  it('replaces characters Helvetica cannot show instead of failing', async () => {
    const doc = baseDocument({
      seller: { name: 'Zoë & Søren – Café', addressLines: ['東京都 1-2-3'], country: null, taxId: null, email: null },
      lines: [{ description: 'Emoji 🚀 plan\u2212pro', quantity: '1', unitPriceMinor: 100n, amountMinor: 100n }],
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
