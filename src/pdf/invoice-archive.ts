import { once } from 'node:events';
import { PassThrough, Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';

export interface InvoiceArchiveEntry {
  /** Path inside the zip, e.g. "INV-000042.pdf" (relative, forward slashes). */
  fileName: string;
  /** The bytes, or a function opening a stream of them; the function is called only when the entry is written. */
  content: Buffer | (() => NodeJS.ReadableStream);
}

/** Buffers are fed to the zip in slices of this size so their writing follows the consumer's pace. */
const BUFFER_SLICE = 16 * 1024;

/**
 * Streams a zip of invoice PDFs into `destination` (ended when the archive is complete).
 *
 * Entries are pulled one at a time: the next entry is requested from the iterable only once the
 * previous entry's data has passed into the zip output and the output is not backed up (it has
 * drained to the consumer). So memory holds about one PDF at a time whatever the number of
 * entries. PDFs are already compressed: entries are stored (`compress: false`).
 *
 * Resolves with the number of entries and the bytes written; on any error (iterable, an entry's
 * stream, the destination) the output is destroyed and the promise rejects.
 */
export async function writeInvoiceArchive(
  entries: AsyncIterable<InvoiceArchiveEntry>,
  destination: NodeJS.WritableStream,
): Promise<{ entryCount: number; bytes: number }> {
  const zip = new yazl.ZipFile();
  // yazl's output is a PassThrough; the typings only say ReadableStream.
  const output = zip.outputStream as unknown as PassThrough;

  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      callback(null, chunk);
    },
  });
  const written = pipeline(output, counter, destination);
  written.catch(() => {}); // awaited below; this only avoids an unhandled rejection while entries are added

  let ending = false;
  const failed = new Promise<never>((_resolve, reject) => {
    zip.on('error', reject);
    // An output that fails, or ends before the archive is complete, also stops the loop.
    written.then(() => {
      if (!ending) reject(new Error('archive output ended before the archive was complete'));
    }, reject);
  });
  failed.catch(() => {});

  let entryCount = 0;
  const names = new Set<string>();
  const current: { stream: NodeJS.ReadableStream | null } = { stream: null };
  try {
    for await (const entry of entries) {
      if (names.has(entry.fileName)) throw new Error(`duplicate archive entry name: ${entry.fileName}`);
      names.add(entry.fileName);
      await Promise.race([addEntry(zip, output, entry, current), failed]);
      current.stream = null;
      entryCount++;
    }
    ending = true;
    zip.end();
    await Promise.race([written, failed]);
  } catch (error) {
    // Release an entry stream (e.g. an open file) that is still being read.
    const stream = current.stream as (NodeJS.ReadableStream & { destroy?: () => void }) | null;
    stream?.destroy?.();
    output.destroy(error instanceof Error ? error : new Error(String(error)));
    await written.catch(() => {});
    throw error;
  }
  return { entryCount, bytes };
}

/** Adds one entry and resolves once its data is in the zip output and the output has drained. */
function addEntry(
  zip: yazl.ZipFile,
  output: PassThrough,
  entry: InvoiceArchiveEntry,
  current: { stream: NodeJS.ReadableStream | null },
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    zip.addReadStreamLazy(entry.fileName, { compress: false }, (callback) => {
      let stream: NodeJS.ReadableStream;
      try {
        stream = typeof entry.content === 'function' ? entry.content() : bufferStream(entry.content);
      } catch (error) {
        reject(error);
        return;
      }
      current.stream = stream;
      // yazl pipes the stream but does not listen for its errors.
      stream.once('error', reject);
      stream.once('end', () => {
        if (!output.writableNeedDrain) resolve();
        else once(output, 'drain').then(() => resolve(), reject);
      });
      callback(null, stream);
    });
  });
}

function bufferStream(buffer: Buffer): Readable {
  function* slices(): Generator<Buffer> {
    for (let offset = 0; offset < buffer.length; offset += BUFFER_SLICE) yield buffer.subarray(offset, offset + BUFFER_SLICE);
  }
  return Readable.from(slices(), { objectMode: false });
}
