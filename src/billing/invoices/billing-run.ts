/** The `billing_runs` table: one row per run, from its request (pending) through its progress to its end. */
import sql, { raw, type Sql } from 'sql-template-tag';
import type { Queryable } from '../../db/database.js';
import type { BillingPeriod } from '../../domain/billing-period.js';

export const billingRunStatuses = ['pending', 'running', 'completed', 'failed'] as const;
export type BillingRunStatus = (typeof billingRunStatuses)[number];

export interface BillingRun {
  id: string;
  asOf: Date;
  /** The period the run closes. */
  period: BillingPeriod;
  status: BillingRunStatus;
  /** Organizations the run goes through (those created before the period ended). */
  organizationsTotal: number;
  organizationsSeen: number;
  invoicesCreated: number;
  /** Organizations that already had their invoice for the period. */
  invoicesExisting: number;
  /** Organizations with nothing to bill: no invoice (a zero invoice is never issued). */
  organizationsWithoutCharges: number;
  /** Organizations whose invoice failed (logged); a rerun retries them. */
  organizationsFailed: number;
  requestedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  error: string | null;
  /** Every organization up to this id is done and counted (where a run picked up after its worker died resumes). */
  resumeAfter: string | null;
}

interface BillingRunRow {
  id: string;
  as_of: Date;
  period_start: Date;
  period_end: Date;
  status: BillingRunStatus;
  organizations_total: number | null;
  organizations_seen: number;
  invoices_created: number;
  invoices_existing: number;
  organizations_without_charges: number;
  organizations_failed: number;
  requested_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  error: string | null;
  resume_after: string | null;
}

const billingRunColumns: Sql = raw(
  'id, as_of, period_start, period_end, status, organizations_total, organizations_seen, invoices_created, invoices_existing, ' +
    'organizations_without_charges, organizations_failed, requested_at, started_at, finished_at, error, resume_after',
);

function toBillingRun(row: BillingRunRow): BillingRun {
  return {
    id: row.id,
    asOf: row.as_of,
    period: { start: row.period_start, end: row.period_end },
    status: row.status,
    organizationsTotal: row.organizations_total ?? 0,
    organizationsSeen: row.organizations_seen,
    invoicesCreated: row.invoices_created,
    invoicesExisting: row.invoices_existing,
    organizationsWithoutCharges: row.organizations_without_charges,
    organizationsFailed: row.organizations_failed,
    requestedAt: row.requested_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    error: row.error,
    resumeAfter: row.resume_after,
  };
}

/** Inserts a pending run whose total is the number of organizations created before the period ended. */
export async function insertPendingBillingRun(tx: Queryable, run: { id: string; asOf: Date; period: BillingPeriod; requestedAt: Date }): Promise<BillingRun> {
  const { rows } = await tx.query<BillingRunRow>(
    sql`INSERT INTO billing_runs (id, as_of, period_start, period_end, status, organizations_total, requested_at)
        SELECT ${run.id}::uuid, ${run.asOf}::timestamptz, ${run.period.start}::timestamptz, ${run.period.end}::timestamptz, 'pending',
               (SELECT count(*)::int4 FROM organizations WHERE created_at < ${run.period.end}::timestamptz), ${run.requestedAt}::timestamptz
        RETURNING ${billingRunColumns}`,
  );
  return toBillingRun(rows[0]!);
}

export async function findBillingRun(db: Queryable, id: string): Promise<BillingRun | null> {
  const { rows } = await db.query<BillingRunRow>(sql`SELECT ${billingRunColumns} FROM billing_runs WHERE id = ${id}::uuid`);
  return rows[0] ? toBillingRun(rows[0]) : null;
}

/** Runs newest first, after the run `before` of the previous page. */
export async function findBillingRuns(db: Queryable, options: { before: { requestedAt: Date; id: string } | null; limit: number }): Promise<BillingRun[]> {
  const { before } = options;
  const { rows } = await db.query<BillingRunRow>(
    sql`SELECT ${billingRunColumns} FROM billing_runs
         WHERE ${before === null}::boolean OR (requested_at, id) < (${before?.requestedAt ?? null}::timestamptz, ${before?.id ?? null}::uuid)
         ORDER BY requested_at DESC, id DESC
         LIMIT ${options.limit}::int`,
  );
  return rows.map(toBillingRun);
}

/** A worker takes the run up (again, after a dead worker): running; null when it is already over. */
export async function markBillingRunRunning(db: Queryable, id: string, at: Date): Promise<BillingRun | null> {
  const { rows } = await db.query<BillingRunRow>(
    sql`UPDATE billing_runs SET status = 'running', started_at = COALESCE(started_at, ${at}::timestamptz)
         WHERE id = ${id}::uuid AND status IN ('pending', 'running')
         RETURNING ${billingRunColumns}`,
  );
  return rows[0] ? toBillingRun(rows[0]) : null;
}

export interface BillingRunCounts {
  organizationsSeen: number;
  invoicesCreated: number;
  invoicesExisting: number;
  organizationsWithoutCharges: number;
  organizationsFailed: number;
}

/** Adds finished batches' counts, and moves the point a resumed run starts after. */
export async function recordBillingRunProgress(db: Queryable, id: string, counts: BillingRunCounts, resumeAfter: string): Promise<void> {
  await db.query(
    sql`UPDATE billing_runs SET organizations_seen = organizations_seen + ${counts.organizationsSeen}::int4,
               invoices_created = invoices_created + ${counts.invoicesCreated}::int4,
               invoices_existing = invoices_existing + ${counts.invoicesExisting}::int4,
               organizations_without_charges = organizations_without_charges + ${counts.organizationsWithoutCharges}::int4,
               organizations_failed = organizations_failed + ${counts.organizationsFailed}::int4,
               resume_after = GREATEST(resume_after, ${resumeAfter}::uuid)
         WHERE id = ${id}::uuid AND status = 'running'`,
    { prepare: 'billing_run_progress' },
  );
}

export async function finishBillingRun(db: Queryable, id: string, outcome: { status: 'completed' | 'failed'; at: Date; error: string | null }): Promise<BillingRun> {
  const { rows } = await db.query<BillingRunRow>(
    sql`UPDATE billing_runs SET status = ${outcome.status}, finished_at = ${outcome.at}::timestamptz, error = ${outcome.error}
         WHERE id = ${id}::uuid
         RETURNING ${billingRunColumns}`,
  );
  return toBillingRun(rows[0]!);
}
