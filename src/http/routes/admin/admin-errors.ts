/** Error style of the operator API: the default style, with core field names translated to this API's own. */
import { defaultProblemRenderer } from '../organization-billing-errors.js';

/** Core field → this API's field, for error messages. */
const adminFieldNames: Record<string, string> = {
  monthlyPriceMinor: 'monthly_price_in_cents',
  trialDays: 'trial_days',
  creditGrantMinor: 'credit_grant_in_cents',
  creditGrantMode: 'credit_grant_mode',
  hourlyPricePerNodeMinor: 'hourly_price_per_node_in_cents',
  minNodes: 'min_nodes',
  maxNodes: 'max_nodes',
  fixedMonthlyMinor: 'fixed_monthly_in_cents',
  activeFrom: 'active_from',
  activeUntil: 'active_until',
  asOf: 'as_of',
  returnUrl: 'return_url',
  userId: 'user_id',
  amountMinor: 'amount_in_cents',
};

export const renderAdminProblem = defaultProblemRenderer(adminFieldNames);
