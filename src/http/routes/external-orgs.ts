/**
 * Seed 001: GET and PATCH /api/v2/external/orgs/{slug}: partial update of the organization's name, slug, billing
 * e-mail and billing_* company details. Only fields present are applied; null clears a field.
 * Errors in this API's style: `{ "detail": "…" }`, and 422 `{ "detail": [{ "type", "loc", "msg" }] }` for bad input.
 */
import { Type, type FastifyPluginAsyncTypebox, type Static } from '@fastify/type-provider-typebox';
import type { BillingProfile, ProfilePatch } from '../../billing/profile/billing-profile.js';
import { readProfileWithEtag, updateProfileIfMatch } from '../billing-profile-versions.js';
import { fieldPathSegments, type Problem } from '../problem.js';
import { nullable, TaxIdStatusSchema } from '../schemas.js';
import { taxIdStatus } from '../../domain/tax-ids.js';
import { defineSurface } from '../surface.js';

const detailsFields = {
  billing_company_name: 'companyName',
  billing_address_line1: 'addressLine1',
  billing_address_line2: 'addressLine2',
  billing_city: 'city',
  billing_state: 'state',
  billing_postal_code: 'postalCode',
  billing_country: 'country',
  billing_tax_id: 'taxId',
  billing_tax_id_type: 'taxIdType',
} as const satisfies Record<string, keyof ProfilePatch>;

const fieldNames: Record<string, string> = {
  ...Object.fromEntries(Object.entries(detailsFields).map(([surfaceName, domainName]) => [domainName, surfaceName])),
  email: 'billing_email',
  name: 'name',
  slug: 'slug',
};

const SlugPattern = '^[a-z0-9][a-z0-9-]*$';

const OrgBillingDetails = Type.Object(
  {
    billing_company_name: nullable(Type.String({ maxLength: 255 })),
    billing_address_line1: nullable(Type.String({ maxLength: 255 })),
    billing_address_line2: nullable(Type.String({ maxLength: 255 })),
    billing_city: nullable(Type.String({ maxLength: 128 })),
    billing_state: nullable(Type.String({ maxLength: 128 })),
    billing_postal_code: nullable(Type.String({ maxLength: 32 })),
    billing_country: nullable(Type.String({ maxLength: 2 })),
    billing_tax_id: nullable(Type.String({ maxLength: 64 })),
    billing_tax_id_type: nullable(Type.String({ maxLength: 32 })),
  },
  {
    title: 'OrgBillingDetails',
    description:
      "An org's company billing details. Synced onto the payment provider's customer so they render on invoices (Bill to / VAT). All optional.",
  },
);

const OrgResponse = Type.Object(
  {
    slug: Type.String({ minLength: 1, maxLength: 64, pattern: SlugPattern }),
    name: Type.String({ minLength: 1, maxLength: 100 }),
    id: Type.String(),
    created_at: Type.String({ format: 'date-time' }),
    billing_email: nullable(Type.String()),
    billing_details: OrgBillingDetails,
    billing_tax_id_status: TaxIdStatusSchema,
  },
  { title: 'OrgResponse' },
);

const OrgPatch = Type.Object(
  {
    billing_company_name: Type.Optional(nullable(Type.String({ maxLength: 255 }))),
    billing_address_line1: Type.Optional(nullable(Type.String({ maxLength: 255 }))),
    billing_address_line2: Type.Optional(nullable(Type.String({ maxLength: 255 }))),
    billing_city: Type.Optional(nullable(Type.String({ maxLength: 128 }))),
    billing_state: Type.Optional(nullable(Type.String({ maxLength: 128 }))),
    billing_postal_code: Type.Optional(nullable(Type.String({ maxLength: 32 }))),
    billing_country: Type.Optional(nullable(Type.String({ maxLength: 2, description: 'ISO 3166-1 alpha-2' }))),
    billing_tax_id: Type.Optional(nullable(Type.String({ maxLength: 64 }))),
    billing_tax_id_type: Type.Optional(nullable(Type.String({ maxLength: 32, description: "One of the payment provider's tax id types (Stripe's: eu_vat, gb_vat, us_ein, …)" }))),
    name: Type.Optional(nullable(Type.String({ minLength: 1, maxLength: 100 }))),
    slug: Type.Optional(nullable(Type.String({ minLength: 1, maxLength: 64, pattern: SlugPattern }))),
    billing_email: Type.Optional(nullable(Type.String({ format: 'email', maxLength: 254 }))),
  },
  { title: 'OrgUpdate', additionalProperties: false, description: 'Partial update. All fields optional — only set ones get applied.' },
);

