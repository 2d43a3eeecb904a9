/** Seed 000/004 client: GET /organization/{organizationId}/billingExternalId. */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { getBillingExternalId } from '../../../billing/payment-methods/get-billing-external-id.js';
import { errorResponses, OrganizationIdParams } from '../../schemas.js';
import { callerOf } from '../../surface.js';

const BillingExternalId = Type.Object(
  { id: Type.String({ description: "The payment provider's customer id of the organization", examples: ['cus_Q1w2e3r4t5y6'] }) },
  { title: 'BillingExternalId' },
);

export const billingExternalIdRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/organization/:organizationId/billingExternalId',
    {
      schema: {
        operationId: 'getOrganizationBillingExternalId',
        summary: 'Get organization billing external ID',
        description:
          "This endpoint returns the external ID of the organization's billing account: the payment provider's customer id. " +
          'An organization without one yet gets it created on this call.',
        tags: ['Billing'],
        params: OrganizationIdParams,
        response: { 200: BillingExternalId, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => ({ id: await getBillingExternalId(request.bursar, callerOf(request), request.params.organizationId) }),
  );
};
