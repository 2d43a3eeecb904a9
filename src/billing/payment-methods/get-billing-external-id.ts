import type { AppContext } from '../../app-context.js';
import type { Caller } from '../../domain/actor.js';
import { enterOrganization } from '../organizations/organization-access.js';
import { ensureProviderCustomer } from './ensure-provider-customer.js';

/**
 * The payment provider's customer id of the organization (its billing account there). When the organization has
 * none yet, the customer is created now, synchronously, from the billing profile, so that there is always an id.
 */
export async function getBillingExternalId(context: AppContext, caller: Caller, organizationId: string): Promise<string> {
  const organization = await enterOrganization(context.database, caller, { id: organizationId }, 'billing.read');
  return ensureProviderCustomer(context, organization.id);
}
