/** Seed 000/004: credit cards of an organization. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

export const creditCardRoutes: FastifyPluginAsyncTypebox = async () => {
  // routes are added here
};
