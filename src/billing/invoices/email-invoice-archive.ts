/**
 * The job behind "e-mail me all my invoices": a ZIP of every invoice PDF of the organization, written to a file
 * in constant memory (one PDF at a time is read, or rendered and stored, from the database), then sent as an
 * attachment, or kept on disk behind a signed, expiring link when it is larger than `maxAttachmentBytes`.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import sql from 'sql-template-tag';
import type { AppContext } from '../../app-context.js';
import { fieldOf, stringField } from '../../jobs/job-payload.js';
import type { InvoiceArchiveEntry } from '../../pdf/invoice-archive.js';
import { writeInvoiceArchive } from '../../pdf/invoice-archive.js';
import { ARCHIVE_LINK_TTL_SECONDS, invoiceArchivePath, publicBaseUrl, signedDocumentUrl } from './document-links.js';
import { storeInvoiceArchive } from './invoice-archive-store.js';
import { getInvoicePdf } from './invoice-pdf.js';
import type { InvoiceArchivePayload } from './request-invoice-archive.js';
import { billingEmailOf } from './send-invoice-email.js';

const PAGE_SIZE = 100;

export type InvoiceArchiveOutcome =
  | { sent: 'attachment' | 'link'; entryCount: number; bytes: number }
  | { sent: 'no_invoices' | 'no_billing_email'; entryCount: 0; bytes: 0 };

export function isInvoiceArchivePayload(payload: unknown): payload is InvoiceArchivePayload {
  const requestBaseUrl = fieldOf(payload, 'requestBaseUrl');
  return stringField(payload, 'organizationId') !== undefined && (requestBaseUrl === null || typeof requestBaseUrl === 'string');
}

/**
 * Renders and stores the PDFs the organization does not have yet, one at a time, before the archive is written:
 * the zip library keeps a small buffer per entry (its name) until the archive ends, and a small buffer pins the
 * whole 8 KB slab of Node's buffer pool it was cut from; rendering between two entries would fill a fresh slab
 * each time, and every one of them would stay in memory with the archive.
 */
export async function renderMissingInvoicePdfs(context: AppContext, organizationId: string): Promise<number> {
  let rendered = 0;
  for (;;) {
    const { rows } = await context.database.query<{ id: string }>(
      sql`SELECT i.id FROM invoices i
           WHERE i.organization_id = ${organizationId}::uuid
             AND NOT EXISTS (SELECT 1 FROM invoice_documents d WHERE d.organization_id = i.organization_id AND d.invoice_id = i.id)
           ORDER BY i.sequence_number LIMIT ${PAGE_SIZE}`,
    );
    if (rows.length === 0) return rendered;
    for (const row of rows) {
      await getInvoicePdf(context.database, organizationId, row.id, context.clock.now());
      rendered += 1;
    }
  }
}

/**
 * The organization's invoice PDFs in number order, pulled one at a time (keyset pages of ids). Each entry opens its
 * PDF only when the archive writes it: the archive writer keeps every entry (and what its opener closes over) until
 * the archive ends, so an entry must not hold the PDF bytes themselves, or all of them would stay in memory.
 */
export async function* invoicePdfEntries(context: AppContext, organizationId: string): AsyncGenerator<InvoiceArchiveEntry> {
  let after = 0n;
  for (;;) {
    const { rows } = await context.database.query<{ id: string; number: string; sequence_number: bigint }>(
      sql`SELECT id, number, sequence_number FROM invoices
           WHERE organization_id = ${organizationId}::uuid AND sequence_number > ${after}::int8
           ORDER BY sequence_number LIMIT ${PAGE_SIZE}`,
    );
    if (rows.length === 0) return;
    for (const row of rows) {
      const invoiceId = row.id;
      yield { fileName: `${row.number}.pdf`, content: () => openInvoicePdf(context, organizationId, invoiceId) };
    }
    after = rows[rows.length - 1]!.sequence_number;
  }
}

/** A stream of the stored PDF (rendered and stored first when missing). */
function openInvoicePdf(context: AppContext, organizationId: string, invoiceId: string): NodeJS.ReadableStream {
  const stream = new PassThrough();
  getInvoicePdf(context.database, organizationId, invoiceId, context.clock.now()).then(
    (stored) => stream.end(stored.pdf),
    (error: unknown) => stream.destroy(error instanceof Error ? error : new Error(String(error))),
  );
  return stream;
}

export async function emailInvoiceArchive(context: AppContext, payload: InvoiceArchivePayload): Promise<InvoiceArchiveOutcome> {
  const { organizationId } = payload;
  const to = await billingEmailOf(context.database, organizationId);
  if (to === null) {
    context.logger.info({ organizationId }, 'invoice archive not sent: the organization has no billing e-mail');
    return { sent: 'no_billing_email', entryCount: 0, bytes: 0 };
  }
  const { rows } = await context.database.query<{ slug: string; count: bigint }>(
    sql`SELECT o.slug, (SELECT count(*) FROM invoices i WHERE i.organization_id = o.id)::int8 AS count
          FROM organizations o WHERE o.id = ${organizationId}::uuid`,
  );
  const organization = rows[0];
  if (!organization) return { sent: 'no_billing_email', entryCount: 0, bytes: 0 };
  if (organization.count === 0n) {
    await context.mailer.send({ to, subject: 'Your invoices', text: 'Hello,\n\nyou asked for all your invoices: there are none yet.\n' });
    return { sent: 'no_invoices', entryCount: 0, bytes: 0 };
  }

  const archiveId = randomUUID();
  // A temporary file while the archive is written (constant memory); kept in the database if it is sent as a link.
  const partialPath = path.join(tmpdir(), `bursar-archive-${archiveId}.zip.partial`);
  const fileName = `invoices-${organization.slug}.zip`;
  try {
    await renderMissingInvoicePdfs(context, organizationId);
    const written = await writeInvoiceArchive(invoicePdfEntries(context, organizationId), createWriteStream(partialPath));
    if (written.bytes <= context.config.maxAttachmentBytes) {
      await context.mailer.send({
        to,
        subject: 'Your invoices',
        text: `Hello,\n\nall your invoices (${written.entryCount}) are in the attached archive ${fileName}.\n`,
        attachments: [{ filename: fileName, contentType: 'application/zip', path: partialPath }],
      });
      return { sent: 'attachment', ...written };
    }
    await storeInvoiceArchive(context, {
      archiveId,
      organizationId,
      file: partialPath,
      sizeBytes: written.bytes,
      ttlSeconds: ARCHIVE_LINK_TTL_SECONDS,
    });
    const url = signedDocumentUrl(
      context,
      publicBaseUrl(context, payload.requestBaseUrl),
      invoiceArchivePath(organizationId, archiveId),
      ARCHIVE_LINK_TTL_SECONDS,
    );
    const days = Math.round(ARCHIVE_LINK_TTL_SECONDS / 86_400);
    await context.mailer.send({
      to,
      subject: 'Your invoices',
      text:
        `Hello,\n\nall your invoices (${written.entryCount}) are in an archive too large to attach ` +
        `(${(written.bytes / 1_048_576).toFixed(1)} MB). Download it within ${days} days:\n\n${url}\n`,
    });
    return { sent: 'link', ...written };
  } finally {
    await rm(partialPath, { force: true });
  }
}
