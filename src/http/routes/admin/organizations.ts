/** Operator API: organizations, memberships, API tokens and the audit trail. */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { createOrganization } from '../../../billing/organizations/create-organization.js';
import { listOrganizations } from '../../../billing/organizations/list-organizations.js';
import type { Organization } from '../../../billing/organizations/organization.js';
import { removeMembership, setMembership } from '../../../billing/organizations/manage-members.js';
import { createApiToken, listApiTokens, revokeApiToken } from '../../../billing/organizations/manage-api-tokens.js';
import { listOrganizationAuditEvents } from '../../../billing/organizations/list-organization-audit-events.js';
import { errorResponses, ListSchema, nullable, OrganizationIdParams, pagedListSchema, pageQueryValues, toPageBody } from '../../schemas.js';
import { callerOf } from '../../surface.js';

const Role = Type.Union([Type.Literal('owner'), Type.Literal('admin'), Type.Literal('billing'), Type.Literal('member')]);
const tags = ['Operator'];
const operatorOnly = { auth: 'operator' as const };

const OrganizationSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  slug: Type.String(),
  name: Type.String(),
  plan: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
});

function toOrganizationBody(organization: Organization) {
  return {
    id: organization.id,
    slug: organization.slug,
    name: organization.name,
    plan: organization.plan,
    created_at: organization.createdAt.toISOString(),
  };
}

const ApiTokenSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  role: Role,
  created_at: Type.String({ format: 'date-time' }),
  revoked_at: nullable(Type.String({ format: 'date-time' })),
});

const AuditEventSchema = Type.Object({
  id: Type.String(),
  type: Type.String(),
  actor_type: Type.String(),
  actor_id: nullable(Type.String()),
  surface: Type.String(),
  changes: Type.Record(Type.String(), Type.Unknown()),
  request_id: nullable(Type.String()),
  created_at: Type.String({ format: 'date-time' }),
});

