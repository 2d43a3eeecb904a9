import type { AppContext } from '../../app-context.js';
import type { Caller } from '../../domain/actor.js';
import type { BillingStatus } from '../../domain/billing-status.js';
import { listBillingAddresses } from '../addresses/list-billing-addresses.js';
import type { BillingAddress } from '../addresses/billing-address.js';
import { getOrganizationCurrentCost, type OrganizationCurrentCost } from '../costs/get-organization-current-cost.js';
import { listClusterCurrentCosts } from '../costs/list-cluster-current-costs.js';
import type { ClusterCurrentCost } from '../costs/get-cluster-current-cost.js';
import { getCreditStatement, type CreditStatement } from '../credits/get-credit-statement.js';
import type { Invoice } from '../invoices/invoice.js';
import { listInvoices } from '../invoices/list-invoices.js';
import { listCreditCards } from '../payment-methods/list-credit-cards.js';
import type { CreditCardView } from '../payment-methods/credit-card.js';
import { listSelectablePlans } from '../plans/list-selectable-plans.js';
import type { Plan } from '../plans/plan.js';
import type { BillingProfile } from '../profile/billing-profile.js';
import { getBillingProfile } from '../profile/get-billing-profile.js';
import { getBillingStatus } from '../status/get-billing-status.js';

/** Everything the billing page shows about one organization, each part read by the use case the API uses for it. */
export interface BillingOverview {
  status: BillingStatus;
  profile: BillingProfile;
  currentCost: OrganizationCurrentCost;
  clusters: Array<ClusterCurrentCost & { name: string }>;
  credits: CreditStatement;
  invoices: Invoice[];
  cards: CreditCardView[];
  addresses: BillingAddress[];
  plans: Plan[];
  now: Date;
}

export async function getBillingOverview(context: AppContext, caller: Caller, organizationId: string): Promise<BillingOverview> {
  // The first read enters the organization: someone else's id is a 404 before anything is read.
  const status = await getBillingStatus(context, caller, organizationId);
  const profile = await getBillingProfile(context, caller, { id: organizationId });
  const currentCost = await getOrganizationCurrentCost(context, caller, organizationId);
  const clusters = await listClusterCurrentCosts(context, caller, organizationId);
  const credits = await getCreditStatement(context, caller, organizationId, { limit: 20 });
  const invoices = await listInvoices(context, caller, organizationId);
  const cards = await listCreditCards(context, caller, organizationId);
  const { addresses } = await listBillingAddresses(context, caller, organizationId);
  const { plans } = await listSelectablePlans(context, caller, organizationId);
  return { status, profile, currentCost, clusters, credits, invoices, cards, addresses, plans, now: context.clock.now() };
}
