import type { AppContext } from '../../app-context.js';
import type { RequestContext } from '../access/actor.js';
import { authorize } from '../access/authorize.js';
import { listInvoicesOf, type Invoice } from './invoice.js';

/** The organization's invoices, newest first. */
export async function listInvoices(context: AppContext, request: RequestContext, organizationId: string): Promise<Invoice[]> {
  await authorize(context.database, request.actor, organizationId, 'billing');
  return listInvoicesOf(context.database, organizationId);
}
