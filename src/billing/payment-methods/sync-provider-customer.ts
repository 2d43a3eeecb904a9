/**
 * Job of `syncCustomerQueue`: copies the billing profile onto the provider's customer (name, e-mail, address, tax id),
 * so that provider-side invoices print them. Runs after the profile change committed; a failure throws and the job
 * queue retries it with backoff, the profile change itself stays as it is.
 */
import type { AppContext } from '../../app-context.js';
import { loadBillingProfile } from '../profile/billing-profile.js';
import { readProviderCustomerReference } from './ensure-provider-customer.js';
import { providerCustomerDetails } from './provider-customer-details.js';
import { loadSellerTaxIdentity } from '../tax/seller-tax-identity.js';
import { stringField } from '../../jobs/job-payload.js';

export interface SyncProviderCustomerPayload {
  organizationId: string;
}

export function isSyncProviderCustomerPayload(payload: unknown): payload is SyncProviderCustomerPayload {
  return stringField(payload, 'organizationId') !== undefined;
}

export type SyncOutcome = 'updated' | 'no_customer_yet' | 'organization_gone';

export async function syncProviderCustomer(context: AppContext, organizationId: string): Promise<SyncOutcome> {
  const reference = await readProviderCustomerReference(context.database, organizationId);
  if (reference === undefined) return 'organization_gone';
  // No customer yet: ensureProviderCustomer creates it from the profile as it is then, so there is nothing to copy.
  if (reference === null) return 'no_customer_yet';
  // The current profile, not the one of the change that queued the job: a late job never sends stale details.
  const profile = await loadBillingProfile(context.database, organizationId);
  await context.payments.upsertCustomer(reference, providerCustomerDetails(profile, (await loadSellerTaxIdentity(context.database)).country));
  return 'updated';
}
