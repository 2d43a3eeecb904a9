import sql from 'sql-template-tag';
import type { AppContext } from '../../app-context.js';
import type { Caller } from '../../domain/actor.js';
import { periodContaining, type BillingPeriod } from '../../domain/billing-period.js';
import { remainingTrialDays, trialWindowOf } from '../../domain/trial.js';
import { enterOrganization } from '../organizations/organization-access.js';
import { planFeeLinesOf } from '../plans/plan-fee-lines.js';
import { spansFromJson, spansOverlappingJson, type SpanJson } from '../plans/plan-subscriptions.js';
import { chargesFromJson, clusterChargesJson, type ClusterChargesJson } from './cluster-charges.js';

export interface OrganizationCurrentCost {
  plan: string;
  currency: string;
  period: BillingPeriod;
  remainingTrialDays: number;
  /** The end of the current period, when the next invoice is made. */
  renewalAt: Date;
  /** Plan fee prorated to now (the trial window free) plus every cluster's cost so far. */
  totalMinor: bigint;
  planFeeMinor: bigint;
  clustersMinor: bigint;
  /** The credit balance (the ledger), in the organization's currency. */
  creditBalanceMinor: bigint;
}

interface CostData {
  plan: string;
  currency: string;
  trial_started_at: Date | null;
  trial_ends_at: Date | null;
  plan_spans: SpanJson[];
  cluster_charges: ClusterChargesJson;
  credit_balance_minor: bigint;
}

/**
 * What the current billing period has cost so far, computed as its invoice would be if the period ended now.
 * One round trip (a hot read): the entry into the organization reads the plan history, the clusters with their
 * usage and the credit balance in the same statement.
 */
export async function getOrganizationCurrentCost(context: AppContext, caller: Caller, organizationId: string): Promise<OrganizationCurrentCost> {
  const now = context.clock.now();
  const period = periodContaining(now);
  const window = { until: now };
  // The credit balance as credits/credit-balance.ts sums it: the ledger in the organization's currency.
  const organization = await enterOrganization<CostData>(context.database, caller, { id: organizationId }, 'billing.read', {
    select: sql`o.plan, o.currency, o.trial_started_at, o.trial_ends_at,
                ${spansOverlappingJson(period)} AS plan_spans,
                ${clusterChargesJson(period, window)} AS cluster_charges,
                (SELECT COALESCE(SUM(l.amount_minor), 0)::int8 FROM credit_ledger_entries l
                  WHERE l.organization_id = o.id AND l.currency = o.currency) AS credit_balance_minor`,
    prepare: 'organization_current_cost',
  });
  const planLines = planFeeLinesOf(spansFromJson(organization.plan_spans), trialWindowOf(organization.trial_started_at, organization.trial_ends_at), period, window);
  const clusterCharges = chargesFromJson(organization.cluster_charges, period, window);
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
    creditBalanceMinor: organization.credit_balance_minor,
  };
}
