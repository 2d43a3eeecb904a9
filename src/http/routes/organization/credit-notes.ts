/** Credit notes of an organization (beyond seed 000/004, in its style): list, and a signed link to each PDF. */
import { Type, type FastifyPluginAsyncTypebox, type Static } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type { CreditNote } from '../../../billing/credit-notes/credit-note.js';
import { createCreditNoteDownloadLink } from '../../../billing/credit-notes/credit-note-documents.js';
import { listCreditNotes } from '../../../billing/credit-notes/list-credit-notes.js';
import { toMajorUnitsNumber, toSafeInteger } from '../../../domain/money.js';
import { errorResponses, ListSchema, nullable, OrganizationIdParams } from '../../schemas.js';
import { callerOf } from '../../surface.js';

const tags = ['Billing'];

export const CreditNoteSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    number: Type.String({ examples: ['CN-000001'] }),
    invoice_id: Type.String({ format: 'uuid' }),
    invoice_number: Type.String({ examples: ['INV-000042'] }),
    created_at: Type.String({ format: 'date-time' }),
    reason: Type.String(),
    currency_code: Type.String(),
    subtotal_in_cents: Type.Integer({ description: 'Credited before tax' }),
    tax_in_cents: Type.Integer(),
    tax_lines: Type.Array(
      Type.Object({ name: Type.String(), percentage: Type.String(), taxable_in_cents: Type.Integer(), tax_in_cents: Type.Integer() }),
    ),
    reverse_charge: Type.Boolean(),
    total_in_cents: Type.Integer({ description: 'subtotal + tax' }),
    total: Type.Number(),
    lines: Type.Array(Type.Object({ description: Type.String(), amount_in_cents: Type.Integer() })),
    refunded_in_cents: Type.Integer({ description: 'Refunded to the card that paid the invoice' }),
    credits_returned_in_cents: Type.Integer({ description: 'Returned to the credit balance' }),
    owed_reduced_in_cents: Type.Integer({ description: 'Taken off what the unpaid invoice still owed' }),
    provider_refund_reference: nullable(Type.String({ description: "The payment provider's refund, once made" })),
  },
  { title: 'CreditNote' },
);

export function toCreditNoteBody(note: CreditNote): Static<typeof CreditNoteSchema> {
  return {
    id: note.id,
    number: note.number,
    invoice_id: note.invoiceId,
    invoice_number: note.invoiceNumber,
    created_at: note.issuedAt.toISOString(),
    reason: note.reason,
    currency_code: note.currency,
    subtotal_in_cents: toSafeInteger(note.subtotalMinor),
    tax_in_cents: toSafeInteger(note.taxMinor),
    tax_lines: note.taxLines.map((line) => ({
      name: line.name,
      percentage: line.percentage,
      taxable_in_cents: toSafeInteger(line.taxableMinor),
      tax_in_cents: toSafeInteger(line.taxMinor),
    })),
    reverse_charge: note.reverseCharge,
    total_in_cents: toSafeInteger(note.totalMinor),
    total: toMajorUnitsNumber(note.totalMinor, note.currency),
    lines: note.lines.map((line) => ({ description: line.description, amount_in_cents: toSafeInteger(line.amountMinor) })),
    refunded_in_cents: toSafeInteger(note.refundedMinor),
    credits_returned_in_cents: toSafeInteger(note.creditsReturnedMinor),
    owed_reduced_in_cents: toSafeInteger(note.owedReducedMinor),
    provider_refund_reference: note.providerRefundReference,
  };
}

function requestBaseUrl(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

export const creditNoteRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/organization/:organizationId/creditNotes',
    {
      schema: {
        operationId: 'listOrganizationCreditNotes',
        summary: 'List organization credit notes',
        description: 'Newest first.',
        tags,
        params: OrganizationIdParams,
        response: { 200: ListSchema(CreditNoteSchema, { title: 'CreditNoteList' }), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => ({
      results: (await listCreditNotes(request.bursar, callerOf(request), request.params.organizationId)).map(toCreditNoteBody),
    }),
  );

  app.get(
    '/organization/:organizationId/creditNotes/:creditNoteId/download',
    {
      schema: {
        operationId: 'getOrganizationCreditNotePDF',
        summary: 'Get credit note link',
        description: 'A signed link to the credit note PDF that needs no credentials and expires, like invoice links.',
        tags,
        params: Type.Object({ organizationId: Type.String({ format: 'uuid' }), creditNoteId: Type.String({ format: 'uuid' }) }),
        response: { 200: Type.Object({ url: Type.String() }, { title: 'Link' }), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => ({
      url: await createCreditNoteDownloadLink(request.bursar, callerOf(request), {
        organizationId: request.params.organizationId,
        creditNoteId: request.params.creditNoteId,
        requestBaseUrl: requestBaseUrl(request),
      }),
    }),
  );
};
