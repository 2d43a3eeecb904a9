/** Public: billing usage reports behind signed, expiring links (no credentials), and their deletion. */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { deleteSignedUsageReport, openSignedUsageReport } from '../../billing/usage-reports/open-signed-usage-report.js';
import { errorResponses } from '../schemas.js';

const tags = ['Documents'];

// Both parts are optional in the schema so that a link missing one answers 403 like any other bad link.
const SignedQuery = Type.Object({
  expires: Type.Optional(Type.String({ maxLength: 20 })),
  signature: Type.Optional(Type.String({ maxLength: 100 })),
});

const ReportParams = Type.Object({
  organizationId: Type.String({ format: 'uuid' }),
  reportId: Type.String({ format: 'uuid' }),
});

export const usageReportDocumentRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/documents/:organizationId/usage-reports/:reportId.csv',
    {
      config: { auth: 'public' },
      schema: {
        operationId: 'getBillingUsageReportDocument',
        summary: 'Billing usage report behind a signed link',
        description: 'The report_url of POST /organization/{organizationId}/billingUsageReport; it expires. 404 once deleted.',
        tags,
        security: [],
        params: ReportParams,
        querystring: SignedQuery,
        response: { 200: Type.Unsafe<string>({ type: 'string', description: 'The report (text/csv)' }), ...errorResponses(400, 403, 404) },
      },
    },
    async (request, reply) => {
      const report = await openSignedUsageReport(request.bursar, { ...request.params, query: request.query });
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${report.fileName}"`)
        .header('cache-control', 'private, no-store')
        .send(report.content);
    },
  );

  app.delete(
    '/documents/:organizationId/usage-reports/:reportId',
    {
      config: { auth: 'public' },
      schema: {
        operationId: 'deleteBillingUsageReportDocument',
        summary: 'Delete a billing usage report before it expires',
        description: 'The delete_report_url of POST /organization/{organizationId}/billingUsageReport.',
        tags,
        security: [],
        params: ReportParams,
        querystring: SignedQuery,
        response: { 204: Type.Unsafe<undefined>({ description: 'Deleted; the report link now answers 404' }), ...errorResponses(400, 403, 404) },
      },
    },
    async (request, reply) => {
      await deleteSignedUsageReport(request.bursar, { ...request.params, query: request.query });
      return reply.status(204).send();
    },
  );
};
