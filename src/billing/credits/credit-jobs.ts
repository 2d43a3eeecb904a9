import type { AppContext } from '../../app-context.js';
import { grantPeriodicPlanCredits, periodicPlanCreditGrants } from './plan-credit-grant.js';

/** Workers of the credits capability: the plans' credit grants at the start of every period. */
export function registerCreditJobs(context: AppContext): void {
  context.jobs.registerRecurring(periodicPlanCreditGrants, async (payload) => {
    const granted = await grantPeriodicPlanCredits(context, payload);
    if (granted > 0) context.logger.info({ granted }, 'plan credits granted for the period');
  });
}
