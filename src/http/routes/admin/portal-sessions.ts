/** Operator API: a one-time link to an organization's billing page (the customer portal). */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { createPortalSession } from '../../../billing/portal/create-portal-session.js';
import { errorResponses, nullable, OrganizationIdParams } from '../../schemas.js';
import { callerOf } from '../../surface.js';

const PortalSessionRequest = Type.Object(
  {
    return_url: Type.Optional(
      nullable(Type.String({ maxLength: 2048, description: "Where the page's way back leads (the platform's console): an absolute http(s) URL" })),
    ),
    user_id: Type.Optional(
      nullable(Type.String({ minLength: 1, maxLength: 255, description: "The platform's user the link is for; audited with every action of the session" })),
    ),
  },
  { title: 'PortalSessionRequest', additionalProperties: false },
);

const PortalSession = Type.Object(
  {
    url: Type.String({ description: 'Absolute link to the billing page; opens once, within expires_at' }),
    expires_at: Type.String({ format: 'date-time', description: '10 minutes after creation (wall-clock time)' }),
  },
  { title: 'PortalSession' },
);

export const adminPortalSessionRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/admin/organizations/:organizationId/portal-sessions',
    {
      config: { auth: 'operator' },
      schema: {
        operationId: 'adminCreatePortalSession',
        summary: "Create a link to an organization's billing page",
        description:
          'The link is usable once and for 10 minutes of wall-clock time; opening it starts a one-hour session on the billing page for ' +
          'this organization only, with billing-manager rights, audited as actor "portal" (with user_id when given).',
        tags: ['Operator'],
        params: OrganizationIdParams,
        body: Type.Optional(PortalSessionRequest),
        response: { 201: PortalSession, ...errorResponses(400, 401, 403, 404, 413) },
      },
    },
    async (request, reply) => {
      const link = await createPortalSession(request.bursar, callerOf(request), {
        organizationId: request.params.organizationId,
        returnUrl: request.body?.return_url,
        userId: request.body?.user_id,
        requestBaseUrl: `${request.protocol}://${request.host}`,
      });
      return reply.status(201).send({ url: link.url, expires_at: link.expiresAt.toISOString() });
    },
  );
};