const DetailError = Type.Object({
  detail: Type.Unknown(),
  code: Type.Optional(Type.String({ description: 'On 401, why: token_expired, invalid_signature, invalid_token, user_tokens_not_configured or unauthorized' })),
});

function toOrgResponse(profile: BillingProfile): Static<typeof OrgResponse> {
  const details = Object.fromEntries(
    Object.entries(detailsFields).map(([surfaceName, domainName]) => [surfaceName, profile[domainName]]),
  ) as Static<typeof OrgBillingDetails>;
  return {
    slug: profile.organizationSlug,
    name: profile.organizationName,
    id: profile.organizationId,
    created_at: profile.organizationCreatedAt.toISOString(),
    billing_email: profile.email,
    billing_details: details,
    billing_tax_id_status: taxIdStatus(profile),
  };
}

function renderFastApiProblem(problem: Problem): { status: number; body: unknown } {
  if (problem.fields.length > 0 || problem.kind === 'schema' || problem.kind === 'malformed') {
    const detail =
      problem.kind === 'malformed'
        ? [{ type: 'json_invalid', loc: ['body'], msg: 'JSON decode error' }]
        : problem.fields.map((f) => ({
            type: f.reason,
            loc: [f.location, ...(f.domain ? [fieldNames[f.field] ?? f.field] : fieldPathSegments(f.field))].filter((part) => part !== '(body)'),
            msg: f.message,
          }));
    return { status: 422, body: { detail } };
  }
  return { status: problem.status, body: { detail: problem.message, ...(problem.status === 401 ? { code: problem.code } : {}) } };
}

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const params = Type.Object({ slug: Type.String({ minLength: 1, maxLength: 64 }) });

  app.get(
    '/api/v2/external/orgs/:slug',
    {
      schema: {
        operationId: 'getOrg',
        summary: 'Get Org',
        tags: ['Organizations (external)'],
        params,
        response: { 200: OrgResponse, 401: DetailError, 403: DetailError, 404: DetailError },
      },
    },
    async (request, reply) => toOrgResponse(await readProfileWithEtag(request, reply, { slug: request.params.slug })),
  );

  app.patch(
    '/api/v2/external/orgs/:slug',
    {
      schema: {
        operationId: 'updateOrg',
        summary: 'Update Org',
        tags: ['Organizations (external)'],
        params,
        body: OrgPatch,
        response: {
          200: OrgResponse,
          401: DetailError,
          403: DetailError,
          404: DetailError,
          409: DetailError,
          412: DetailError,
          413: DetailError,
          422: DetailError,
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const patch: ProfilePatch = {};
      for (const [surfaceName, domainName] of Object.entries(detailsFields)) {
        const value = body[surfaceName as keyof typeof detailsFields];
        if (value !== undefined) patch[domainName] = value;
      }
      if (body.billing_email !== undefined) patch.email = body.billing_email;
      const profile = await updateProfileIfMatch(request, reply, {
        organization: { slug: request.params.slug },
        patch,
        organizationPatch: { name: body.name, slug: body.slug },
      });
      return toOrgResponse(profile);
    },
  );
};

export const externalOrgsSurface = defineSurface('external-orgs', renderFastApiProblem, routes);
