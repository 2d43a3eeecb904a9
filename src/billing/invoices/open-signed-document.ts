/** The public side of signed links: the invoice PDF or the invoice archive a link points to. */
import type { AppContext } from '../../app-context.js';
import { BillingError } from '../../errors.js';
import { checkSignedLink } from '../../domain/signed-links.js';
import { invoiceArchivePath, invoicePdfPath } from './document-links.js';
import { openInvoiceArchive } from './invoice-archive-store.js';
import { getInvoicePdf, type StoredInvoicePdf } from './invoice-pdf.js';

export interface SignedQuery {
  expires?: string | undefined;
  signature?: string | undefined;
}

export function assertSigned(context: AppContext, documentPath: string, query: SignedQuery): void {
  const check = checkSignedLink(context.secrets.linkSigningKey, documentPath, query, context.clock.now());
  if (check === 'expired') throw new BillingError('link_expired', 403, 'This link has expired; ask for a new one');
  if (check !== 'valid') throw new BillingError('link_invalid', 403, 'This link is not valid');
}

export async function openSignedInvoicePdf(
  context: AppContext,
  input: { organizationId: string; invoiceId: string; query: SignedQuery },
): Promise<StoredInvoicePdf> {
  assertSigned(context, invoicePdfPath(input.organizationId, input.invoiceId), input.query);
  return getInvoicePdf(context.database, input.organizationId, input.invoiceId, context.clock.now());
}

export async function openSignedInvoiceArchive(
  context: AppContext,
  input: { organizationId: string; archiveId: string; query: SignedQuery },
): Promise<{ size: number; stream: NodeJS.ReadableStream }> {
  assertSigned(context, invoiceArchivePath(input.organizationId, input.archiveId), input.query);
  return openInvoiceArchive(context, input.organizationId, input.archiveId);
}
