import type { AppContext } from '../../app-context.js';
import type { Caller } from '../../domain/actor.js';
import { enterOrganization } from '../organizations/organization-access.js';
import { loadInvoiceWithLines, type InvoiceWithLines } from './invoice.js';

/** One invoice with its lines; another organization's invoice is not found. */
export async function getInvoice(context: AppContext, caller: Caller, organizationId: string, invoiceId: string): Promise<InvoiceWithLines> {
  await enterOrganization(context.database, caller, { id: organizationId }, 'billing.read');
  return loadInvoiceWithLines(context.database, organizationId, invoiceId);
}
