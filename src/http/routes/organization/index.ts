/** The organization billing API of seeds 000/004: `/organization/{organizationId}/…`, one error style. */
import { defineSurface } from '../../surface.js';
import { defaultProblemRenderer } from '../organization-billing-errors.js';
import { billingInfoFieldNames, billingInfoRoutes } from './billing-info.js';

export const organizationBillingSurface = defineSurface('organization-billing', defaultProblemRenderer(billingInfoFieldNames), async (app) => {
  await app.register(billingInfoRoutes);
});
