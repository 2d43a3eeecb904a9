/** Schema pieces shared by the surfaces. The same schemas validate requests and produce /openapi.json. */
import { Type, type TProperties, type TSchema } from '@fastify/type-provider-typebox';
import type { Page } from '../domain/pagination.js';

export const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** Whether the customer's tax id is well-formed (an extra field on every surface that shows a tax id). */
export const TaxIdStatusSchema = Type.Union([Type.Literal('valid'), Type.Literal('invalid'), Type.Literal('unchecked'), Type.Literal('none')], {
  description:
    'valid: well-formed for its type (EU VAT ids: format and check digits); invalid: not; unchecked: a type without a check; none: no tax id. ' +
    'Any string is kept as entered; only a valid EU VAT id qualifies for reverse charge.',
});

export const Uuid = Type.String({ format: 'uuid' });

export const OrganizationIdParams = Type.Object({
  organizationId: Type.String({ format: 'uuid', description: 'Organization ID' }),
});

/** `limit` and `cursor` of a paginated list (a query string has no numbers: the limit is checked by the core). */
export const PageQuery = {
  limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$', description: 'Page size, 1 to 200; default 50' })),
  cursor: Type.Optional(Type.String({ maxLength: 512, description: 'The `next_cursor` of the previous page' })),
};

export function pageQueryValues(query: { limit?: string; cursor?: string }): { limit?: number; cursor?: string } {
  return { limit: query.limit === undefined ? undefined : Number(query.limit), cursor: query.cursor };
}

/** A whole list in one answer. */
export const ListSchema = <T extends TSchema>(item: T, options: { title?: string } = {}) => Type.Object({ results: Type.Array(item) }, options);

/** One page of a paginated list: pass `next_cursor` back as `cursor` for the next one; null on the last page. */
export const PageSchema = <T extends TSchema>(item: T, options: { title?: string } = {}) =>
  Type.Object({ ...ListSchema(item).properties, next_cursor: nullable(Type.String()) }, options);

/** The query string and answers of a list read a page at a time: its own filters, then `limit` and `cursor`. */
export function pagedListSchema<T extends TSchema, F extends TProperties>(input: { title: string; item: T; filters: F }) {
  return {
    querystring: Type.Object({ ...input.filters, ...PageQuery }, { additionalProperties: false }),
    response: { 200: PageSchema(input.item, { title: input.title }), ...errorResponses(400, 401, 403) },
  };
}

export function toPageBody<T, Body>(page: Page<T>, toBody: (item: T) => Body): { results: Body[]; next_cursor: string | null } {
  return { results: page.items.map(toBody), next_cursor: page.nextCursor };
}

/** The generic error body of the organization billing and operator APIs. */
export const ErrorBody = Type.Object(
  {
    status: Type.Integer(),
    error: Type.String({ description: 'Stable machine code' }),
    message: Type.String(),
    fields: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
  },
);

export const errorResponses = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((status) => [status, { ...ErrorBody, description: errorDescriptions[status] ?? 'Error' }]));

const errorDescriptions: Record<number, string> = {
  400: 'Bad request',
  401: 'Access token is missing or invalid',
  402: 'The payment provider refused the card or the charge',
  403: 'Access forbidden',
  404: 'Resource not found',
  409: 'Conflict',
  412: 'If-Match does not match the current ETag',
  413: 'Body larger than 64 KiB',
  422: 'Unprocessable input',
};
