import type { AppContext } from '../../app-context.js';
import { periodContaining, type BillingPeriod } from '../../domain/billing-period.js';
import { remainingTrialDays } from '../../domain/trial.js';
import { notFound } from '../../errors.js';
import type { Caller } from '../../domain/actor.js';
import { authorize } from '../access/authorize.js';
import { getCreditBalance } from '../credits/credit-balance.js';
import { loadPlanFeeLines } from '../plans/plan-fee-lines.js';
import { loadClusterCharges } from './cluster-charges.js';

export interface OrganizationCurrentCost {
  plan: string;
  currency: string;
  period: BillingPeriod;
  remainingTrialDays: number;
  /** The end of the current period, when the next invoice is made. */
  renewalAt: Date;
  /** Plan fee prorated to now (trial time free) plus every cluster's cost so far. */
  totalMinor: bigint;
  planFeeMinor: bigint;
  clustersMinor: bigint;
  /** The credit balance (the ledger), in the organization's currency. */
  creditBalanceMinor: bigint;
}

/** What the current billing period has cost so far, computed as its invoice would be if the period ended now. */
export async function getOrganizationCurrentCost(
  context: AppContext,
  request: Caller,
  organizationId: string,
): Promise<OrganizationCurrentCost> {
  const now = context.clock.now();
  const db = context.database;
  await authorize(db, request.actor, organizationId, 'billing');
  const { rows } = await db.query<{ plan: string; currency: string; trial_ends_at: Date | null }>(
    'SELECT plan, currency, trial_ends_at FROM organizations WHERE id = $1',
    [organizationId],
  );
  const organization = rows[0];
  if (!organization) throw notFound('Organization');
  const period = periodContaining(now);
  // One read after another: fanning them out over the pool measured slower under load (bench/plans-and-costs).
  const planLines = await loadPlanFeeLines(db, organizationId, period, { until: now });
  const clusterCharges = await loadClusterCharges(db, organizationId, period, { until: now });
  const creditBalanceMinor = await getCreditBalance(db, organizationId, organization.currency);
  const planFeeMinor = planLines.reduce((sum, line) => sum + line.amountMinor, 0n);
  const clustersMinor = clusterCharges.reduce((sum, entry) => sum + entry.charge.amountMinor, 0n);
  return {
    plan: organization.plan,
    currency: organization.currency,
    period,
    remainingTrialDays: remainingTrialDays(organization.trial_ends_at, now),
    renewalAt: period.end,
    totalMinor: planFeeMinor + clustersMinor,
    planFeeMinor,
    clustersMinor,
    creditBalanceMinor,
  };
}
