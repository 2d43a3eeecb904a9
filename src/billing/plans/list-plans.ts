import type { AppContext } from '../../app-context.js';
import type { Caller } from '../../domain/actor.js';
import { requireOperator } from '../organizations/organization-access.js';
import { listPlanRows, type Plan } from './plan.js';

/** The whole catalogue, by code (operators only). */
export async function listPlans(context: AppContext, caller: Caller): Promise<Plan[]> {
  requireOperator(caller, 'Plans');
  return listPlanRows(context.database);
}
