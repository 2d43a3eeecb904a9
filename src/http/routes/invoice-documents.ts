/** Public: invoice PDFs and archives behind signed, expiring links (no credentials). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

export const invoiceDocumentRoutes: FastifyPluginAsyncTypebox = async () => {
  // routes are added here
};
