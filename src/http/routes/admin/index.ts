/** The operator API (`/admin/…`), authenticated by the operator token, in the default error style. */
import { defineSurface } from '../../surface.js';
import { renderAdminProblem } from './admin-errors.js';
import { adminBillingRunRoutes } from './billing-runs.js';
import { adminCreditCodeRoutes } from './credit-codes.js';
import { adminInvoiceCreditNoteRoutes } from './invoice-credit-notes.js';
import { adminJobRoutes } from './jobs.js';
import { adminOrganizationRoutes } from './organizations.js';
import { adminPlanAndClusterRoutes } from './plans-and-clusters.js';
import { adminWebhookRoutes } from './webhooks.js';
import { adminPortalSessionRoutes } from './portal-sessions.js';
import { adminSellerRoutes } from './seller.js';
import { adminTaxRateRoutes } from './tax-rates.js';

export const adminSurface = defineSurface('admin', renderAdminProblem, async (app) => {
  await app.register(adminOrganizationRoutes);
  await app.register(adminCreditCodeRoutes);
  await app.register(adminPlanAndClusterRoutes);
  await app.register(adminBillingRunRoutes);
  await app.register(adminJobRoutes);
  await app.register(adminWebhookRoutes);
  await app.register(adminPortalSessionRoutes);
  await app.register(adminSellerRoutes);
  await app.register(adminTaxRateRoutes);
  await app.register(adminInvoiceCreditNoteRoutes);
});
