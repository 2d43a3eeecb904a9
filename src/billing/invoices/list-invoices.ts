import type { AppContext } from '../../app-context.js';
import type { Caller } from '../../domain/actor.js';
import { authorize } from '../access/authorize.js';
import { listInvoicesOf, type Invoice } from './invoice.js';

/** The organization's invoices, newest first. */
export async function listInvoices(context: AppContext, request: Caller, organizationId: string): Promise<Invoice[]> {
  await authorize(context.database, request.actor, organizationId, 'billing');
  return listInvoicesOf(context.database, organizationId);
}
