/** The organization billing API of seeds 000/004: `/organization/{organizationId}/…`, one error style. */
import { defineSurface } from '../../surface.js';
import { defaultProblemRenderer } from '../organization-billing-errors.js';
import { billingExternalIdRoutes } from './billing-external-id.js';
import { billingInfoFieldNames, billingInfoRoutes } from './billing-info.js';
import { creditCardRoutes } from './credit-cards.js';
import { creditNoteRoutes } from './credit-notes.js';
import { creditRoutes } from './credits.js';
import { invoiceRoutes } from './invoices.js';
import { planAndCostRoutes } from './plans-and-costs.js';
import { usageReportRoutes } from './usage-reports.js';

export const organizationBillingSurface = defineSurface('organization-billing', defaultProblemRenderer(billingInfoFieldNames), async (app) => {
  await app.register(billingInfoRoutes);
  await app.register(creditCardRoutes);
  await app.register(creditRoutes);
  await app.register(planAndCostRoutes);
  await app.register(invoiceRoutes);
  await app.register(creditNoteRoutes);
  await app.register(billingExternalIdRoutes);
  await app.register(usageReportRoutes);
});
