/**
 * Where a usage report is served and deleted without credentials, behind signed links: the two paths differ, so a
 * link to read a report can never delete it.
 */
export function usageReportPath(organizationId: string, reportId: string): string {
  return `/documents/${organizationId}/usage-reports/${reportId}.csv`;
}

export function usageReportDeletionPath(organizationId: string, reportId: string): string {
  return `/documents/${organizationId}/usage-reports/${reportId}`;
}
