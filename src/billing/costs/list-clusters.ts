import type { AppContext } from '../../app-context.js';
import { notFound } from '../../errors.js';
import type { Caller } from '../../domain/actor.js';
import { listClusterRows, type Cluster } from './cluster.js';
import { requireOperator } from '../access/authorize.js';

/** Every cluster of an organization, active or not (operators only); 404 for an unknown organization. */
export async function listClusters(context: AppContext, request: Caller, organizationId: string): Promise<Cluster[]> {
  requireOperator(request, 'Clusters and usage');
  const { rows } = await context.database.query('SELECT 1 FROM organizations WHERE id = $1', [organizationId]);
  if (rows.length === 0) throw notFound('Organization');
  return listClusterRows(context.database, organizationId);
}
