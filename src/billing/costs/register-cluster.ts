import { randomUUID } from 'node:crypto';
import sql from 'sql-template-tag';
import type { AppContext } from '../../app-context.js';
import { recordAuditEvent } from '../../audit/record-audit-event.js';
import { validateClusterPricing, type ClusterPricing } from '../../domain/cluster-cost.js';
import { conflict, invalidInput, type FieldError } from '../../errors.js';
import type { Caller } from '../../domain/actor.js';
import { enterOrganization, requireOperator } from '../organizations/organization-access.js';
import { findClusterById, insertCluster, type Cluster } from './cluster.js';

export interface RegisterClusterInput {
  organizationId: string;
  /** The operator's own id for the cluster (a retry with the same id and values registers it once); else generated. */
  id?: string;
  name: string;
  hourlyPricePerNodeMinor: bigint;
  minNodes: number;
  maxNodes: number;
  fixedMonthlyMinor: bigint;
  /** Default: the organization's currency, the only one accepted (an invoice has one currency). */
  currency?: string;
  /** Default: now. */
  activeFrom?: Date;
}

export const CLUSTER_REGISTER = 'CLUSTER_REGISTER';

/** Registers a billable cluster of an organization with its pricing, audited; `created` is false for a replayed registration. */
export async function registerCluster(
  context: AppContext,
  caller: Caller,
  input: RegisterClusterInput,
): Promise<{ cluster: Cluster; created: boolean }> {
  requireOperator(caller, 'Clusters and usage');
  const now = context.clock.now();
  const name = input.name.trim();
  const errors: FieldError[] = [];
  if (name.length < 1 || name.length > 100) errors.push({ field: 'name', reason: 'length', message: 'must be 1 to 100 characters' });
  if (input.activeFrom !== undefined && Number.isNaN(input.activeFrom.getTime())) {
    errors.push({ field: 'activeFrom', reason: 'format', message: 'must be a date-time' });
  }

  return context.database.transaction(async (tx) => {
    // Locked: registrations of one organization take turns with its other billing changes (such as its currency).
    const { currency: organizationCurrency } = await enterOrganization<{ currency: string }>(tx, caller, { id: input.organizationId }, 'operator', {
      lock: 'update',
      select: sql`o.currency`,
    });
    const pricing: ClusterPricing = {
      hourlyPricePerNodeMinor: input.hourlyPricePerNodeMinor,
      minNodes: input.minNodes,
      maxNodes: input.maxNodes,
      fixedMonthlyMinor: input.fixedMonthlyMinor,
      currency: input.currency ?? organizationCurrency,
    };
    errors.push(...validateClusterPricing(pricing).map((e): FieldError => ({ field: e.field, reason: 'invalid', message: e.message })));
    if (pricing.currency !== organizationCurrency && !errors.some((e) => e.field === 'currency')) {
      errors.push({ field: 'currency', reason: 'currency', message: `must be the organization's currency, ${organizationCurrency}` });
    }
    if (errors.length > 0) throw invalidInput(errors);

    const cluster: Cluster = {
      id: input.id ?? randomUUID(),
      organizationId: input.organizationId,
      name,
      pricing,
      activeFrom: input.activeFrom ?? now,
      activeUntil: null,
      createdAt: now,
    };
    if (input.id !== undefined) {
      const existing = await findClusterById(tx, input.id);
      if (existing !== null) {
        const sameInput = input.activeFrom === undefined || existing.activeFrom.getTime() === input.activeFrom.getTime();
        if (existing.organizationId === cluster.organizationId && existing.name === name && samePricing(existing.pricing, pricing) && sameInput) {
          return { cluster: existing, created: false };
        }
        throw conflict('cluster_id_taken', 'A cluster with this id is already registered with other values');
      }
    }
    await insertCluster(tx, cluster);
    await recordAuditEvent(tx, caller, now, {
      organizationId: cluster.organizationId,
      type: CLUSTER_REGISTER,
      changes: {
        clusterId: cluster.id,
        name,
        hourlyPricePerNodeMinor: pricing.hourlyPricePerNodeMinor,
        minNodes: pricing.minNodes,
        maxNodes: pricing.maxNodes,
        fixedMonthlyMinor: pricing.fixedMonthlyMinor,
        currency: pricing.currency,
        activeFrom: cluster.activeFrom,
      },
    });
    return { cluster, created: true };
  });
}

function samePricing(a: ClusterPricing, b: ClusterPricing): boolean {
  return (
    a.hourlyPricePerNodeMinor === b.hourlyPricePerNodeMinor &&
    a.minNodes === b.minNodes &&
    a.maxNodes === b.maxNodes &&
    a.fixedMonthlyMinor === b.fixedMonthlyMinor &&
    a.currency === b.currency
  );
}
