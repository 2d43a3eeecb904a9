import type { AppContext } from '../../app-context.js';
import type { Caller } from '../../domain/actor.js';
import { enterOrganization } from '../organizations/organization-access.js';
import { listCreditCardRows, viewCreditCard, type CreditCardView } from './credit-card.js';

/** The organization's cards: the default card first, then the newest first. */
export async function listCreditCards(context: AppContext, caller: Caller, organizationId: string): Promise<CreditCardView[]> {
  await enterOrganization(context.database, caller, { id: organizationId }, 'billing.read');
  const cards = await listCreditCardRows(context.database, organizationId);
  const now = context.clock.now();
  return cards.map((card) => viewCreditCard(card, now));
}
