import type { AppContext } from '../../app-context.js';
import type { Caller } from '../../domain/actor.js';
import { authorize } from '../access/authorize.js';
import { loadInvoiceWithLines, type InvoiceWithLines } from './invoice.js';

/** One invoice with its lines; another organization's invoice is not found. */
export async function getInvoice(context: AppContext, request: Caller, organizationId: string, invoiceId: string): Promise<InvoiceWithLines> {
  await authorize(context.database, request.actor, organizationId, 'billing');
  return loadInvoiceWithLines(context.database, organizationId, invoiceId);
}
