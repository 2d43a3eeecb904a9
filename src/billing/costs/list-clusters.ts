import type { AppContext } from '../../app-context.js';
import type { Caller } from '../../domain/actor.js';
import { enterOrganization, requireOperator } from '../organizations/organization-access.js';
import { listClusterRows, type Cluster } from './cluster.js';

/** Every cluster of an organization, active or not (operators only); 404 for an unknown organization. */
export async function listClusters(context: AppContext, caller: Caller, organizationId: string): Promise<Cluster[]> {
  requireOperator(caller, 'Clusters and usage');
  await enterOrganization(context.database, caller, { id: organizationId }, 'operator');
  return listClusterRows(context.database, organizationId);
}
