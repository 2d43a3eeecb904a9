import type { AppContext } from '../../app-context.js';
import { forbidden } from '../../errors.js';
import type { Caller } from '../../domain/actor.js';
import { listPlanRows, type Plan } from './plan.js';

/** The whole catalogue, by code (operators only). */
export async function listPlans(context: AppContext, request: Caller): Promise<Plan[]> {
  if (request.actor.type !== 'operator' && request.actor.type !== 'system') throw forbidden('Plans are managed by operators');
  return listPlanRows(context.database);
}
