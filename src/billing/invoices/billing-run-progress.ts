/** Progress of billing runs (every process's, from `billing_runs`): for the metrics. */
import sql from 'sql-template-tag';
import type { Queryable } from '../../db/database.js';

export interface BillingRunProgress {
  runsInProgress: number;
  /** The latest run (running or finished); null before the first. */
  latest: { status: string; organizationsSeen: number; invoicesCreated: number } | null;
}

export async function readBillingRunProgress(db: Queryable): Promise<BillingRunProgress> {
  const { rows } = await db.query<{ running: number; status: string | null; organizations_seen: number | null; invoices_created: number | null }>(
    sql`SELECT (SELECT count(*)::int4 FROM billing_runs WHERE status = 'running') AS running,
               latest.status, latest.organizations_seen, latest.invoices_created
          FROM (SELECT 1) AS one
          LEFT JOIN LATERAL (SELECT status, organizations_seen, invoices_created FROM billing_runs ORDER BY requested_at DESC, id DESC LIMIT 1) latest ON true`,
  );
  const row = rows[0]!;
  return {
    runsInProgress: row.running,
    latest:
      row.status === null ? null : { status: row.status, organizationsSeen: row.organizations_seen ?? 0, invoicesCreated: row.invoices_created ?? 0 },
  };
}
