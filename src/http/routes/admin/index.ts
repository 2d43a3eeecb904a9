/** The operator API (`/admin/…`), authenticated by the operator token, in the default error style. */
import { defineSurface } from '../../surface.js';
import { renderDefaultProblem } from '../organization-billing-errors.js';
import { adminOrganizationRoutes } from './organizations.js';

export const adminSurface = defineSurface('admin', renderDefaultProblem, async (app) => {
  await app.register(adminOrganizationRoutes);
});
