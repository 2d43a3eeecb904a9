/** Operator API: billing runs and invoice status changes. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

export const adminBillingRunRoutes: FastifyPluginAsyncTypebox = async () => {
  // routes are added here
};
