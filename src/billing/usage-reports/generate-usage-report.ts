import { randomUUID } from 'node:crypto';
import sql from 'sql-template-tag';
import type { AppContext } from '../../app-context.js';
import { insertAuditEvent } from '../../audit/record-audit-event.js';
import type { Caller } from '../../domain/actor.js';
import { invalidInput, type FieldError } from '../../errors.js';
import { publicBaseUrl, signedDocumentUrl } from '../invoices/document-links.js';
import { enterOrganization } from '../organizations/organization-access.js';
import { deleteExpiredUsageReports, insertUsageReport } from './usage-report.js';
import { usageReportCsv } from './usage-report-csv.js';
import { usageReportDeletionPath, usageReportPath } from './usage-report-links.js';
import { loadUsageReportLines } from './usage-report-lines.js';

export const BILLING_USAGE_REPORT = 'BILLING_USAGE_REPORT';

export const MAX_REPORT_SPAN_DAYS = 366;
export const MIN_REPORT_EXPIRATION_SECONDS = 60;
export const MAX_REPORT_EXPIRATION_SECONDS = 7 * 24 * 3600;

export interface UsageReportLinks {
  reportUrl: string;
  deleteReportUrl: string;
  expiresAt: Date;
}

function parseInstant(value: string, field: string, errors: FieldError[]): Date | null {
  const at = new Date(value);
  if (value.trim() === '' || Number.isNaN(at.getTime())) {
    errors.push({ field, reason: 'format', message: 'must be a date-time such as 2026-11-01T00:00:00Z' });
    return null;
  }
  return at;
}

function validate(input: { from: string; to: string; expirationSeconds: number }): { from: Date; to: Date } {
  const errors: FieldError[] = [];
  const from = parseInstant(input.from, 'from', errors);
  const to = parseInstant(input.to, 'to', errors);
  if (from !== null && to !== null) {
    if (from >= to) errors.push({ field: 'to', reason: 'order', message: 'must be after from' });
    else if (to.getTime() - from.getTime() > MAX_REPORT_SPAN_DAYS * 86_400_000) {
      errors.push({ field: 'to', reason: 'span', message: `must be at most ${MAX_REPORT_SPAN_DAYS} days after from` });
    }
  }
  const seconds = input.expirationSeconds;
  if (!Number.isInteger(seconds) || seconds < MIN_REPORT_EXPIRATION_SECONDS || seconds > MAX_REPORT_EXPIRATION_SECONDS) {
    errors.push({
      field: 'expirationSeconds',
      reason: 'range',
      message: `must be a whole number of seconds from ${MIN_REPORT_EXPIRATION_SECONDS} to ${MAX_REPORT_EXPIRATION_SECONDS} (7 days)`,
    });
  }
  if (errors.length > 0 || from === null || to === null) throw invalidInput(errors);
  return { from, to };
}

function fileDate(at: Date): string {
  return at.toISOString().slice(0, 10).replaceAll('-', '');
}

/**
 * A CSV of what the organization's clusters and plan cost over [from, to), day by day (see usage-report-lines.ts),
 * stored for `expirationSeconds` and reachable through a signed public link (and a signed link that deletes it).
 * A span reaching past now stops at now: later days have no cost yet. Expired reports are purged here and by the
 * hourly sweep. Audited as BILLING_USAGE_REPORT.
 */
export async function generateUsageReport(
  context: AppContext,
  caller: Caller,
  input: { organizationId: string; from: string; to: string; expirationSeconds: number; requestBaseUrl: string | null },
): Promise<UsageReportLinks> {
  const span = validate(input);
  const db = context.database;
  const organization = await enterOrganization<{ name: string; slug: string; currency: string }>(
    db,
    caller,
    { id: input.organizationId },
    'billing.read',
    { select: sql`o.name, o.slug, o.currency` },
  );
  const now = context.clock.now();
  const costedTo = span.to < now ? span.to : now;
  const lines = span.from < costedTo ? await loadUsageReportLines(db, organization.id, span.from, costedTo) : [];
  const content = usageReportCsv(organization, { from: span.from, to: costedTo > span.from ? costedTo : span.from }, lines);

  const reportId = randomUUID();
  const expiresAt = new Date(now.getTime() + input.expirationSeconds * 1000);
  await db.transaction(async (tx) => {
    await deleteExpiredUsageReports(tx, now);
    await tx.query(
      insertUsageReport({
        id: reportId,
        organizationId: organization.id,
        fileName: `usage-report-${organization.slug}-${fileDate(span.from)}-${fileDate(span.to)}.csv`,
        content,
        spanFrom: span.from,
        spanTo: span.to,
        createdAt: now,
        expiresAt,
      }),
    );
    await tx.query(
      insertAuditEvent(caller, now, {
        organizationId: organization.id,
        type: BILLING_USAGE_REPORT,
        changes: { reportId, from: span.from.toISOString(), to: span.to.toISOString(), expiresAt: expiresAt.toISOString() },
      }),
    );
  });
  const base = publicBaseUrl(context, input.requestBaseUrl);
  return {
    reportUrl: signedDocumentUrl(context, base, usageReportPath(organization.id, reportId), input.expirationSeconds),
    deleteReportUrl: signedDocumentUrl(context, base, usageReportDeletionPath(organization.id, reportId), input.expirationSeconds),
    expiresAt,
  };
}
