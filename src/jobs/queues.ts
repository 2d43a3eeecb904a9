/** Names of the job queues, in one place so that producers and workers agree. */
export const syncCustomerQueue = 'payments.sync-customer';
