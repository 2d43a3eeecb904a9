/** Operator API: plan catalogue, clusters, usage events, test clock. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

export const adminPlanAndClusterRoutes: FastifyPluginAsyncTypebox = async () => {
  // routes are added here
};
