/** Seed 000/004: invoices, invoice PDF links, e-mail of all invoices. */
import { Type, type FastifyPluginAsyncTypebox, type Static } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { createInvoiceDownloadLink } from '../../../billing/invoices/create-invoice-download-link.js';
import { getInvoice } from '../../../billing/invoices/get-invoice.js';
import type { Invoice } from '../../../billing/invoices/invoice.js';
import { presentInvoice } from '../../../billing/invoices/invoice-body.js';
import type { InvoiceLineRecord } from '../../../billing/invoices/invoice-lines.js';
import { listInvoices } from '../../../billing/invoices/list-invoices.js';
import { requestInvoiceArchive } from '../../../billing/invoices/request-invoice-archive.js';
import { invoiceStatuses, type InvoiceStatus } from '../../../domain/invoice-status.js';
import { errorResponses, ListSchema, nullable, OrganizationIdParams } from '../../schemas.js';
import { callerOf } from '../../surface.js';

const tags = ['Billing'];

export const InvoiceStatusEnum = Type.Unsafe<InvoiceStatus>(
  Type.Union(
    invoiceStatuses.map((status) => Type.Literal(status)),
    { title: 'InvoiceStatusEnum' },
  ),
);

const InvoiceLine = Type.Object(
  {
    kind: Type.Union([Type.Literal('plan'), Type.Literal('usage'), Type.Literal('credit')]),
    description: Type.String(),
    quantity: nullable(Type.String()),
    unit_price_in_cents: Type.Optional(nullable(Type.Integer({ description: 'Price of one unit of quantity (a month of the plan, a node-hour), minor units' }))),
    amount_in_cents: Type.Integer({ description: 'Minor units of the currency; credits are negative' }),
    amount: Type.Number(),
  },
  { title: 'InvoiceLine' },
);

const TaxLineSchema = Type.Object(
  {
    name: Type.String({ examples: ['TVA'] }),
    percentage: Type.String({ examples: ['20', '8.875'] }),
    taxable_in_cents: Type.Integer({ description: 'The base the rate applies to: the subtotal' }),
    tax_in_cents: Type.Integer(),
  },
  { title: 'InvoiceTaxLine' },
);

/** The seed's Invoice (Cost + id, created_at, status) and, beyond it, what the PDF shows. */
const InvoiceSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    created_at: Type.String({ format: 'date-time' }),
    status: InvoiceStatusEnum,
    total_in_cents: Type.Integer({ examples: [30000] }),
    total: Type.Number({ examples: [300] }),
    currency_code: Type.String({ examples: ['USD'] }),
    number: Type.String({ examples: ['INV-000042'] }),
    period_start: Type.String({ format: 'date-time' }),
    period_end: Type.String({ format: 'date-time', description: 'Exclusive: the first instant after the period' }),
    due_at: nullable(Type.String({ format: 'date-time' })),
    paid_at: nullable(Type.String({ format: 'date-time' })),
    subtotal_in_cents: Type.Integer(),
    credits_applied_in_cents: Type.Integer(),
    tax_in_cents: Type.Integer({ description: 'Included in total_in_cents; computed on the subtotal, before credits' }),
    tax_lines: Type.Array(TaxLineSchema, { description: 'One line per tax rate applied' }),
    reverse_charge: Type.Boolean({ description: 'EU reverse charge: no VAT, the customer accounts for it' }),
    payment_action_url: nullable(
      Type.String({
        description:
          'While the invoice is PENDING on a charge that needs the customer to authenticate it (strong customer authentication): ' +
          "the page where they complete it (the provider's, or the sandbox's); null otherwise",
      }),
    ),
    refunded_in_cents: Type.Integer({ description: 'Refunded so far, as the payment provider reports it (0 when nothing was)' }),
    dispute: nullable(
      Type.Object(
        {
          amount_in_cents: Type.Integer(),
          reason: Type.String({ description: "The provider's reason code, e.g. fraudulent" }),
          opened_at: Type.String({ format: 'date-time' }),
        },
        { title: 'InvoiceDispute', description: 'A dispute (chargeback) the card holder opened, as the payment provider reports it' },
      ),
    ),
    lines: Type.Optional(Type.Array(InvoiceLine, { description: 'Only on GET of one invoice' })),
  },
  { title: 'Invoice' },
);

const InvoiceParams = Type.Object({
  organizationId: Type.String({ format: 'uuid', description: 'Organization ID' }),
  invoiceId: Type.String({ format: 'uuid', description: 'Invoice ID' }),
});

const Link = Type.Object({ url: Type.String({ description: 'Signed link to the invoice PDF; it expires' }) }, { title: 'Link' });

export function toInvoiceBody(invoice: Invoice, lines?: InvoiceLineRecord[]): Static<typeof InvoiceSchema> {
  return presentInvoice(invoice, lines);
}

/** Scheme and host the caller used: the base of links when BURSAR_PUBLIC_URL is not set. */
function requestBaseUrl(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

export const invoiceRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/organization/:organizationId/invoice',
    {
      schema: {
        operationId: 'listOrganizationInvoice',
        summary: 'List organization invoices',
        description: 'Newest first.',
        tags,
        params: OrganizationIdParams,
        response: { 200: ListSchema(InvoiceSchema, { title: 'InvoiceResponseList' }), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const invoices = await listInvoices(request.bursar, callerOf(request), request.params.organizationId);
      return { results: invoices.map((invoice) => toInvoiceBody(invoice)) };
    },
  );

  app.get(
    '/organization/:organizationId/invoice/:invoiceId',
    {
      schema: {
        operationId: 'getOrganizationInvoice',
        summary: 'Get organization invoice',
        tags,
        params: InvoiceParams,
        response: { 200: InvoiceSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const invoice = await getInvoice(request.bursar, callerOf(request), request.params.organizationId, request.params.invoiceId);
      return toInvoiceBody(invoice, invoice.lines);
    },
  );

  app.get(
    '/organization/:organizationId/invoice/:invoiceId/download',
    {
      schema: {
        operationId: 'getOrganizationInvoicePDF',
        summary: 'Get invoice link',
        description: 'This will return URL of the invoice PDF: a link that needs no credentials and expires (15 minutes by default).',
        tags,
        params: InvoiceParams,
        response: { 200: Link, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const url = await createInvoiceDownloadLink(request.bursar, callerOf(request), {
        organizationId: request.params.organizationId,
        invoiceId: request.params.invoiceId,
        requestBaseUrl: requestBaseUrl(request),
      });
      return { url };
    },
  );

  app.post(
    '/organization/:organizationId/downloadInvoices',
    {
      schema: {
        operationId: 'organizationDownloadAllInvoices',
        summary: 'Download all invoices',
        description:
          'You will receive an email containing your invoices: a ZIP of every invoice PDF sent to the billing e-mail, ' +
          'or a link to it when it is too large to attach. Without a billing e-mail (the `email` of billingInfo) the answer is ' +
          '400 `billing_email_missing` and nothing is queued.',
        tags,
        params: OrganizationIdParams,
        // No body: the schema only documents the answer.
        response: { 202: Type.Unsafe<undefined>({ description: 'You will receive an email containing your invoices' }), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await requestInvoiceArchive(request.bursar, callerOf(request), {
        organizationId: request.params.organizationId,
        requestBaseUrl: requestBaseUrl(request),
      });
      return reply.status(202).send();
    },
  );
};
