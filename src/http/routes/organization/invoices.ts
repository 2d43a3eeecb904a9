/** Seed 000/004: invoices, invoice PDF links, e-mail of all invoices. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

export const invoiceRoutes: FastifyPluginAsyncTypebox = async () => {
  // routes are added here
};
