/**
 * Seed 003: billing addresses of an organization, in that API's response envelope
 * `{ status, message, data, session, errors }`. Authenticated by the `__session` cookie (a user JWT) or a bearer token.
 * Errors: `errors: [{ code, message, long_message, meta: { param_name } }]` with `data: null`.
 */
import { Type, type FastifyPluginAsyncTypebox, type Static, type TSchema } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type { Actor } from '../../domain/actor.js';
import { addBillingAddress } from '../../billing/addresses/add-billing-address.js';
import type { AddressValues, BillingAddress } from '../../billing/addresses/billing-address.js';
import { deleteBillingAddress } from '../../billing/addresses/delete-billing-address.js';
import { listBillingAddresses } from '../../billing/addresses/list-billing-addresses.js';
import { updateBillingAddress } from '../../billing/addresses/update-billing-address.js';
import { etagOf, versionFromIfMatch } from '../billing-profile-versions.js';
import type { Problem } from '../problem.js';
import { nullable } from '../schemas.js';
import { defineSurface, callerOf } from '../surface.js';

const fieldNames: Record<string, string> = {
  name: 'name',
  company: 'company',
  addressLine1: 'address_line_1',
  addressLine2: 'address_line_2',
  city: 'city',
  state: 'state',
  postalCode: 'postal_code',
  country: 'country',
  isDefault: 'is_default',
};

const BillingAddressSchema = Type.Object(
  {
    id: Type.String({ examples: ['billing_123456789'] }),
    name: nullable(Type.String()),
    company: nullable(Type.String()),
    address_line_1: nullable(Type.String()),
    address_line_2: nullable(Type.String()),
    city: nullable(Type.String()),
    state: nullable(Type.String()),
    postal_code: nullable(Type.String()),
    country: nullable(Type.String({ description: 'ISO 3166-1 alpha-2' })),
    is_default: Type.Boolean(),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  },
  { title: 'BillingAddress' },
);

const SignIn = Type.Object({ id: Type.String(), user_id: Type.String(), created_at: Type.String({ format: 'date-time' }) });
const Session = Type.Object({
  signin_attempts: Type.Array(Type.Unknown()),
  signins: Type.Array(SignIn),
  signup_attempts: Type.Array(Type.Unknown()),
  active_signin: nullable(SignIn),
});
const ErrorItem = Type.Object({
  code: Type.String(),
  message: Type.String(),
  long_message: Type.String(),
  meta: Type.Object({ param_name: Type.Optional(Type.String()) }),
});
const envelope = <T extends TSchema>(data: T) =>
  Type.Object({ status: Type.Integer(), message: Type.String(), data, session: Session, errors: Type.Array(ErrorItem) });
const ErrorEnvelope = envelope(Type.Null());

const limits = { name: 255, company: 255, address_line_1: 255, address_line_2: 255, city: 128, state: 128, postal_code: 32 };
const requiredString = (maxLength: number, description: string) => Type.String({ minLength: 1, maxLength, description });
const optionalString = (maxLength: number, description: string) => Type.Optional(nullable(Type.String({ maxLength, description })));

const AddBillingAddressBody = Type.Object(
  {
    name: requiredString(limits.name, 'Display name for the billing address'),
    company: requiredString(limits.company, 'Company name'),
    address_line_1: requiredString(limits.address_line_1, 'Primary address line'),
    address_line_2: optionalString(limits.address_line_2, 'Secondary address line (optional)'),
    city: requiredString(limits.city, 'City'),
    state: requiredString(limits.state, 'State or province'),
    postal_code: requiredString(limits.postal_code, 'Postal or ZIP code'),
    country: Type.String({ minLength: 2, maxLength: 2, description: 'Country code (ISO 3166-1 alpha-2)' }),
    is_default: Type.Optional(Type.Boolean({ description: 'Whether this should be the default billing address' })),
  },
  { title: 'AddBillingAddressRequest', additionalProperties: false },
);

const UpdateBillingAddressBody = Type.Object(
  {
    name: Type.Optional(requiredString(limits.name, 'Display name for the billing address')),
    company: Type.Optional(requiredString(limits.company, 'Company name')),
    address_line_1: Type.Optional(requiredString(limits.address_line_1, 'Primary address line')),
    address_line_2: optionalString(limits.address_line_2, 'Secondary address line'),
    city: Type.Optional(requiredString(limits.city, 'City')),
    state: Type.Optional(requiredString(limits.state, 'State or province')),
    postal_code: Type.Optional(requiredString(limits.postal_code, 'Postal or ZIP code')),
    country: Type.Optional(Type.String({ minLength: 2, maxLength: 2, description: 'ISO 3166-1 alpha-2' })),
    is_default: Type.Optional(Type.Boolean({ description: 'true makes this the default; the default cannot be unset directly' })),
  },
  { title: 'UpdateBillingAddressRequest', additionalProperties: false },
);

function sessionOf(actor: Actor | null): Static<typeof Session> {
  const signin =
    actor?.type === 'user'
      ? {
          id: actor.sessionId ?? `signin_${actor.userId}`,
          user_id: actor.userId,
          created_at: (actor.issuedAt ?? new Date(0)).toISOString(),
        }
      : null;
  return { signin_attempts: [], signins: signin ? [signin] : [], signup_attempts: [], active_signin: signin };
}

function wrap<T>(request: FastifyRequest, status: number, data: T) {
  return { status, message: '', data, session: sessionOf(request.actor ?? null), errors: [] };
}

