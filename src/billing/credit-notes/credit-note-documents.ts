/** Signed links to credit note PDFs, like invoices': asked for by billing readers, opened without credentials. */
import type { AppContext } from '../../app-context.js';
import type { Caller } from '../../domain/actor.js';
import { creditNotePdfPath, publicBaseUrl, signedDocumentUrl } from '../invoices/document-links.js';
import { assertSigned, type SignedQuery } from '../invoices/open-signed-document.js';
import type { StoredDocument } from '../invoices/stored-document.js';
import { enterOrganization } from '../organizations/organization-access.js';
import { loadCreditNote } from './credit-note.js';
import { getCreditNotePdf } from './credit-note-pdf.js';

export async function createCreditNoteDownloadLink(
  context: AppContext,
  caller: Caller,
  input: { organizationId: string; creditNoteId: string; requestBaseUrl: string | null },
): Promise<string> {
  await enterOrganization(context.database, caller, { id: input.organizationId }, 'billing.read');
  const note = await loadCreditNote(context.database, input.organizationId, input.creditNoteId);
  return signedDocumentUrl(
    context,
    publicBaseUrl(context, input.requestBaseUrl),
    creditNotePdfPath(note.organizationId, note.id),
    context.config.invoiceLinkTtlSeconds,
  );
}

export async function openSignedCreditNotePdf(
  context: AppContext,
  input: { organizationId: string; creditNoteId: string; query: SignedQuery },
): Promise<StoredDocument> {
  assertSigned(context, creditNotePdfPath(input.organizationId, input.creditNoteId), input.query);
  return getCreditNotePdf(context.database, input.organizationId, input.creditNoteId, context.clock.now());
}
