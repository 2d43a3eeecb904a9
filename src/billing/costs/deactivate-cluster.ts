import type { AppContext } from '../../app-context.js';
import { recordAuditEvent } from '../../audit/record-audit-event.js';
import { conflict, invalidInput } from '../../errors.js';
import type { Caller } from '../../domain/actor.js';
import { requireOperator } from '../organizations/organization-access.js';
import { loadCluster, setClusterActiveUntil, type Cluster } from './cluster.js';

export const CLUSTER_DEACTIVATE = 'CLUSTER_DEACTIVATE';

/**
 * Ends the billing of a cluster at `activeUntil` (default: now), audited. Setting the same end again changes
 * nothing; an end may move earlier but never later, which would raise a maximum already shown.
 */
export async function deactivateCluster(
  context: AppContext,
  caller: Caller,
  input: { organizationId: string; clusterId: string; activeUntil?: Date },
): Promise<Cluster> {
  requireOperator(caller, 'Clusters and usage');
  const now = context.clock.now();
  const activeUntil = input.activeUntil ?? now;
  if (Number.isNaN(activeUntil.getTime())) throw invalidInput([{ field: 'activeUntil', reason: 'format', message: 'must be a date-time' }]);
  return context.database.transaction(async (tx) => {
    const cluster = await loadCluster(tx, input.organizationId, input.clusterId, true);
    if (activeUntil < cluster.activeFrom) {
      throw invalidInput([{ field: 'activeUntil', reason: 'before_active_from', message: 'must not be before the cluster became active' }]);
    }
    if (cluster.activeUntil !== null) {
      if (cluster.activeUntil.getTime() === activeUntil.getTime()) return cluster;
      if (activeUntil > cluster.activeUntil) {
        throw conflict('cluster_already_deactivated', 'The cluster is already deactivated; its end can move earlier, not later');
      }
    }
    await setClusterActiveUntil(tx, cluster, activeUntil);
    await recordAuditEvent(tx, caller, now, {
      organizationId: input.organizationId,
      type: CLUSTER_DEACTIVATE,
      changes: { clusterId: cluster.id, activeUntil: { old: cluster.activeUntil, new: activeUntil } },
    });
    return { ...cluster, activeUntil };
  });
}
