/** The public side of usage report links: read a report, or delete it before it expires. */
import type { AppContext } from '../../app-context.js';
import { notFound } from '../../errors.js';
import { assertSigned, type SignedQuery } from '../invoices/open-signed-document.js';
import { deleteExpiredUsageReports, deleteUsageReport, findUsageReport, type StoredUsageReport } from './usage-report.js';
import { usageReportDeletionPath, usageReportPath } from './usage-report-links.js';

export async function openSignedUsageReport(
  context: AppContext,
  input: { organizationId: string; reportId: string; query: SignedQuery },
): Promise<StoredUsageReport> {
  assertSigned(context, usageReportPath(input.organizationId, input.reportId), input.query);
  const report = await findUsageReport(context.database, input.organizationId, input.reportId, context.clock.now());
  if (report === null) throw notFound('Report');
  return report;
}

/** Deletes the report at once; its link then answers 404. */
export async function deleteSignedUsageReport(
  context: AppContext,
  input: { organizationId: string; reportId: string; query: SignedQuery },
): Promise<void> {
  assertSigned(context, usageReportDeletionPath(input.organizationId, input.reportId), input.query);
  if (!(await deleteUsageReport(context.database, input.organizationId, input.reportId))) throw notFound('Report');
}

/** The hourly sweep's housekeeping: reports whose links have expired. */
export async function purgeExpiredUsageReports(context: AppContext): Promise<number> {
  return deleteExpiredUsageReports(context.database, context.clock.now());
}