export const adminOrganizationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/admin/organizations',
    {
      config: operatorOnly,
      schema: {
        operationId: 'adminCreateOrganization',
        tags,
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 100 }),
            slug: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z0-9][a-z0-9-]*$' })),
            plan: Type.Optional(
              Type.String({
                minLength: 1,
                maxLength: 64,
                description: 'The plan it starts on; default BURSAR_DEFAULT_PLAN (FREE). A plan that grants credits grants them now',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 201: OrganizationSchema, ...errorResponses(400, 401, 403, 409, 413) },
      },
    },
    async (request, reply) => {
      const organization = await createOrganization(request.bursar, callerOf(request), request.body);
      return reply.status(201).send(toOrganizationBody(organization));
    },
  );

  app.get(
    '/admin/organizations',
    {
      config: operatorOnly,
      schema: {
        operationId: 'adminListOrganizations',
        summary: 'List or search organizations',
        description: 'By slug, a page at a time: pass `next_cursor` back as `cursor` until it is null. `q` keeps the organizations whose name or slug contains it, in any case.',
        tags,
        ...pagedListSchema({
          title: 'OrganizationPage',
          item: OrganizationSchema,
          filters: { q: Type.Optional(Type.String({ maxLength: 100, description: 'Part of a name or slug' })) },
        }),
      },
    },
    async (request) => {
      const page = await listOrganizations(request.bursar, callerOf(request), { query: request.query.q, ...pageQueryValues(request.query) });
      return toPageBody(page, toOrganizationBody);
    },
  );

  const memberParams = Type.Object({ organizationId: Type.String({ format: 'uuid' }), userId: Type.String({ minLength: 1, maxLength: 255 }) });

  app.put(
    '/admin/organizations/:organizationId/members/:userId',
    {
      config: operatorOnly,
      schema: {
        operationId: 'adminSetMember',
        tags,
        params: memberParams,
        body: Type.Object({ role: Role }, { additionalProperties: false }),
        response: {
          200: Type.Object({ organization_id: Type.String(), user_id: Type.String(), role: Role, created_at: Type.String({ format: 'date-time' }) }),
          ...errorResponses(400, 401, 403, 404),
        },
      },
    },
    async (request) => {
      const member = await setMembership(request.bursar, callerOf(request), {
        organizationId: request.params.organizationId,
        userId: request.params.userId,
        role: request.body.role,
      });
      return { organization_id: member.organizationId, user_id: member.userId, role: member.role, created_at: member.createdAt.toISOString() };
    },
  );

  app.delete(
    '/admin/organizations/:organizationId/members/:userId',
    {
      config: operatorOnly,
      schema: { operationId: 'adminRemoveMember', tags, params: memberParams, response: { 204: Type.Null(), ...errorResponses(400, 401, 403, 404) } },
    },
    async (request, reply) => {
      await removeMembership(request.bursar, callerOf(request), request.params);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/admin/organizations/:organizationId/audit-events',
    {
      config: operatorOnly,
      schema: {
        operationId: 'adminListAuditEvents',
        description: 'The audit trail of an organization, newest first.',
        tags,
        params: OrganizationIdParams,
        querystring: Type.Object(
          { limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })), type: Type.Optional(Type.String({ maxLength: 64 })) },
          { additionalProperties: false },
        ),
        response: { 200: ListSchema(AuditEventSchema), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { limit, type } = request.query;
      const events = await listOrganizationAuditEvents(request.bursar, callerOf(request), {
        organizationId: request.params.organizationId,
        limit: limit === undefined ? undefined : Number(limit),
        type,
      });
      return {
        results: events.map((event) => ({
          id: event.id,
          type: event.type,
          actor_type: event.actor_type,
          actor_id: event.actor_id,
          surface: event.surface,
          changes: event.changes,
          request_id: event.request_id,
          created_at: event.created_at.toISOString(),
        })),
      };
    },
  );

  app.post(
    '/admin/organizations/:organizationId/api-tokens',
    {
      config: operatorOnly,
      schema: {
        operationId: 'adminCreateApiToken',
        description: 'Creates an organization API token (used as "Authorization: Token <token>"). The token is shown only in this answer.',
        tags,
        params: OrganizationIdParams,
        body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }), role: Role }, { additionalProperties: false }),
        response: { 201: Type.Intersect([ApiTokenSchema, Type.Object({ token: Type.String() })]), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const token = await createApiToken(request.bursar, callerOf(request), {
        organizationId: request.params.organizationId,
        name: request.body.name,
        role: request.body.role,
      });
      return reply.status(201).send({
        id: token.id,
        name: token.name,
        role: token.role,
        created_at: token.createdAt.toISOString(),
        revoked_at: null,
        token: token.token,
      });
    },
  );

  app.get(
    '/admin/organizations/:organizationId/api-tokens',
    {
      config: operatorOnly,
      schema: {
        operationId: 'adminListApiTokens',
        tags,
        params: OrganizationIdParams,
        response: { 200: ListSchema(ApiTokenSchema), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const tokens = await listApiTokens(request.bursar, callerOf(request), request.params.organizationId);
      return {
        results: tokens.map((t) => ({
          id: t.id,
          name: t.name,
          role: t.role,
          created_at: t.createdAt.toISOString(),
          revoked_at: t.revokedAt?.toISOString() ?? null,
        })),
      };
    },
  );

  app.delete(
    '/admin/organizations/:organizationId/api-tokens/:tokenId',
    {
      config: operatorOnly,
      schema: {
        operationId: 'adminRevokeApiToken',
        tags,
        params: Type.Object({ organizationId: Type.String({ format: 'uuid' }), tokenId: Type.String({ format: 'uuid' }) }),
        response: { 204: Type.Null(), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await revokeApiToken(request.bursar, callerOf(request), request.params);
      return reply.status(204).send(null);
    },
  );
};

