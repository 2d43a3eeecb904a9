import type { AppContext } from '../../app-context.js';
import type { RequestContext } from '../access/actor.js';
import { authorize } from '../access/authorize.js';
import { listAddressRows, type BillingAddress } from './billing-address.js';

export async function listBillingAddresses(context: AppContext, request: RequestContext, organizationId: string): Promise<BillingAddress[]> {
  await authorize(context.database, request.actor, organizationId, 'billing');
  return listAddressRows(context.database, organizationId);
}
