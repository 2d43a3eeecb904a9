/** Operator API: billing runs, invoices across organizations and invoice status changes. */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { BillingRun } from '../../../billing/invoices/billing-run.js';
import { startBillingRun } from '../../../billing/invoices/execute-billing-run.js';
import { getBillingRun, listBillingRuns } from '../../../billing/invoices/read-billing-runs.js';
import type { Invoice } from '../../../billing/invoices/invoice.js';
import { listInvoicesAcrossOrganizations } from '../../../billing/invoices/list-invoices-across-organizations.js';
import { markInvoicePaid } from '../../../billing/invoices/mark-invoice-paid.js';
import { queueDuePaymentAttempts } from '../../../billing/invoices/queue-due-payment-attempts.js';
import { voidInvoice } from '../../../billing/invoices/void-invoice.js';
import { toMajorUnitsNumber, toSafeInteger } from '../../../domain/money.js';
import { errorResponses, nullable, pagedListSchema, pageQueryValues, toPageBody } from '../../schemas.js';
import { callerOf } from '../../surface.js';
import { InvoiceStatusEnum } from '../organization/invoices.js';

const tags = ['Operator'];
const operatorOnly = { auth: 'operator' as const };

const BillingRunSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    status: Type.Union([Type.Literal('pending'), Type.Literal('running'), Type.Literal('completed'), Type.Literal('failed')], {
      description: '`pending` until a worker takes it up; `running` with progress; then `completed` or `failed` (see `error`)',
    }),
    as_of: Type.String({ format: 'date-time' }),
    organizations_total: Type.Integer({ description: 'Organizations the run goes through (created before the period ended)' }),
    invoiced: Type.Integer({ description: 'Invoices the run issued so far' }),
    skipped: Type.Integer({ description: 'Organizations that already had their invoice for the period, or had nothing to bill' }),
    failed: Type.Integer({ description: 'Organizations whose invoice failed (logged); a new run retries them' }),
    started_at: nullable(Type.String({ format: 'date-time' })),
    finished_at: nullable(Type.String({ format: 'date-time' })),
    period_start: Type.String({ format: 'date-time', description: 'The period the run closes' }),
    period_end: Type.String({ format: 'date-time', description: 'Exclusive' }),
    organizations_seen: Type.Integer(),
    invoices_created: Type.Integer({ description: 'The same as `invoiced`' }),
    invoices_existing: Type.Integer({ description: 'Organizations that already had their invoice for the period' }),
    organizations_without_charges: Type.Integer({ description: 'Nothing to bill: no invoice is issued' }),
    organizations_failed: Type.Integer({ description: 'The same as `failed`' }),
    error: nullable(Type.String()),
  },
  { title: 'BillingRun' },
);

const BillingRunIdParams = Type.Object({ billingRunId: Type.String({ format: 'uuid' }) });

const AdminInvoiceSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    organization_id: Type.String({ format: 'uuid' }),
    number: Type.String(),
    status: InvoiceStatusEnum,
    total_in_cents: Type.Integer(),
    total: Type.Number(),
    tax_in_cents: Type.Integer({ description: 'Included in total_in_cents' }),
    reverse_charge: Type.Boolean(),
    currency_code: Type.String(),
    created_at: Type.String({ format: 'date-time' }),
    paid_at: nullable(Type.String({ format: 'date-time' })),
    voided_at: nullable(Type.String({ format: 'date-time' })),
    payment_attempts: Type.Integer(),
    next_payment_attempt_at: nullable(Type.String({ format: 'date-time' })),
  },
  { title: 'AdminInvoice' },
);

const InvoiceIdParams = Type.Object({ invoiceId: Type.String({ format: 'uuid' }) });

function toBillingRunBody(run: BillingRun) {
  return {
    id: run.id,
    status: run.status,
    as_of: run.asOf.toISOString(),
    organizations_total: run.organizationsTotal,
    invoiced: run.invoicesCreated,
    skipped: run.invoicesExisting + run.organizationsWithoutCharges,
    failed: run.organizationsFailed,
    started_at: run.startedAt?.toISOString() ?? null,
    finished_at: run.finishedAt?.toISOString() ?? null,
    period_start: run.period.start.toISOString(),
    period_end: run.period.end.toISOString(),
    organizations_seen: run.organizationsSeen,
    invoices_created: run.invoicesCreated,
    invoices_existing: run.invoicesExisting,
    organizations_without_charges: run.organizationsWithoutCharges,
    organizations_failed: run.organizationsFailed,
    error: run.error,
  };
}

function toAdminInvoiceBody(invoice: Invoice) {
  return {
    id: invoice.id,
    organization_id: invoice.organizationId,
    number: invoice.number,
    status: invoice.status,
    total_in_cents: toSafeInteger(invoice.totalMinor),
    total: toMajorUnitsNumber(invoice.totalMinor, invoice.currency),
    tax_in_cents: toSafeInteger(invoice.taxMinor),
    reverse_charge: invoice.reverseCharge,
    currency_code: invoice.currency,
    created_at: invoice.issuedAt.toISOString(),
    paid_at: invoice.paidAt?.toISOString() ?? null,
    voided_at: invoice.voidedAt?.toISOString() ?? null,
    payment_attempts: invoice.paymentAttempts,
    next_payment_attempt_at: invoice.nextPaymentAttemptAt?.toISOString() ?? null,
  };
}

