import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import { createMailer } from '../../src/mail/create-mailer.js';
import { OutboxMailer } from '../../src/mail/outbox-mailer.js';
import { SmtpMailer } from '../../src/mail/smtp-mailer.js';
import type { InvoiceDocument } from '../../src/pdf/invoice-document.js';
import { renderInvoicePdf } from '../../src/pdf/render-invoice-pdf.js';
import { startSmtpTestServer, type SmtpTestServer } from '../fixtures/smtp-test-server.js';

const FROM = '"Bursar Billing" <billing@bursar.test>';

function invoice(): InvoiceDocument {
  return {
    number: 'INV-000007',
    issuedAt: new Date('2024-06-01T00:00:00Z'),
    periodStart: new Date('2024-05-01T00:00:00Z'),
    periodEnd: new Date('2024-05-31T23:59:59Z'),
    dueAt: new Date('2024-06-15T00:00:00Z'),
    paymentTerms: null,
    currency: 'EUR',
    seller: { name: 'Bursar Billing', addressLines: ['1 Main St'], taxId: 'FR00000000000', email: 'billing@bursar.test' },
    billTo: { company: 'Acme', contactName: null, email: 'ap@acme.test', addressLines: [], country: 'DE', taxId: null },
    lines: [{ description: 'Starter plan', quantity: '1', amountMinor: 1900n }],
    subtotalMinor: 1900n,
    taxLines: [],
    reverseCharge: false,
    creditsAppliedMinor: 0n,
    totalMinor: 1900n,
  };
}

let workDirectory: string;
let pdf: Buffer;
let pdfPath: string;

before(async () => {
  workDirectory = await mkdtemp(join(tmpdir(), 'bursar-mail-'));
  pdf = await renderInvoicePdf(invoice());
  pdfPath = join(workDirectory, 'large-archive.zip');
  await writeFile(pdfPath, Buffer.concat([pdf, Buffer.alloc(200_000, 7)]));
});

after(async () => {
  await rm(workDirectory, { recursive: true, force: true });
});