function toAddress(address: BillingAddress): Static<typeof BillingAddressSchema> {
  return {
    id: address.id,
    name: address.name,
    company: address.company,
    address_line_1: address.addressLine1,
    address_line_2: address.addressLine2,
    city: address.city,
    state: address.state,
    postal_code: address.postalCode,
    country: address.country,
    is_default: address.isDefault,
    created_at: address.createdAt.toISOString(),
    updated_at: address.updatedAt.toISOString(),
  };
}

function renderProblem(problem: Problem, request: FastifyRequest): { status: number; body: unknown } {
  // The core's own status: 422 for invalid values, 409 for a rule such as "the default cannot be unset".
  const status = problem.status;
  const errors =
    problem.fields.length > 0
      ? problem.fields.map((f) => {
          const param = f.domain ? (fieldNames[f.field] ?? f.field) : f.field;
          return {
            code: f.reason === 'required' ? 'form_param_missing' : 'form_param_format_invalid',
            message: `${param} ${f.message}`,
            long_message: `${param} ${f.message}`,
            meta: { param_name: param },
          };
        })
      : [{ code: problem.code, message: problem.message, long_message: problem.message, meta: {} }];
  return {
    status,
    body: { status, message: problem.message, data: null, session: sessionOf(request.actor ?? null), errors },
  };
}

function toValues(body: Partial<Record<keyof typeof limits | 'country', string | null | undefined>>): Partial<AddressValues> {
  return {
    name: body.name,
    company: body.company,
    addressLine1: body.address_line_1,
    addressLine2: body.address_line_2,
    city: body.city,
    state: body.state,
    postalCode: body.postal_code,
    country: body.country,
  };
}

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const params = Type.Object({ id: Type.String({ format: 'uuid', description: 'Organization ID' }) });
  const addressParams = Type.Object({ id: Type.String({ format: 'uuid' }), addressId: Type.String({ maxLength: 64 }) });
  const errorResponses = { 400: ErrorEnvelope, 401: ErrorEnvelope, 403: ErrorEnvelope, 404: ErrorEnvelope };
  const tags = ['Billing addresses'];

  app.post(
    '/organizations/:id/billing-addresses',
    {
      schema: {
        operationId: 'addOrganizationBillingAddress',
        summary: 'Add Organization Billing Address',
        tags,
        params,
        body: AddBillingAddressBody,
        response: {
          201: envelope(Type.Object({ billing_address: BillingAddressSchema })),
          ...errorResponses,
          412: ErrorEnvelope,
          413: ErrorEnvelope,
          422: ErrorEnvelope,
        },
      },
    },
    async (request, reply) => {
      const address = await addBillingAddress(request.bursar, callerOf(request), {
        organizationId: request.params.id,
        values: toValues(request.body),
        isDefault: request.body.is_default === true,
        expectedVersion: versionFromIfMatch(request.headers['if-match']),
      });
      return reply.status(201).send(wrap(request, 201, { billing_address: toAddress(address) }));
    },
  );

  app.get(
    '/organizations/:id/billing-addresses',
    {
      schema: {
        operationId: 'listOrganizationBillingAddresses',
        summary: 'List Organization Billing Addresses',
        tags,
        params,
        response: { 200: envelope(Type.Object({ billing_addresses: Type.Array(BillingAddressSchema) })), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { addresses, version } = await listBillingAddresses(request.bursar, callerOf(request), request.params.id);
      reply.header('etag', etagOf(version));
      return wrap(request, 200, { billing_addresses: addresses.map(toAddress) });
    },
  );

  app.patch(
    '/organizations/:id/billing-addresses/:addressId',
    {
      schema: {
        operationId: 'updateOrganizationBillingAddress',
        summary: 'Update Organization Billing Address',
        tags,
        params: addressParams,
        body: UpdateBillingAddressBody,
        response: {
          200: envelope(Type.Object({ billing_address: BillingAddressSchema })),
          ...errorResponses,
          409: ErrorEnvelope,
          412: ErrorEnvelope,
          413: ErrorEnvelope,
          422: ErrorEnvelope,
        },
      },
    },
    async (request) => {
      const address = await updateBillingAddress(request.bursar, callerOf(request), {
        organizationId: request.params.id,
        addressId: request.params.addressId,
        values: toValues(request.body),
        isDefault: request.body.is_default,
        expectedVersion: versionFromIfMatch(request.headers['if-match']),
      });
      return wrap(request, 200, { billing_address: toAddress(address) });
    },
  );

  app.delete(
    '/organizations/:id/billing-addresses/:addressId',
    {
      schema: {
        operationId: 'deleteOrganizationBillingAddress',
        summary: 'Delete Organization Billing Address',
        tags,
        params: addressParams,
        response: {
          200: envelope(Type.Object({ id: Type.String(), deleted: Type.Boolean(), promoted_default_id: nullable(Type.String()) })),
          ...errorResponses,
          412: ErrorEnvelope,
        },
      },
    },
    async (request) => {
      const result = await deleteBillingAddress(request.bursar, callerOf(request), {
        organizationId: request.params.id,
        addressId: request.params.addressId,
        expectedVersion: versionFromIfMatch(request.headers['if-match']),
      });
      return wrap(request, 200, { id: result.deleted.id, deleted: true, promoted_default_id: result.promotedAddressId });
    },
  );
};

export const billingAddressesSurface = defineSurface('billing-addresses', renderProblem, routes);
