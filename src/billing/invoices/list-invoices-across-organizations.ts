import type { AppContext } from '../../app-context.js';
import type { Caller } from '../../domain/actor.js';
import type { InvoiceStatus } from '../../domain/invoice-status.js';
import { pageOf, pageRequest, type Page } from '../../domain/pagination.js';
import { requireOperator } from '../organizations/organization-access.js';
import { listInvoicesOfAllOrganizations, type Invoice } from './invoice.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The invoices of every organization (operators), newest first, optionally in one status, a page at a time. */
export async function listInvoicesAcrossOrganizations(
  context: AppContext,
  caller: Caller,
  input: { status?: InvoiceStatus; limit?: number; cursor?: string },
): Promise<Page<Invoice>> {
  requireOperator(caller, 'Invoice lists across organizations');
  const { limit, after } = pageRequest(input, (id) => UUID.test(id));
  const rows = await listInvoicesOfAllOrganizations(context.database, { status: input.status ?? null, afterId: after, limit: limit + 1 });
  return pageOf(rows, limit, (invoice) => invoice.id);
}
