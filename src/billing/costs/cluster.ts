/** Clusters (or any billable resource) of an organization, with the pricing they were registered with. */
import type { Queryable } from '../../db/database.js';
import type { ClusterPricing } from '../../domain/cluster-cost.js';
import { notFound } from '../../errors.js';

export interface Cluster {
  id: string;
  organizationId: string;
  name: string;
  /** Fixed at registration: a cost range once shown must hold, so the pricing of a cluster never changes. */
  pricing: ClusterPricing;
  /** Inclusive. */
  activeFrom: Date;
  /** Exclusive; null while active. */
  activeUntil: Date | null;
  createdAt: Date;
}

export interface ClusterRow {
  id: string;
  organization_id: string;
  name: string;
  hourly_price_per_node_minor: bigint;
  min_nodes: number;
  max_nodes: number;
  fixed_monthly_minor: bigint;
  currency: string;
  active_from: Date;
  active_until: Date | null;
  created_at: Date;
}

export const clusterColumns =
  'id, organization_id, name, hourly_price_per_node_minor, min_nodes, max_nodes, fixed_monthly_minor, currency, active_from, active_until, created_at';

export function toCluster(row: ClusterRow): Cluster {
  return {
    id: row.id,
    organizationId: row.organization_id,
    name: row.name,
    pricing: {
      hourlyPricePerNodeMinor: row.hourly_price_per_node_minor,
      minNodes: row.min_nodes,
      maxNodes: row.max_nodes,
      fixedMonthlyMinor: row.fixed_monthly_minor,
      currency: row.currency,
    },
    activeFrom: row.active_from,
    activeUntil: row.active_until,
    createdAt: row.created_at,
  };
}

/** Another organization's cluster is answered exactly like an unknown one. */
export async function loadCluster(db: Queryable, organizationId: string, clusterId: string, forUpdate = false): Promise<Cluster> {
  const { rows } = await db.query<ClusterRow>(
    `SELECT ${clusterColumns} FROM clusters WHERE organization_id = $1 AND id = $2${forUpdate ? ' FOR UPDATE' : ''}`,
    [organizationId, clusterId],
  );
  const row = rows[0];
  if (!row) throw notFound('Cluster');
  return toCluster(row);
}

export async function listClusterRows(db: Queryable, organizationId: string): Promise<Cluster[]> {
  const { rows } = await db.query<ClusterRow>(
    `SELECT ${clusterColumns} FROM clusters WHERE organization_id = $1 ORDER BY active_from, id`,
    [organizationId],
  );
  return rows.map(toCluster);
}
