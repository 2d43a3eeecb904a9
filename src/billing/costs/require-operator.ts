import { forbidden } from '../../errors.js';
import type { RequestContext } from '../access/actor.js';

/** Clusters and usage are registered by operators only; the HTTP layer checks it too, the core does not rely on that. */
export function requireOperator(request: RequestContext): void {
  if (request.actor.type !== 'operator' && request.actor.type !== 'system') throw forbidden('Clusters and usage are managed by operators');
}
