/**
 * Seed 002: GET and PATCH /api/v1/organization/billing for the caller's active organization (the `org_id` claim
 * of the JWT, the organization of an API token, or the user's only organization). Admin-only.
 * The country is a name here ("United States"); the core keeps ISO 3166-1 alpha-2 codes.
 * The contact is one name here; the core keeps first and last name (split at the first space, joined with one).
 * Errors: `{ "code": "UNPROCESSABLE_ENTITY", "message": "…", "details": [{ "field": "billingEmail", "message": "…" }] }`,
 * 400 BAD_REQUEST for a malformed body or wrong types, 422 for invalid values (format, length, unknown country).
 */
import { Type, type FastifyPluginAsyncTypebox, type Static } from '@fastify/type-provider-typebox';
import type { BillingProfile, ProfilePatch } from '../../billing/profile/billing-profile.js';
import { countryCodeFromName, countryNameFromCode, joinContactName, splitContactName } from '../../domain/billing-profile.js';
import { readProfileWithEtag, updateProfileIfMatch } from '../billing-profile-versions.js';
import type { Problem } from '../problem.js';
import { nullable, TaxIdStatusSchema } from '../schemas.js';
import { taxIdStatus } from '../../domain/tax-ids.js';
import { UNSTORABLE_TEXT_KEYWORD } from '../storable-strings.js';
import { defineSurface } from '../surface.js';

const fieldNames: Record<string, string> = {
  companyName: 'companyName',
  contactFirstName: 'billingContactName',
  contactLastName: 'billingContactName',
  email: 'billingEmail',
  addressLine1: 'billingAddressLine1',
  addressLine2: 'billingAddressLine2',
  city: 'billingCity',
  postalCode: 'billingPostalCode',
  state: 'billingState',
  country: 'billingCountry',
  taxId: 'vatNumber',
};

const optionalString = (maxLength: number, description: string, format?: string) =>
  Type.Optional(nullable(Type.String({ maxLength, description, ...(format ? { format } : {}) })));

const BillingDetailsPatch = Type.Object(
  {
    companyName: optionalString(255, 'Legal company name'),
    billingContactName: optionalString(255, 'Name of billing contact person'),
    billingEmail: optionalString(255, 'Valid email address for billing notifications', 'email'),
    billingAddressLine1: optionalString(255, 'Primary address line'),
    billingAddressLine2: optionalString(255, 'Secondary address line (optional)'),
    billingCity: optionalString(100, 'City'),
    billingPostalCode: optionalString(20, 'Postal or ZIP code'),
    billingState: optionalString(100, 'State, province, or region'),
    billingCountry: optionalString(100, 'Country name (e.g. "United States") or ISO 3166-1 alpha-2 code'),
    vatNumber: optionalString(50, 'VAT/Tax identification number'),
  },
  { title: 'BillingDetailsUpdate', additionalProperties: false },
);

const BillingDetails = Type.Object(
  {
    companyName: nullable(Type.String()),
    billingContactName: nullable(Type.String()),
    billingEmail: nullable(Type.String()),
    billingAddressLine1: nullable(Type.String()),
    billingAddressLine2: nullable(Type.String()),
    billingCity: nullable(Type.String()),
    billingPostalCode: nullable(Type.String()),
    billingState: nullable(Type.String()),
    billingCountry: nullable(Type.String({ description: 'English country name' })),
    vatNumber: nullable(Type.String()),
    taxIdStatus: TaxIdStatusSchema,
  },
  { title: 'BillingDetails' },
);

const ErrorEnvelope = Type.Object({
  code: Type.String(),
  message: Type.String(),
  details: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
  reason: Type.Optional(Type.String({ description: 'On 401, why: token_expired, invalid_signature, invalid_token, user_tokens_not_configured or unauthorized' })),
});

const statusCodes: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  412: 'PRECONDITION_FAILED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'UNPROCESSABLE_ENTITY',
  500: 'INTERNAL_SERVER_ERROR',
};

