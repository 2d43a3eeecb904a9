import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { readZipEntries } from '../fixtures/read-zip.js';
import { writeInvoiceArchive, type InvoiceArchiveEntry } from '../../src/pdf/invoice-archive.js';

/** Deterministic pseudo-random bytes: entry `index` always has the same content. */
function contentFor(index: number): Buffer {
  const size = index % 50 === 7 ? 300_000 + index : 1_000 + ((index * 7919) % 20_000);
  const out = Buffer.alloc(size);
  let seed = createHash('sha256').update(`entry-${index}`).digest();
  for (let offset = 0; offset < size; offset += seed.length) {
    seed.copy(out, offset);
    seed = createHash('sha256').update(seed).digest();
  }
  return out;
}

function fileNameFor(index: number): string {
  return `invoices/INV-${String(index + 1).padStart(6, '0')}.pdf`;
}

const readZip = readZipEntries;

describe('writeInvoiceArchive', () => {
  let directory: string;
  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'bursar-archive-'));
  });
  after(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('archives 200 entries (buffers and lazy streams) that read back byte for byte, stored uncompressed', async () => {
    const count = 200;
    const opened = new Set<number>();
    async function* entries(): AsyncGenerator<InvoiceArchiveEntry> {
      for (let index = 0; index < count; index++) {
        if (index % 2 === 0) {
          yield { fileName: fileNameFor(index), content: contentFor(index) };
        } else {
          yield {
            fileName: fileNameFor(index),
            content: () => {
              opened.add(index);
              const data = contentFor(index);
              // several chunks, like a file or a PDF renderer would produce
              return Readable.from([data.subarray(0, 100), data.subarray(100, 5_000), data.subarray(5_000)], { objectMode: false });
            },
          };
        }
      }
    }
    const path = join(directory, 'invoices.zip');
    const result = await writeInvoiceArchive(entries(), createWriteStream(path));
    assert.equal(result.entryCount, count);
    assert.equal(result.bytes, (await stat(path)).size);
    assert.equal(opened.size, count / 2);

    const archived = await readZip(path);
    assert.deepEqual([...archived.keys()], Array.from({ length: count }, (_, index) => fileNameFor(index)));
    for (let index = 0; index < count; index++) {
      const entry = archived.get(fileNameFor(index))!;
      assert.equal(entry.compressionMethod, 0, 'stored, not deflated');
      assert.ok(entry.content.equals(contentFor(index)), `content of entry ${index} differs`);
    }
  });

  it('pulls the next entry only after the previous ones reached a slow destination', async () => {
    const count = 40;
    const entrySize = 256 * 1024;
    let delivered = 0;
    let worstLag = 0;
    const slowDestination = new Writable({
      highWaterMark: 16 * 1024,
      write(chunk: Buffer, _encoding, callback) {
        delivered += chunk.length;
        setTimeout(callback, 0);
      },
    });
    async function* entries(): AsyncGenerator<InvoiceArchiveEntry> {
      for (let index = 0; index < count; index++) {
        // bytes handed out so far (entries 0..index-1) minus bytes the destination has taken
        worstLag = Math.max(worstLag, index * entrySize - delivered);
        yield { fileName: `e${index}.pdf`, content: Buffer.alloc(entrySize, index) };
      }
    }
    const result = await writeInvoiceArchive(entries(), slowDestination);
    assert.equal(result.entryCount, count);
    assert.equal(result.bytes, delivered);
    // Without waiting, the generator would run ahead by megabytes. With it, when entry i is pulled the
    // destination already has entries 0..i-2 and most of i-1: only stream buffers (~100 KB) are in flight.
    assert.ok(worstLag < entrySize * 0.75, `generator ran ahead of the destination by ${worstLag} bytes`);
  });

  it('rejects and destroys the destination when the entries fail', async () => {
    async function* entries(): AsyncGenerator<InvoiceArchiveEntry> {
      yield { fileName: 'a.pdf', content: Buffer.from('%PDF-a') };
      throw new Error('database went away');
    }
    const path = join(directory, 'failed.zip');
    const destination = createWriteStream(path);
    await assert.rejects(writeInvoiceArchive(entries(), destination), /database went away/);
    assert.ok(destination.destroyed);
  });

  it('rejects when an entry stream fails', async () => {
    async function* entries(): AsyncGenerator<InvoiceArchiveEntry> {
      yield { fileName: 'a.pdf', content: Buffer.from('%PDF-a') };
      yield {
        fileName: 'b.pdf',
        content: () =>
          new Readable({
            read() {
              this.destroy(new Error('render failed'));
            },
          }),
      };
      yield { fileName: 'c.pdf', content: Buffer.from('%PDF-c') };
    }
    await assert.rejects(writeInvoiceArchive(entries(), createWriteStream(join(directory, 'failed-2.zip'))), /render failed/);
  });

  it('rejects, and stops pulling entries, when the destination fails', async () => {
    let pulled = 0;
    async function* entries(): AsyncGenerator<InvoiceArchiveEntry> {
      for (let index = 0; index < 1000; index++) {
        pulled++;
        yield { fileName: `e${index}.pdf`, content: Buffer.alloc(64 * 1024, index) };
      }
    }
    let received = 0;
    const failing = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        received += chunk.length;
        callback(received > 300_000 ? new Error('client disconnected') : null);
      },
    });
    await assert.rejects(writeInvoiceArchive(entries(), failing), /client disconnected/);
    assert.ok(pulled < 20, `pulled ${pulled} entries`);
  });

  it('rejects invalid and duplicate entry names', async () => {
    async function* withNames(names: string[]): AsyncGenerator<InvoiceArchiveEntry> {
      for (const fileName of names) yield { fileName, content: Buffer.from(fileName) };
    }
    await assert.rejects(writeInvoiceArchive(withNames(['a.pdf', '/etc/passwd']), createWriteStream(join(directory, 'bad-1.zip'))));
    await assert.rejects(writeInvoiceArchive(withNames(['a.pdf', '../a.pdf']), createWriteStream(join(directory, 'bad-2.zip'))));
    await assert.rejects(
      writeInvoiceArchive(withNames(['a.pdf', 'b.pdf', 'a.pdf']), createWriteStream(join(directory, 'bad-3.zip'))),
      /duplicate archive entry name: a.pdf/,
    );
  });

  it('writes a valid empty archive', async () => {
    const path = join(directory, 'empty.zip');
    // eslint-disable-next-line require-yield
    async function* entries(): AsyncGenerator<InvoiceArchiveEntry> {}
    const result = await writeInvoiceArchive(entries(), createWriteStream(path));
    assert.deepEqual(result, { entryCount: 0, bytes: 22 });
    assert.equal((await readZip(path)).size, 0);
  });
});
