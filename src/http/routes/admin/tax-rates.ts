/** Operator API: the tax-rate catalogue. */
import { Type, type FastifyPluginAsyncTypebox, type Static } from '@fastify/type-provider-typebox';
import { deleteTaxRate, getTaxRates, putTaxRate } from '../../../billing/tax/manage-tax-rates.js';
import type { StoredTaxRate } from '../../../billing/tax/tax-rate.js';
import { errorResponses, ListSchema, nullable } from '../../schemas.js';
import { callerOf } from '../../surface.js';

const tags = ['Operator'];
const operatorOnly = { auth: 'operator' as const };

const TaxRateSchema = Type.Object(
  {
    code: Type.String(),
    country: Type.String({ description: 'ISO 3166-1 alpha-2' }),
    region: nullable(Type.String({ description: 'State or province code; null: the whole country' })),
    percentage: Type.String({ examples: ['20', '8.875'] }),
    name: Type.String(),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  },
  { title: 'TaxRate' },
);

const TaxRateRequest = Type.Object(
  {
    country: Type.String({ minLength: 2, maxLength: 2, description: 'ISO 3166-1 alpha-2', examples: ['FR'] }),
    region: Type.Optional(nullable(Type.String({ maxLength: 3, description: 'A state or province code (US sales tax: NY)' }))),
    percentage: Type.String({ maxLength: 10, description: 'A decimal string with up to 4 decimals, 0 to 100', examples: ['20', '8.875'] }),
    name: Type.String({ minLength: 1, maxLength: 100, examples: ['TVA'] }),
  },
  { title: 'TaxRateRequest', additionalProperties: false },
);

const CodeParams = Type.Object({ code: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }) });

function toTaxRateJson(rate: StoredTaxRate): Static<typeof TaxRateSchema> {
  return {
    code: rate.code,
    country: rate.country,
    region: rate.region,
    percentage: rate.percentage,
    name: rate.name,
    created_at: rate.createdAt.toISOString(),
    updated_at: rate.updatedAt.toISOString(),
  };
}

export const adminTaxRateRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.put(
    '/admin/tax-rates/:code',
    {
      config: operatorOnly,
      schema: {
        operationId: 'adminPutTaxRate',
        summary: 'Create or replace a tax rate',
        description: 'A rate applies to customers in its country (and region, when set) from the next invoice issued. 201 when created, 200 when updated.',
        tags,
        params: CodeParams,
        body: TaxRateRequest,
        response: { 200: TaxRateSchema, 201: TaxRateSchema, ...errorResponses(400, 401, 403, 413) },
      },
    },
    async (request, reply) => {
      const { rate, created } = await putTaxRate(request.bursar, callerOf(request), {
        code: request.params.code,
        country: request.body.country,
        region: request.body.region ?? null,
        percentage: request.body.percentage,
        name: request.body.name,
      });
      return reply.status(created ? 201 : 200).send(toTaxRateJson(rate));
    },
  );

  app.get(
    '/admin/tax-rates',
    {
      config: operatorOnly,
      schema: {
        operationId: 'adminListTaxRates',
        summary: 'List tax rates',
        tags,
        response: { 200: ListSchema(TaxRateSchema, { title: 'TaxRateList' }), ...errorResponses(401, 403) },
      },
    },
    async (request) => ({ results: (await getTaxRates(request.bursar, callerOf(request))).map(toTaxRateJson) }),
  );

  app.delete(
    '/admin/tax-rates/:code',
    {
      config: operatorOnly,
      schema: {
        operationId: 'adminDeleteTaxRate',
        summary: 'Delete a tax rate',
        description: 'Invoices already issued keep the rate (they carry a copy of its name and percentage).',
        tags,
        params: CodeParams,
        response: { 204: Type.Null(), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await deleteTaxRate(request.bursar, callerOf(request), request.params.code);
      return reply.status(204).send(null);
    },
  );
};
