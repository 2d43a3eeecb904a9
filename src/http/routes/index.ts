import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { adminSurface } from './admin/index.js';
import { billingAddressesSurface } from './billing-addresses.js';
import { externalOrgsSurface } from './external-orgs.js';
import { organizationBillingDetailsSurface } from './organization-billing-details.js';
import { organizationBillingSurface } from './organization/index.js';
import { invoiceDocumentRoutes } from './invoice-documents.js';
import { usageReportDocumentRoutes } from './usage-report-documents.js';
import { providerEventRoutes } from './provider-events.js';
import { limitDocumentDownloads } from '../document-download-limit.js';
import { defineSurface } from '../surface.js';
import { renderDefaultProblem } from './organization-billing-errors.js';

const documentRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.addHook('onRequest', limitDocumentDownloads);
  await app.register(invoiceDocumentRoutes);
  await app.register(usageReportDocumentRoutes);
};

export const registerRoutes: FastifyPluginAsyncTypebox = async (app) => {
  await app.register(organizationBillingSurface);
  await app.register(externalOrgsSurface);
  await app.register(organizationBillingDetailsSurface);
  await app.register(billingAddressesSurface);
  await app.register(adminSurface);
  await app.register(defineSurface('documents', renderDefaultProblem, documentRoutes));
  await app.register(defineSurface('provider_events', renderDefaultProblem, providerEventRoutes));
};
