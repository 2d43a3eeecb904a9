/** Operator API: the seller identity printed on invoices (`PUT/GET /admin/seller`). */
import { Type, type FastifyPluginAsyncTypebox, type Static } from '@fastify/type-provider-typebox';
import { getSeller } from '../../../billing/seller/get-seller.js';
import { putSeller } from '../../../billing/seller/put-seller.js';
import type { Seller } from '../../../billing/seller/seller.js';
import { errorResponses, nullable } from '../../schemas.js';
import { callerOf, sendProblem } from '../../surface.js';
import { defaultProblemRenderer } from '../organization-billing-errors.js';

const tags = ['Operator'];
const operatorOnly = { auth: 'operator' as const };

const SellerSchema = Type.Object(
  {
    name: Type.String(),
    address_line_1: nullable(Type.String()),
    address_line_2: nullable(Type.String()),
    city: nullable(Type.String()),
    postal_code: nullable(Type.String()),
    state: nullable(Type.String()),
    country: nullable(Type.String({ description: 'ISO 3166-1 alpha-2' })),
    tax_id: nullable(Type.String()),
    email: nullable(Type.String()),
    invoice_number_prefix: Type.String({ description: 'Invoice numbers are this prefix and a six-digit sequence number' }),
    set_by_operator: Type.Boolean({ description: 'false while the identity comes from the BURSAR_SELLER_* settings' }),
    updated_at: nullable(Type.String({ format: 'date-time' })),
  },
  { title: 'Seller' },
);

const OptionalText = Type.Optional(nullable(Type.String()));

/** Types only: lengths, required values, the country and the e-mail are checked by the use case, naming each field. */
const SellerRequest = Type.Object(
  {
    name: Type.String(),
    address_line_1: Type.String(),
    address_line_2: OptionalText,
    city: Type.String(),
    postal_code: Type.String(),
    state: OptionalText,
    country: Type.String({ description: 'ISO 3166-1 alpha-2 country code, e.g. FR' }),
    tax_id: OptionalText,
    email: Type.String(),
    invoice_number_prefix: Type.Optional(Type.String({ description: 'Default: unchanged (INV- at first)' })),
  },
  { title: 'SellerRequest', additionalProperties: false },
);

/** Core field → this route's field, for error messages. */
const sellerFieldNames: Record<string, string> = {
  addressLine1: 'address_line_1',
  addressLine2: 'address_line_2',
  postalCode: 'postal_code',
  taxId: 'tax_id',
  invoiceNumberPrefix: 'invoice_number_prefix',
};

/** The operator API's style, with this route's field names. */
const renderSellerProblem = defaultProblemRenderer(sellerFieldNames);

function toSellerJson(seller: Seller): Static<typeof SellerSchema> {
  return {
    name: seller.name,
    address_line_1: seller.addressLine1,
    address_line_2: seller.addressLine2,
    city: seller.city,
    postal_code: seller.postalCode,
    state: seller.state,
    country: seller.country,
    tax_id: seller.taxId,
    email: seller.email,
    invoice_number_prefix: seller.invoiceNumberPrefix,
    set_by_operator: seller.setByOperator,
    updated_at: seller.updatedAt?.toISOString() ?? null,
  };
}

export const adminSellerRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.setErrorHandler((error, request, reply) => sendProblem(error, request, reply, renderSellerProblem));

  app.get(
    '/admin/seller',
    {
      config: operatorOnly,
      schema: {
        operationId: 'adminGetSeller',
        summary: 'The seller identity printed on invoices',
        tags,
        response: { 200: SellerSchema, ...errorResponses(401, 403) },
      },
    },
    async (request) => toSellerJson(await getSeller(request.bursar, callerOf(request))),
  );

  app.put(
    '/admin/seller',
    {
      config: operatorOnly,
      schema: {
        operationId: 'adminPutSeller',
        summary: 'Set the seller identity printed on invoices issued from now on',
        description: 'Replaces the whole identity (optional fields left out are cleared; the number prefix left out is kept). Issued invoices keep the seller they were issued with. Audited as SELLER_UPDATE.',
        tags,
        body: SellerRequest,
        response: { 200: SellerSchema, ...errorResponses(400, 401, 403, 413) },
      },
    },
    async (request) => {
      const body = request.body;
      const seller = await putSeller(request.bursar, callerOf(request), {
        name: body.name,
        addressLine1: body.address_line_1,
        addressLine2: body.address_line_2 ?? null,
        city: body.city,
        postalCode: body.postal_code,
        state: body.state ?? null,
        country: body.country,
        taxId: body.tax_id ?? null,
        email: body.email,
        invoiceNumberPrefix: body.invoice_number_prefix,
      });
      return toSellerJson(seller);
    },
  );
};