/** The operator's changes of an invoice's status, each answering the invoice. */
const invoiceStatusChanges = [
  {
    action: 'mark-paid',
    operationId: 'adminMarkInvoicePaid',
    summary: 'Mark an invoice paid',
    description: 'For payments received outside the card charge. A paid invoice is answered unchanged; a voided one is a 409.',
    change: markInvoicePaid,
  },
  {
    action: 'void',
    operationId: 'adminVoidInvoice',
    summary: 'Void an invoice',
    description: 'No further payment attempt; credits it used are given back. A paid invoice cannot be voided (409).',
    change: voidInvoice,
  },
];

export const adminBillingRunRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/admin/billing-runs',
    {
      config: operatorOnly,
      schema: {
        operationId: 'adminRunBilling',
        summary: 'Start a billing run as of a date',
        description:
          'Closes, for every organization, the last complete billing period (UTC calendar month) before `as_of`: one invoice per ' +
          'organization and period, whatever reruns or concurrent runs do. Answers 202 at once with the pending run (and its ' +
          '`Location`); a job does the work, and `GET /admin/billing-runs/{billingRunId}` shows its progress. A run whose worker ' +
          'died is taken over by another worker after the job lease and finished.',
        tags,
        body: Type.Object({ as_of: Type.String({ format: 'date-time' }) }, { additionalProperties: false }),
        response: { 202: BillingRunSchema, ...errorResponses(400, 401, 403, 413) },
      },
    },
    async (request, reply) => {
      const run = await startBillingRun(request.bursar, callerOf(request), { asOf: new Date(request.body.as_of) });
      return reply.code(202).header('location', `/admin/billing-runs/${run.id}`).send(toBillingRunBody(run));
    },
  );

  app.get(
    '/admin/billing-runs',
    {
      config: operatorOnly,
      schema: {
        operationId: 'adminListBillingRuns',
        summary: 'List billing runs',
        description: 'Newest first (by request), with their progress, a page at a time: pass `next_cursor` back as `cursor` until it is null.',
        tags,
        ...pagedListSchema({ title: 'BillingRunPage', item: BillingRunSchema, filters: {} }),
      },
    },
    async (request) => toPageBody(await listBillingRuns(request.bursar, callerOf(request), pageQueryValues(request.query)), toBillingRunBody),
  );

  app.get(
    '/admin/billing-runs/:billingRunId',
    {
      config: operatorOnly,
      schema: {
        operationId: 'adminGetBillingRun',
        summary: 'A billing run and its progress',
        tags,
        params: BillingRunIdParams,
        response: { 200: BillingRunSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => toBillingRunBody(await getBillingRun(request.bursar, callerOf(request), request.params.billingRunId)),
  );

  app.get(
    '/admin/invoices',
    {
      config: operatorOnly,
      schema: {
        operationId: 'adminListInvoices',
        summary: 'List the invoices of every organization',
        description: 'Newest first, optionally in one status, a page at a time: pass `next_cursor` back as `cursor` until it is null.',
        tags,
        ...pagedListSchema({ title: 'AdminInvoicePage', item: AdminInvoiceSchema, filters: { status: Type.Optional(InvoiceStatusEnum) } }),
      },
    },
    async (request) => {
      const page = await listInvoicesAcrossOrganizations(request.bursar, callerOf(request), {
        status: request.query.status,
        ...pageQueryValues(request.query),
      });
      return toPageBody(page, toAdminInvoiceBody);
    },
  );

  for (const { action, operationId, summary, description, change } of invoiceStatusChanges) {
    app.post(
      `/admin/invoices/:invoiceId/${action}`,
      {
        config: operatorOnly,
        schema: { operationId, summary, description, tags, params: InvoiceIdParams, response: { 200: AdminInvoiceSchema, ...errorResponses(400, 401, 403, 404, 409) } },
      },
      async (request) => toAdminInvoiceBody(await change(request.bursar, callerOf(request), request.params.invoiceId)),
    );
  }

  app.post(
    '/admin/invoices/payment-retries',
    {
      config: operatorOnly,
      schema: {
        operationId: 'adminQueueDuePaymentAttempts',
        summary: 'Queue the payment attempts that are due now',
        description:
          'What the hourly dunning sweep does, now: queues a charge for every unpaid invoice whose next attempt is due by the clock, ' +
          'or whose organization has a new default card.',
        tags,
        response: { 200: Type.Object({ queued: Type.Integer() }), ...errorResponses(401, 403) },
      },
    },
    async (request) => ({ queued: await queueDuePaymentAttempts(request.bursar, callerOf(request)) }),
  );
};
