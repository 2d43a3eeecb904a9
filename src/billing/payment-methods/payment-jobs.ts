import type { AppContext } from '../../app-context.js';
import { detachPaymentMethodQueue, syncCustomerQueue } from '../../jobs/queues.js';
import { detachPaymentMethod, isDetachPaymentMethodPayload } from './detach-payment-method.js';
import { isSyncProviderCustomerPayload, syncProviderCustomer } from './sync-provider-customer.js';

/** Workers of the payment capability: provider customer sync and provider-side detach of removed cards. */
export function registerPaymentJobs(context: AppContext): void {
  context.jobs.register(syncCustomerQueue, async (payload) => {
    if (!isSyncProviderCustomerPayload(payload)) throw new Error(`${syncCustomerQueue}: payload without organizationId`);
    const outcome = await syncProviderCustomer(context, payload.organizationId);
    context.logger.info({ organizationId: payload.organizationId, outcome }, 'provider customer sync');
  });
  context.jobs.register(detachPaymentMethodQueue, async (payload) => {
    if (!isDetachPaymentMethodPayload(payload)) throw new Error(`${detachPaymentMethodQueue}: payload without provider reference`);
    const outcome = await detachPaymentMethod(context, payload);
    context.logger.info({ provider: payload.provider, outcome }, 'provider payment method detach');
  });
}
