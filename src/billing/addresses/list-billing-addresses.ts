import type { AppContext } from '../../app-context.js';
import { notFound } from '../../errors.js';
import type { Caller } from '../../domain/actor.js';
import { authorize } from '../access/authorize.js';
import { listAddressRows, type BillingAddress } from './billing-address.js';

/**
 * The addresses and the organization's billing version (the ETag every surface shares). The version is read
 * before the addresses: a write in between makes the ETag older than the list, so a write based on it gets 412
 * rather than overwriting a change the caller has not seen.
 */
export async function listBillingAddresses(
  context: AppContext,
  request: Caller,
  organizationId: string,
): Promise<{ addresses: BillingAddress[]; version: bigint }> {
  await authorize(context.database, request.actor, organizationId, 'billing');
  const { rows } = await context.database.query<{ billing_version: bigint }>('SELECT billing_version FROM organizations WHERE id = $1', [
    organizationId,
  ]);
  if (!rows[0]) throw notFound('Organization');
  const addresses = await listAddressRows(context.database, organizationId);
  return { addresses, version: rows[0].billing_version };
}
