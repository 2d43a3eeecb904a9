/**
 * Seed 000/004: GET and PUT /organization/{organizationId}/billingInfo.
 * `address` is the profile's address lines joined by a newline; PUT replaces the whole billing info
 * (optional fields left out are cleared), as a PUT does.
 */
import { Type, type FastifyPluginAsyncTypebox, type Static } from '@fastify/type-provider-typebox';
import { joinAddress, splitAddress } from '../../../domain/billing-profile.js';
import type { BillingProfile, ProfilePatch } from '../../../billing/profile/billing-profile.js';
import { readProfileWithEtag, updateProfileIfMatch } from '../../billing-profile-versions.js';
import { nullable, OrganizationIdParams, errorResponses } from '../../schemas.js';

/** Core field → this API's field, for error messages. */
export const billingInfoFieldNames: Record<string, string> = {
  contactFirstName: 'first_name',
  contactLastName: 'last_name',
  email: 'email',
  companyName: 'company',
  addressLine1: 'address',
  addressLine2: 'address',
  city: 'city',
  state: 'state',
  postalCode: 'zip',
  country: 'country_code',
  taxId: 'vat_number',
  expirationSeconds: 'report_expiration_in_seconds',
};

const BillingInfo = Type.Object(
  {
    first_name: nullable(Type.String({ examples: ['Forrest'] })),
    last_name: nullable(Type.String({ examples: ['Gump'] })),
    email: nullable(Type.String({ format: 'email', description: 'email used for billing, and to receive all invoices by email' })),
    address: nullable(Type.String({ examples: ['21 Jenny Street'] })),
    city: nullable(Type.String()),
    zip: nullable(Type.String()),
    state: nullable(Type.String({ description: 'only for US' })),
    country_code: nullable(Type.String({ description: 'ISO code of the country' })),
    company: nullable(Type.String({ description: 'name of the company to bill' })),
    vat_number: nullable(Type.String()),
  },
  { title: 'BillingInfo' },
);

const BillingInfoRequest = Type.Object(
  {
    first_name: Type.String({ minLength: 1, maxLength: 255, examples: ['Forrest'] }),
    last_name: Type.String({ minLength: 1, maxLength: 255, examples: ['Gump'] }),
    email: Type.String({ format: 'email', maxLength: 254, description: 'email used for billing, and to receive all invoices by email' }),
    address: Type.String({ minLength: 1, maxLength: 511, description: 'Address lines; a newline separates line 1 from line 2' }),
    city: Type.String({ minLength: 1, maxLength: 128 }),
    zip: Type.String({ minLength: 1, maxLength: 32 }),
    state: Type.Optional(nullable(Type.String({ maxLength: 128, description: 'only for US' }))),
    country_code: Type.String({ minLength: 2, maxLength: 2, description: 'ISO code of the country' }),
    company: Type.Optional(nullable(Type.String({ maxLength: 255, description: 'name of the company to bill' }))),
    vat_number: Type.Optional(nullable(Type.String({ maxLength: 64 }))),
  },
  { title: 'BillingInfoRequest', additionalProperties: false },
);

export function toBillingInfo(profile: BillingProfile): Static<typeof BillingInfo> {
  return {
    first_name: profile.contactFirstName,
    last_name: profile.contactLastName,
    email: profile.email,
    address: joinAddress(profile.addressLine1, profile.addressLine2),
    city: profile.city,
    zip: profile.postalCode,
    state: profile.state,
    country_code: profile.country,
    company: profile.companyName,
    vat_number: profile.taxId,
  };
}

/** The profile a billing info sets (also the billing page's details form, which has the same fields); left out clears. */
export function billingInfoPatch(info: Static<typeof BillingInfoRequest>): ProfilePatch {
  const address = splitAddress(info.address);
  return {
    contactFirstName: info.first_name,
    contactLastName: info.last_name,
    email: info.email,
    addressLine1: address.line1,
    addressLine2: address.line2,
    city: info.city,
    postalCode: info.zip,
    state: info.state ?? null,
    country: info.country_code,
    companyName: info.company ?? null,
    taxId: info.vat_number ?? null,
  };
}

export const billingInfoRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/organization/:organizationId/billingInfo',
    {
      schema: {
        operationId: 'getOrganizationBillingInfo',
        summary: 'Get organization billing info',
        tags: ['Billing'],
        params: OrganizationIdParams,
        response: { 200: BillingInfo, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => toBillingInfo(await readProfileWithEtag(request, reply, { id: request.params.organizationId })),
  );

  app.put(
    '/organization/:organizationId/billingInfo',
    {
      schema: {
        operationId: 'editOrganizationBillingInfo',
        summary: 'Edit Organization Billing Info',
        tags: ['Billing'],
        params: OrganizationIdParams,
        body: BillingInfoRequest,
        response: { 200: BillingInfo, ...errorResponses(400, 401, 403, 404, 409, 412, 413) },
      },
    },
    async (request, reply) => {
      const profile = await updateProfileIfMatch(request, reply, { organization: { id: request.params.organizationId }, patch: billingInfoPatch(request.body) });
      return toBillingInfo(profile);
    },
  );
};
