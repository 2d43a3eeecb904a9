import type { AppContext } from '../../app-context.js';
import type { Caller } from '../../domain/actor.js';
import { enterOrganization } from '../organizations/organization-access.js';
import { invoicePdfPath, publicBaseUrl, signedDocumentUrl } from './document-links.js';
import { loadInvoice } from './invoice.js';

/**
 * A link to the invoice's PDF that works without credentials until it expires (`invoiceLinkTtlSeconds`).
 * `requestBaseUrl` (scheme and host the caller used) stands in when no public URL is configured.
 */
export async function createInvoiceDownloadLink(
  context: AppContext,
  caller: Caller,
  input: { organizationId: string; invoiceId: string; requestBaseUrl: string | null },
): Promise<string> {
  await enterOrganization(context.database, caller, { id: input.organizationId }, 'billing.read');
  const invoice = await loadInvoice(context.database, input.organizationId, input.invoiceId);
  return signedDocumentUrl(
    context,
    publicBaseUrl(context, input.requestBaseUrl),
    invoicePdfPath(invoice.organizationId, invoice.id),
    context.config.invoiceLinkTtlSeconds,
  );
}