/** Invalid values (a format, a length, a pattern) are 422; a body that is not the documented shape is 400. */
const valueKeywords = new Set(['format', 'maxLength', 'minLength', 'pattern', UNSTORABLE_TEXT_KEYWORD]);

function renderProblem(problem: Problem): { status: number; body: unknown } {
  let status = problem.status;
  if (problem.kind === 'schema') status = problem.fields.every((f) => valueKeywords.has(f.reason)) ? 422 : 400;
  if (problem.kind === 'core') status = 422;
  const details = problem.fields.map((f) => ({ field: f.domain ? (fieldNames[f.field] ?? f.field) : f.field, message: f.message }));
  // Generic words for bad input only: other 400s (no active organization) keep the message that says what is wrong.
  const badInput = problem.kind === 'schema' || problem.kind === 'malformed' || problem.kind === 'core';
  const message = !badInput ? problem.message : status === 400 ? 'Invalid request body' : 'Invalid field values';
  return {
    status,
    body: {
      code: statusCodes[status] ?? problem.code.toUpperCase(),
      message,
      ...(details.length > 0 ? { details } : {}),
      ...(status === 401 ? { reason: problem.code } : {}),
    },
  };
}

function toBillingDetails(profile: BillingProfile): Static<typeof BillingDetails> {
  return {
    companyName: profile.companyName,
    billingContactName: joinContactName(profile.contactFirstName, profile.contactLastName),
    billingEmail: profile.email,
    billingAddressLine1: profile.addressLine1,
    billingAddressLine2: profile.addressLine2,
    billingCity: profile.city,
    billingPostalCode: profile.postalCode,
    billingState: profile.state,
    billingCountry: profile.country ? countryNameFromCode(profile.country) : null,
    vatNumber: profile.taxId,
    taxIdStatus: taxIdStatus(profile),
  };
}

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const errors = { 400: ErrorEnvelope, 401: ErrorEnvelope, 403: ErrorEnvelope, 404: ErrorEnvelope };

  app.get(
    '/api/v1/organization/billing',
    {
      schema: {
        operationId: 'getBillingDetails',
        summary: 'Get Billing Details',
        tags: ['Organization billing details'],
        response: { 200: BillingDetails, ...errors },
      },
    },
    async (request, reply) => toBillingDetails(await readProfileWithEtag(request, reply, 'active', 'admin')),
  );

  app.patch(
    '/api/v1/organization/billing',
    {
      schema: {
        operationId: 'updateBillingDetails',
        summary: 'Update Billing Details',
        description: 'Only specified fields are updated; omitted fields remain unchanged. Audited as BILLING_DETAILS_UPDATE.',
        tags: ['Organization billing details'],
        body: BillingDetailsPatch,
        response: { 200: BillingDetails, ...errors, 409: ErrorEnvelope, 412: ErrorEnvelope, 413: ErrorEnvelope, 422: ErrorEnvelope },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const patch: ProfilePatch = {
        companyName: body.companyName,
        email: body.billingEmail,
        addressLine1: body.billingAddressLine1,
        addressLine2: body.billingAddressLine2,
        city: body.billingCity,
        postalCode: body.billingPostalCode,
        state: body.billingState,
        taxId: body.vatNumber,
      };
      if (body.billingContactName !== undefined) {
        const { firstName, lastName } = splitContactName(body.billingContactName);
        patch.contactFirstName = firstName;
        patch.contactLastName = lastName;
      }
      if (body.billingCountry !== undefined) {
        // An unknown name goes on as it is, for the core to refuse with the field named.
        patch.country = body.billingCountry === null ? null : (countryCodeFromName(body.billingCountry) ?? body.billingCountry);
      }
      return toBillingDetails(await updateProfileIfMatch(request, reply, { organization: 'active', patch, permission: 'admin' }));
    },
  );
};

export const organizationBillingDetailsSurface = defineSurface('organization-billing-details', renderProblem, routes);
