import type { AppContext } from '../../app-context.js';
import type { Caller } from '../../domain/actor.js';
import { enterOrganization } from '../organizations/organization-access.js';
import { listCreditNotesOf, type CreditNote } from './credit-note.js';

/** The organization's credit notes, newest first (billing readers). */
export async function listCreditNotes(context: AppContext, caller: Caller, organizationId: string): Promise<CreditNote[]> {
  await enterOrganization(context.database, caller, { id: organizationId }, 'billing.read');
  return listCreditNotesOf(context.database, organizationId);
}
