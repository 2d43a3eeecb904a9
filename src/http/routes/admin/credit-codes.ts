/**
 * Operator API: credit codes. Create (`POST /admin/credit-codes`), list newest first (`GET /admin/credit-codes`),
 * disable (`POST /admin/credit-codes/{creditCodeId}/disable`: the record stays, with its redemptions, so it is not a DELETE).
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { createCreditCode } from '../../../billing/credits/create-credit-code.js';
import type { CreditCodeView } from '../../../billing/credits/credit-code.js';
import { disableCreditCode } from '../../../billing/credits/disable-credit-code.js';
import { listCreditCodes } from '../../../billing/credits/list-credit-codes.js';
import { CREDIT_CODE_PATTERN, MAX_CREDIT_CODE_REDEMPTIONS } from '../../../domain/credit-code.js';
import { toMajorUnitsNumber, toSafeInteger } from '../../../domain/money.js';
import { errorResponses, ListSchema, nullable } from '../../schemas.js';
import { callerOf } from '../../surface.js';

const tags = ['Operator'];
const operatorOnly = { auth: 'operator' as const };

const CreditCodeStatus = Type.Union([Type.Literal('active'), Type.Literal('disabled'), Type.Literal('expired'), Type.Literal('exhausted')]);

const CreditCodeSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    code: Type.String({ description: 'Upper-case; redeemed without regard to case' }),
    amount_in_cents: Type.Integer({ description: 'Amount granted, in minor units of the currency' }),
    amount: Type.Number({ description: 'The same amount in major units' }),
    currency: Type.String({ description: 'ISO 4217' }),
    expires_at: nullable(Type.String({ format: 'date-time' })),
    max_redemptions: nullable(Type.Integer()),
    redemption_count: Type.Integer(),
    status: CreditCodeStatus,
    disabled_at: nullable(Type.String({ format: 'date-time' })),
    created_at: Type.String({ format: 'date-time' }),
  },
  { title: 'CreditCode' },
);

const CreateCreditCodeRequest = Type.Object(
  {
    code: Type.String({ pattern: CREDIT_CODE_PATTERN, description: 'Stored upper-case; must be unique regardless of case', examples: ['WELCOME50'] }),
    amount_in_cents: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'Minor units of the currency' }),
    currency: Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 code; must be the currency of the organizations that redeem it' }),
    expires_at: Type.Optional(nullable(Type.String({ format: 'date-time', description: 'The code cannot be redeemed from this instant on' }))),
    max_redemptions: Type.Optional(nullable(Type.Integer({ minimum: 1, maximum: MAX_CREDIT_CODE_REDEMPTIONS, description: 'Unlimited when absent' }))),
  },
  { title: 'CreateCreditCodeRequest', additionalProperties: false },
);

function toCreditCodeBody(code: CreditCodeView) {
  return {
    id: code.id,
    code: code.code,
    amount_in_cents: toSafeInteger(code.amountMinor),
    amount: toMajorUnitsNumber(code.amountMinor, code.currency),
    currency: code.currency,
    expires_at: code.expiresAt?.toISOString() ?? null,
    max_redemptions: code.maxRedemptions,
    redemption_count: code.redemptionCount,
    status: code.status,
    disabled_at: code.disabledAt?.toISOString() ?? null,
    created_at: code.createdAt.toISOString(),
  };
}

export const adminCreditCodeRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/admin/credit-codes',
    {
      config: operatorOnly,
      schema: {
        operationId: 'adminCreateCreditCode',
        summary: 'Create a credit code',
        tags,
        body: CreateCreditCodeRequest,
        response: { 201: CreditCodeSchema, ...errorResponses(400, 401, 403, 409, 413) },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const code = await createCreditCode(request.bursar, callerOf(request), {
        code: body.code,
        amountMinor: BigInt(body.amount_in_cents),
        currency: body.currency,
        expiresAt: body.expires_at == null ? null : new Date(body.expires_at),
        maxRedemptions: body.max_redemptions ?? null,
      });
      return reply.status(201).send(toCreditCodeBody(code));
    },
  );

  app.get(
    '/admin/credit-codes',
    {
      config: operatorOnly,
      schema: {
        operationId: 'adminListCreditCodes',
        summary: 'List credit codes, newest first',
        tags,
        querystring: Type.Object({ limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$', description: '1 to 1000, default 100' })) }, { additionalProperties: false }),
        response: { 200: ListSchema(CreditCodeSchema), ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const limit = request.query.limit === undefined ? undefined : Number(request.query.limit);
      const codes = await listCreditCodes(request.bursar, callerOf(request), { limit });
      return { results: codes.map(toCreditCodeBody) };
    },
  );

  app.post(
    '/admin/credit-codes/:creditCodeId/disable',
    {
      config: operatorOnly,
      schema: {
        operationId: 'adminDisableCreditCode',
        summary: 'Disable a credit code',
        description: 'The code can no longer be redeemed; credits already granted stay. Disabling a disabled code answers it unchanged.',
        tags,
        params: Type.Object({ creditCodeId: Type.String({ format: 'uuid' }) }),
        response: { 200: CreditCodeSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const code = await disableCreditCode(request.bursar, callerOf(request), request.params.creditCodeId);
      return toCreditCodeBody(code);
    },
  );
};
