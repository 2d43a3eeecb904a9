/** Every job queue's worker, registered in every process (any process may run any job). */
import type { AppContext } from '../app-context.js';

export function registerJobHandlers(_context: AppContext): void {
  // Queues register here as capabilities add them (provider sync, invoice e-mails, billing runs, archives).
}
