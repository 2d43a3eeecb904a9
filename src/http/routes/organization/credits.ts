/** Seed 000/004: credit codes, and the credit balance with its ledger. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

export const creditRoutes: FastifyPluginAsyncTypebox = async () => {
  // routes are added here
};
