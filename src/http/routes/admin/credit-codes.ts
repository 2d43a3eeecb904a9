/** Operator API: credit codes. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

export const adminCreditCodeRoutes: FastifyPluginAsyncTypebox = async () => {
  // routes are added here
};
