/** The `billing_usage_reports` table: generated CSV reports, served behind signed links until they expire. */
import sql from 'sql-template-tag';
import type { Queryable } from '../../db/database.js';

export interface StoredUsageReport {
  id: string;
  organizationId: string;
  fileName: string;
  content: string;
  expiresAt: Date;
}

interface UsageReportRow {
  id: string;
  organization_id: string;
  file_name: string;
  content: string;
  expires_at: Date;
}

const usageReportColumns = sql`id, organization_id, file_name, content, expires_at`;

function toUsageReport(row: UsageReportRow): StoredUsageReport {
  return { id: row.id, organizationId: row.organization_id, fileName: row.file_name, content: row.content, expiresAt: row.expires_at };
}

export function insertUsageReport(
  report: StoredUsageReport & { spanFrom: Date; spanTo: Date; createdAt: Date },
) {
  return sql`INSERT INTO billing_usage_reports (id, organization_id, span_from, span_to, file_name, content, created_at, expires_at)
    VALUES (${report.id}::uuid, ${report.organizationId}::uuid, ${report.spanFrom}::timestamptz, ${report.spanTo}::timestamptz,
            ${report.fileName}::text, ${report.content}::text, ${report.createdAt}::timestamptz, ${report.expiresAt}::timestamptz)`;
}

/** The report if it exists, belongs to the organization and has not expired at `now`. */
export async function findUsageReport(db: Queryable, organizationId: string, reportId: string, now: Date): Promise<StoredUsageReport | null> {
  const { rows } = await db.query<UsageReportRow>(
    sql`SELECT ${usageReportColumns} FROM billing_usage_reports
         WHERE id = ${reportId}::uuid AND organization_id = ${organizationId}::uuid AND expires_at > ${now}::timestamptz`,
  );
  return rows[0] ? toUsageReport(rows[0]) : null;
}

/** Deletes one report; true when there was one. */
export async function deleteUsageReport(db: Queryable, organizationId: string, reportId: string): Promise<boolean> {
  const { rowCount } = await db.query(
    sql`DELETE FROM billing_usage_reports WHERE id = ${reportId}::uuid AND organization_id = ${organizationId}::uuid`,
  );
  return rowCount > 0;
}

/** Reports expired at `now` (business clock); returns how many were deleted. */
export async function deleteExpiredUsageReports(db: Queryable, now: Date): Promise<number> {
  const { rowCount } = await db.query(sql`DELETE FROM billing_usage_reports WHERE expires_at <= ${now}::timestamptz`);
  return rowCount;
}