describe('SmtpMailer', () => {
  let server: SmtpTestServer;
  before(async () => {
    server = await startSmtpTestServer();
  });
  after(async () => {
    await server.close();
  });

  it('delivers a message with a PDF attachment and a streamed file attachment', async () => {
    const mailer = new SmtpMailer({ url: server.url, from: FROM });
    const before = server.messages.length;
    const { messageId } = await mailer.send({
      to: 'ap@acme.test',
      subject: 'Your invoice INV-000007',
      text: 'Hello,\n\nyour invoice INV-000007 (€19.00) is attached.\n',
      attachments: [
        { filename: 'INV-000007.pdf', contentType: 'application/pdf', content: pdf },
        { filename: 'archive.zip', contentType: 'application/zip', path: pdfPath },
      ],
    });
    const [message] = (await server.waitForMessages(before + 1)).slice(before);
    assert.equal(message.messageId, messageId);
    assert.equal(message.subject, 'Your invoice INV-000007');
    assert.equal(message.from?.value[0]?.address, 'billing@bursar.test');
    assert.equal(message.from?.value[0]?.name, 'Bursar Billing');
    assert.deepEqual(
      (Array.isArray(message.to) ? message.to : [message.to]).flatMap((to) => to?.value.map((address) => address.address)),
      ['ap@acme.test'],
    );
    assert.equal(message.text?.trim(), 'Hello,\n\nyour invoice INV-000007 (€19.00) is attached.');
    assert.equal(message.attachments.length, 2);
    const [pdfAttachment, fileAttachment] = message.attachments;
    assert.equal(pdfAttachment.filename, 'INV-000007.pdf');
    assert.equal(pdfAttachment.contentType, 'application/pdf');
    assert.ok(pdfAttachment.content.equals(pdf), 'PDF attachment differs');
    assert.equal(fileAttachment.filename, 'archive.zip');
    assert.ok(fileAttachment.content.equals(await readFile(pdfPath)), 'file attachment differs');
  });

  it('logs in with the credentials of the URL, percent-decoded', async () => {
    const url = server.url.replace('smtp://', 'smtp://mailer:p%40ss%3Aword@');
    const mailer = new SmtpMailer({ url, from: FROM });
    const before = server.messages.length;
    await mailer.send({ to: 'ap@acme.test', subject: 'With auth', text: 'x' });
    const [message] = (await server.waitForMessages(before + 1)).slice(before);
    assert.equal(message.subject, 'With auth');
    assert.deepEqual(server.logins.at(-1), { username: 'mailer', password: 'p@ss:word' });
  });

  it('rejects when the server cannot be reached', async () => {
    const closed = await startSmtpTestServer();
    await closed.close();
    const mailer = new SmtpMailer({ url: closed.url, from: FROM });
    await assert.rejects(mailer.send({ to: 'a@b.test', subject: 's', text: 't' }));
  });

  it('validates the URL', () => {
    assert.throws(() => new SmtpMailer({ url: 'http://mail.example.com', from: FROM }), /smtp:\/\/ or smtps:\/\//);
    assert.throws(() => new SmtpMailer({ url: 'not a url', from: FROM }), /not a valid URL/);
    assert.throws(() => new SmtpMailer({ url: 'smtp://127.0.0.1:2525?tls=off', from: FROM }), /tls=insecure/);
    assert.ok(new SmtpMailer({ url: 'smtps://user:p%40ss@127.0.0.1:2465?tls=insecure', from: FROM }));
  });
});

describe('OutboxMailer', () => {
  it('writes a parseable .eml file into a directory it creates', async () => {
    const directory = join(workDirectory, 'outbox', 'nested');
    const mailer = new OutboxMailer({ directory, from: FROM });
    const { messageId } = await mailer.send({
      to: 'ap@acme.test',
      subject: 'Your invoice INV-000007',
      text: 'Invoice attached.',
      attachments: [
        { filename: 'INV-000007.pdf', contentType: 'application/pdf', content: pdf },
        { filename: 'archive.zip', contentType: 'application/zip', path: pdfPath },
      ],
    });
    const files = await readdir(directory);
    assert.equal(files.length, 1, `unexpected files: ${files.join(', ')}`);
    const [fileName] = files;
    assert.match(fileName, /^\d{8}T\d{9}Z-[A-Za-z0-9._@-]+\.eml$/);
    assert.ok(fileName.includes(messageId.replace(/^<|>$/g, '')));

    const raw = await readFile(join(directory, fileName));
    assert.ok(!raw.includes('\r\n'), 'unix line endings');
    const parsed = await simpleParser(raw);
    assert.equal(parsed.messageId, messageId);
    assert.equal(parsed.subject, 'Your invoice INV-000007');
    assert.equal(parsed.from?.value[0]?.address, 'billing@bursar.test');
    assert.equal(parsed.text?.trim(), 'Invoice attached.');
    assert.equal(parsed.attachments.length, 2);
    assert.equal(parsed.attachments[0].filename, 'INV-000007.pdf');
    assert.ok(parsed.attachments[0].content.equals(pdf));
    assert.ok(parsed.attachments[1].content.equals(await readFile(pdfPath)));
  });

  it('gives each message its own file and leaves nothing behind on failure', async () => {
    const directory = join(workDirectory, 'outbox-2');
    const mailer = new OutboxMailer({ directory, from: FROM });
    await mailer.send({ to: 'a@b.test', subject: 'one', text: '1' });
    await mailer.send({ to: 'a@b.test', subject: 'two', text: '2' });
    await assert.rejects(
      mailer.send({
        to: 'a@b.test',
        subject: 'three',
        text: '3',
        attachments: [{ filename: 'missing.pdf', contentType: 'application/pdf', path: join(workDirectory, 'does-not-exist.pdf') }],
      }),
    );
    const files = (await readdir(directory)).sort();
    assert.equal(files.length, 2, `unexpected files: ${files.join(', ')}`);
    const subjects = await Promise.all(files.map(async (file) => (await simpleParser(await readFile(join(directory, file)))).subject));
    assert.deepEqual(subjects.sort(), ['one', 'two']);
  });
});

describe('createMailer', () => {
  it('uses SMTP when a URL is set and the outbox otherwise', () => {
    const outboxDirectory = join(workDirectory, 'unused');
    assert.ok(createMailer({ outboxDirectory, from: FROM }) instanceof OutboxMailer);
    assert.ok(createMailer({ smtpUrl: '  ', outboxDirectory, from: FROM }) instanceof OutboxMailer);
    assert.ok(createMailer({ smtpUrl: 'smtp://127.0.0.1:2525', outboxDirectory, from: FROM }) instanceof SmtpMailer);
  });
});
