/** Seed 000/004: plan changes, current costs and billing status. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

export const planAndCostRoutes: FastifyPluginAsyncTypebox = async () => {
  // routes are added here
};
