/** The `clusters` table: billable clusters (or any billable resource) of an organization, with the pricing they were registered with. */
import sql, { empty, raw, type Sql } from 'sql-template-tag';
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

const columnNames = [
  'id',
  'organization_id',
  'name',
  'hourly_price_per_node_minor',
  'min_nodes',
  'max_nodes',
  'fixed_monthly_minor',
  'currency',
  'active_from',
  'active_until',
  'created_at',
] as const satisfies ReadonlyArray<keyof ClusterRow>;

/** The columns of a `ClusterRow`, for `SELECT ${clusterColumns} FROM clusters`. */
export const clusterColumns: Sql = raw(columnNames.join(', '));

/**
 * A cluster row as a JSON object (for statements that read clusters together with other data): money as text, so
 * that no amount passes through a JS number; `fromClusterJson` reads it back.
 */
export function clusterJson(alias: string): Sql {
  const money = new Set<string>(['hourly_price_per_node_minor', 'fixed_monthly_minor']);
  return raw(`json_build_object(${columnNames.map((name) => `'${name}', ${alias}.${name}${money.has(name) ? '::text' : ''}`).join(', ')})`);
}

export type ClusterJson = Omit<ClusterRow, 'hourly_price_per_node_minor' | 'fixed_monthly_minor' | 'active_from' | 'active_until' | 'created_at'> & {
  hourly_price_per_node_minor: string;
  fixed_monthly_minor: string;
  active_from: string;
  active_until: string | null;
  created_at: string;
};

export function fromClusterJson(json: ClusterJson): ClusterRow {
  return {
    ...json,
    hourly_price_per_node_minor: BigInt(json.hourly_price_per_node_minor),
    fixed_monthly_minor: BigInt(json.fixed_monthly_minor),
    active_from: new Date(json.active_from),
    active_until: json.active_until === null ? null : new Date(json.active_until),
    created_at: new Date(json.created_at),
  };
}

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

/** Another organization's cluster is answered exactly like an unknown one. `forUpdate` locks its row. */
export async function loadCluster(db: Queryable, organizationId: string, clusterId: string, forUpdate = false): Promise<Cluster> {
  const { rows } = await db.query<ClusterRow>(
    sql`SELECT ${clusterColumns} FROM clusters WHERE organization_id = ${organizationId}::uuid AND id = ${clusterId}::uuid
        ${forUpdate ? raw('FOR UPDATE') : empty}`,
  );
  const row = rows[0];
  if (!row) throw notFound('Cluster');
  return toCluster(row);
}

/** The cluster of that id in any organization, or null (a registration replayed with the operator's own id). */
export async function findClusterById(db: Queryable, clusterId: string): Promise<Cluster | null> {
  const { rows } = await db.query<ClusterRow>(sql`SELECT ${clusterColumns} FROM clusters WHERE id = ${clusterId}::uuid`);
  return rows[0] ? toCluster(rows[0]) : null;
}

export async function listClusterRows(db: Queryable, organizationId: string): Promise<Cluster[]> {
  const { rows } = await db.query<ClusterRow>(
    sql`SELECT ${clusterColumns} FROM clusters WHERE organization_id = ${organizationId}::uuid ORDER BY active_from, id`,
  );
  return rows.map(toCluster);
}

export async function insertCluster(tx: Queryable, cluster: Cluster): Promise<void> {
  const { pricing } = cluster;
  await tx.query(
    sql`INSERT INTO clusters (${clusterColumns})
        VALUES (${cluster.id}::uuid, ${cluster.organizationId}::uuid, ${cluster.name}, ${pricing.hourlyPricePerNodeMinor}::int8, ${pricing.minNodes}::int4,
                ${pricing.maxNodes}::int4, ${pricing.fixedMonthlyMinor}::int8, ${pricing.currency}, ${cluster.activeFrom}::timestamptz,
                ${cluster.activeUntil}::timestamptz, ${cluster.createdAt}::timestamptz)`,
  );
}

/** Ends the billing of a cluster at `activeUntil` (exclusive). */
export async function setClusterActiveUntil(tx: Queryable, cluster: Pick<Cluster, 'id' | 'organizationId'>, activeUntil: Date): Promise<void> {
  await tx.query(
    sql`UPDATE clusters SET active_until = ${activeUntil}::timestamptz WHERE organization_id = ${cluster.organizationId}::uuid AND id = ${cluster.id}::uuid`,
  );
}
