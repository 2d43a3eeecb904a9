import { forbidden } from '../../errors.js';
import type { RequestContext } from '../access/actor.js';

/** Credit codes are managed by operators only; the HTTP layer checks it too, the core does not rely on that. */
export function requireOperator(request: RequestContext): void {
  if (request.actor.type !== 'operator' && request.actor.type !== 'system') throw forbidden('Credit codes are managed by operators');
}
