/** Seed 000/004 client: POST /organization/{organizationId}/billingUsageReport. */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  generateUsageReport,
  MAX_REPORT_EXPIRATION_SECONDS,
  MAX_REPORT_SPAN_DAYS,
  MIN_REPORT_EXPIRATION_SECONDS,
} from '../../../billing/usage-reports/generate-usage-report.js';
import { USAGE_REPORT_COLUMNS } from '../../../billing/usage-reports/usage-report-csv.js';
import { errorResponses, OrganizationIdParams } from '../../schemas.js';
import { callerOf } from '../../surface.js';

const OrganizationBillingUsageReportRequest = Type.Object(
  {
    from: Type.String({ format: 'date-time', description: 'The start date of the report (inclusive)', examples: ['2026-11-01T00:00:00.000Z'] }),
    to: Type.String({
      format: 'date-time',
      description: `The end date of the report (exclusive), after from and at most ${MAX_REPORT_SPAN_DAYS} days later; the report stops at now`,
      examples: ['2026-12-01T00:00:00.000Z'],
    }),
    report_expiration_in_seconds: Type.Integer({
      minimum: MIN_REPORT_EXPIRATION_SECONDS,
      maximum: MAX_REPORT_EXPIRATION_SECONDS,
      description: 'The number of seconds the report will be publicly available (60 to 604800)',
      examples: [3600],
    }),
  },
  { title: 'OrganizationBillingUsageReportRequest', additionalProperties: false },
);

const OrganizationBillingUsageReportResponse = Type.Object(
  {
    report_url: Type.String({ description: 'The URL of the report (CSV): signed, needs no credentials, expires' }),
    delete_report_url: Type.String({ description: 'The URL to delete the report (DELETE). Use this URL to pro-actively delete the report before it expires' }),
  },
  { title: 'OrganizationBillingUsageReportResponse' },
);

export const usageReportRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/organization/:organizationId/billingUsageReport',
    {
      schema: {
        operationId: 'generateBillingUsageReport',
        summary: 'Generate organization billing usage report',
        description:
          `A CSV with one row per cluster per day and metric, plan fee rows and a total row; columns: ${USAGE_REPORT_COLUMNS.join(', ')}. ` +
          'Amounts are in the organization currency and agree to the minor unit with invoices and currentCost for the same span.',
        tags: ['Billing'],
        params: OrganizationIdParams,
        body: OrganizationBillingUsageReportRequest,
        response: { 200: OrganizationBillingUsageReportResponse, ...errorResponses(400, 401, 403, 404, 413) },
      },
    },
    async (request) => {
      const links = await generateUsageReport(request.bursar, callerOf(request), {
        organizationId: request.params.organizationId,
        from: request.body.from,
        to: request.body.to,
        expirationSeconds: request.body.report_expiration_in_seconds,
        requestBaseUrl: `${request.protocol}://${request.host}`,
      });
      return { report_url: links.reportUrl, delete_report_url: links.deleteReportUrl };
    },
  );
};
