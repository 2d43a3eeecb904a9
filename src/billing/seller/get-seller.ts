/** The seller identity invoices are issued with now (operators only). */
import type { AppContext } from '../../app-context.js';
import type { Caller } from '../../domain/actor.js';
import { requireOperator } from '../organizations/organization-access.js';
import { loadSeller, type Seller } from './seller.js';

export async function getSeller(context: AppContext, caller: Caller): Promise<Seller> {
  requireOperator(caller, 'The seller settings');
  return loadSeller(context.database);
}
