/**
 * Invoice archives too large for an attachment, kept in the database in 1 MiB chunks: written from the temporary
 * file chunk by chunk and read back the same way, so memory holds one chunk whatever the archive's size, and any
 * process can serve the signed link.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import sql from 'sql-template-tag';
import type { AppContext } from '../../app-context.js';
import { notFound } from '../../errors.js';

const CHUNK_BYTES = 1024 * 1024;

export async function storeInvoiceArchive(
  context: AppContext,
  input: { archiveId: string; organizationId: string; file: string; sizeBytes: number; ttlSeconds: number },
): Promise<void> {
  const now = context.clock.now();
  await context.database.transaction(async (tx) => {
    const expiresAt = new Date(now.getTime() + input.ttlSeconds * 1000);
    await tx.query(
      sql`INSERT INTO invoice_archives (id, organization_id, size_bytes, created_at, expires_at)
          VALUES (${input.archiveId}::uuid, ${input.organizationId}::uuid, ${input.sizeBytes}, ${now}::timestamptz, ${expiresAt}::timestamptz)`,
    );
    let sequence = 0;
    for await (const chunk of createReadStream(input.file, { highWaterMark: CHUNK_BYTES })) {
      await tx.query(sql`INSERT INTO invoice_archive_chunks (archive_id, sequence, data) VALUES (${input.archiveId}::uuid, ${sequence}, ${chunk})`);
      sequence += 1;
    }
  });
}

/** The archive as a stream of its chunks, read one query at a time; 404 when unknown, expired or another organization's. */
export async function openInvoiceArchive(
  context: AppContext,
  organizationId: string,
  archiveId: string,
): Promise<{ size: number; stream: NodeJS.ReadableStream }> {
  const { rows } = await context.database.query<{ size_bytes: bigint }>(
    sql`SELECT size_bytes FROM invoice_archives
         WHERE id = ${archiveId}::uuid AND organization_id = ${organizationId}::uuid AND expires_at > ${context.clock.now()}::timestamptz`,
  );
  const archive = rows[0];
  if (!archive) throw notFound('Archive');
  let sequence = 0;
  const stream = new Readable({
    async read() {
      try {
        const { rows: chunks } = await context.database.query<{ data: Uint8Array }>(
          sql`SELECT data FROM invoice_archive_chunks WHERE archive_id = ${archiveId}::uuid AND sequence = ${sequence}`,
        );
        sequence += 1;
        this.push(chunks[0] ? Buffer.from(chunks[0].data) : null);
      } catch (error) {
        this.destroy(error instanceof Error ? error : new Error(String(error)));
      }
    },
  });
  return { size: Number(archive.size_bytes), stream };
}

/** Archives whose links have expired (business clock); returns how many were deleted. */
export async function deleteExpiredInvoiceArchives(context: AppContext): Promise<number> {
  const { rowCount } = await context.database.query(sql`DELETE FROM invoice_archives WHERE expires_at <= ${context.clock.now()}::timestamptz`);
  return rowCount;
}
