import type { AppContext } from '../../app-context.js';

/** Workers of the payment capability (provider customer sync). */
export function registerPaymentJobs(_context: AppContext): void {}
