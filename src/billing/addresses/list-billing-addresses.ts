import sql from 'sql-template-tag';
import type { AppContext } from '../../app-context.js';
import type { Caller } from '../../domain/actor.js';
import { enterOrganization } from '../organizations/organization-access.js';
import { listAddresses, type BillingAddress } from './billing-address.js';

/**
 * The addresses and the organization's billing version (the ETag every surface shares). The version is read
 * before the addresses: a write in between makes the ETag older than the list, so a write based on it gets 412
 * rather than overwriting a change the caller has not seen.
 */
export async function listBillingAddresses(
  context: AppContext,
  caller: Caller,
  organizationId: string,
): Promise<{ addresses: BillingAddress[]; version: bigint }> {
  const organization = await enterOrganization<{ billing_version: bigint }>(context.database, caller, { id: organizationId }, 'billing.read', {
    select: sql`o.billing_version`,
  });
  const addresses = await listAddresses(context.database, organization.id);
  return { addresses, version: organization.billing_version };
}
