/**
 * Seed 000/004: `POST /organization/{organizationId}/creditCode` (redeem a credit code), and
 * `GET /organization/{organizationId}/credits` (the credit balance with its ledger, newest first).
 *
 * The reference documents no body for the 200 of `addCreditCode`; this one answers the new balance and the ledger
 * entry just written (a generated client ignores it). A code that cannot be used answers 400 with its machine code
 * (`credit_code_not_found`, `…_expired`, `…_disabled`, `…_exhausted`, `…_currency_mismatch`); a second
 * redemption by the same organization 409 `credit_code_already_redeemed`. The POST honours `Idempotency-Key`
 * through the shared helper (src/http/idempotency.ts), so a retried request answers its first 200.
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { CreditLedgerEntry } from '../../../billing/credits/credit-ledger.js';
import { getCreditStatement } from '../../../billing/credits/get-credit-statement.js';
import { redeemCreditCode, type CreditCodeRedemption } from '../../../billing/credits/redeem-credit-code.js';
import { toMajorUnitsNumber, toSafeInteger } from '../../../domain/money.js';
import { IdempotencyKeyHeaders, withIdempotency } from '../../idempotency.js';
import { errorResponses, nullable, OrganizationIdParams } from '../../schemas.js';
import { callerOf } from '../../surface.js';

const OrganizationCreditCodeRequest = Type.Object(
  { code: Type.Optional(Type.String({ maxLength: 255, description: 'Matched without regard to case', examples: ['WELCOME50'] })) },
  { title: 'OrganizationCreditCodeRequest', additionalProperties: false },
);

const CreditLedgerEntrySchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    amount_in_cents: Type.Integer({ description: 'Minor units: positive for a grant, negative for a use' }),
    amount: Type.Number({ description: 'The same amount in major units' }),
    currency_code: Type.String({ description: 'ISO 4217' }),
    reason: Type.Union([Type.Literal('credit_code'), Type.Literal('invoice'), Type.Literal('adjustment')]),
    reference: nullable(Type.String({ description: 'What the entry is about: credit code id, invoice id, …' })),
    description: Type.String(),
    created_at: Type.String({ format: 'date-time' }),
  },
  { title: 'CreditLedgerEntry' },
);

const balanceFields = {
  currency_code: Type.String({ description: "The organization's billing currency (ISO 4217)" }),
  balance_in_cents: Type.Integer({ description: 'Credit balance in minor units: the sum of the ledger in this currency' }),
  balance: Type.Number({ description: 'The same balance in major units' }),
};

const OrganizationCredits = Type.Object(
  { ...balanceFields, entries: Type.Array(CreditLedgerEntrySchema, { description: 'Newest first' }) },
  { title: 'OrganizationCredits' },
);

const CreditCodeRedemption = Type.Object({ ...balanceFields, entry: CreditLedgerEntrySchema }, { title: 'CreditCodeRedemption' });

function toLedgerEntryBody(entry: CreditLedgerEntry) {
  return {
    id: entry.id,
    amount_in_cents: toSafeInteger(entry.amountMinor),
    amount: toMajorUnitsNumber(entry.amountMinor, entry.currency),
    currency_code: entry.currency,
    reason: entry.reason,
    reference: entry.reference,
    description: entry.description,
    created_at: entry.createdAt.toISOString(),
  };
}

function toBalanceFields(currency: string, balanceMinor: bigint) {
  return {
    currency_code: currency,
    balance_in_cents: toSafeInteger(balanceMinor),
    balance: toMajorUnitsNumber(balanceMinor, currency),
  };
}

export const creditRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/organization/:organizationId/creditCode',
    {
      schema: {
        operationId: 'addCreditCode',
        summary: 'Add credit code',
        description:
          'Redeems a credit code: its amount is added to the credit balance. Errors (400): credit_code_not_found, credit_code_expired, ' +
          'credit_code_disabled, credit_code_exhausted, credit_code_currency_mismatch; 409: credit_code_already_redeemed. ' +
          'Supports `Idempotency-Key`: a retry with the same key and body answers the first 200 again.',
        tags: ['Billing'],
        params: OrganizationIdParams,
        headers: IdempotencyKeyHeaders,
        body: OrganizationCreditCodeRequest,
        response: { 200: { ...CreditCodeRedemption, description: 'add credit code' }, ...errorResponses(400, 401, 403, 404, 409, 413, 422) },
      },
    },
    async (request, reply) => {
      const organizationId = request.params.organizationId;
      return withIdempotency<CreditCodeRedemption>(request, reply, 'creditCode.redeem', organizationId, {
        run: (commit) => redeemCreditCode(request.bursar, callerOf(request), { organizationId, code: request.body.code }, commit),
        answerOf: (redemption) => ({
          status: 200,
          body: { ...toBalanceFields(redemption.currency, redemption.balanceMinor), entry: toLedgerEntryBody(redemption.entry) },
        }),
      });
    },
  );

  app.get(
    '/organization/:organizationId/credits',
    {
      schema: {
        operationId: 'getOrganizationCredits',
        summary: 'Get organization credit balance and ledger',
        tags: ['Billing'],
        params: OrganizationIdParams,
        querystring: Type.Object(
          { limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$', description: 'Entries to return: 1 to 500, default 50' })) },
          { additionalProperties: false },
        ),
        response: { 200: OrganizationCredits, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const limit = request.query.limit === undefined ? undefined : Number(request.query.limit);
      const statement = await getCreditStatement(request.bursar, callerOf(request), request.params.organizationId, { limit });
      return { ...toBalanceFields(statement.currency, statement.balanceMinor), entries: statement.entries.map(toLedgerEntryBody) };
    },
  );
};
