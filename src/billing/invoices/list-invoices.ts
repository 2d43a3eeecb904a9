import type { AppContext } from '../../app-context.js';
import type { Caller } from '../../domain/actor.js';
import { enterOrganization } from '../organizations/organization-access.js';
import { listInvoicesOf, type Invoice } from './invoice.js';

/** The organization's invoices, newest first. */
export async function listInvoices(context: AppContext, caller: Caller, organizationId: string): Promise<Invoice[]> {
  await enterOrganization(context.database, caller, { id: organizationId }, 'billing.read');
  return listInvoicesOf(context.database, organizationId);
}
