/** Operator API: a credit note for part of an invoice. */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { creditInvoice } from '../../../billing/credit-notes/credit-invoice.js';
import { errorResponses } from '../../schemas.js';
import { callerOf } from '../../surface.js';
import { CreditNoteSchema, toCreditNoteBody } from '../organization/credit-notes.js';

const MinorUnits = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'Minor units, before tax' });

const CreditNoteRequest = Type.Object(
  {
    reason: Type.String({ minLength: 1, maxLength: 500 }),
    amount_in_cents: Type.Optional(MinorUnits),
    lines: Type.Optional(
      Type.Array(Type.Object({ description: Type.String({ minLength: 1, maxLength: 500 }), amount_in_cents: MinorUnits }, { additionalProperties: false }), {
        minItems: 1,
        maxItems: 100,
      }),
    ),
  },
  { title: 'CreditNoteRequest', additionalProperties: false },
);

export const adminInvoiceCreditNoteRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/admin/invoices/:invoiceId/credit-notes',
    {
      config: { auth: 'operator' as const },
      schema: {
        operationId: 'adminCreditInvoice',
        summary: 'Issue a credit note for part of an invoice',
        description:
          'Either `amount_in_cents` or `lines` (amounts before tax); the invoice tax is credited in reverse. Settles: a paid invoice is refunded ' +
          'to the card (then credits it used are returned), an unpaid one owes less. Voiding an invoice credits all that is left.',
        tags: ['Operator'],
        params: Type.Object({ invoiceId: Type.String({ format: 'uuid' }) }),
        body: CreditNoteRequest,
        response: { 201: CreditNoteSchema, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const note = await creditInvoice(request.bursar, callerOf(request), request.params.invoiceId, {
        reason: body.reason,
        amountMinor: body.amount_in_cents === undefined ? null : BigInt(body.amount_in_cents),
        lines: body.lines === undefined ? null : body.lines.map((line) => ({ description: line.description, amountMinor: BigInt(line.amount_in_cents) })),
      });
      return reply.status(201).send(toCreditNoteBody(note));
    },
  );
};
