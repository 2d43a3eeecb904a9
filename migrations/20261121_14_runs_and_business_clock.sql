-- Scheduled work follows the business clock: a job may be due at a business instant (NULL: due by run_at only).
-- The queue claims it once the clock of the claiming process has reached it, so moving the test clock makes it due.
ALTER TABLE jobs ADD COLUMN due_at timestamptz;

-- The test clock (BURSAR_TEST_CLOCK=1), one row: the business time `business_time` was set at database time `set_at`
-- and runs on from there. Every process sharing the database reads it; `version` tells a process it moved.
CREATE TABLE test_clock (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  business_time timestamptz NOT NULL,
  set_at timestamptz NOT NULL,
  version bigint NOT NULL
);

-- Billing runs are resources: requested (pending), worked by a job (running, with progress), then finished.
ALTER TABLE billing_runs DROP CONSTRAINT billing_runs_status_check;
ALTER TABLE billing_runs ADD CONSTRAINT billing_runs_status_check CHECK (status IN ('pending', 'running', 'completed', 'failed'));
ALTER TABLE billing_runs ALTER COLUMN started_at DROP NOT NULL;
ALTER TABLE billing_runs ADD COLUMN requested_at timestamptz;
UPDATE billing_runs SET requested_at = started_at;
ALTER TABLE billing_runs ALTER COLUMN requested_at SET NOT NULL;
ALTER TABLE billing_runs ADD COLUMN organizations_total integer;
ALTER TABLE billing_runs ADD COLUMN invoices_existing integer NOT NULL DEFAULT 0;
ALTER TABLE billing_runs ADD COLUMN organizations_without_charges integer NOT NULL DEFAULT 0;
ALTER TABLE billing_runs ADD COLUMN organizations_failed integer NOT NULL DEFAULT 0;
-- Every organization up to this id is done and counted: a run picked up after its process died resumes after it.
ALTER TABLE billing_runs ADD COLUMN resume_after uuid;
CREATE INDEX billing_runs_newest ON billing_runs (requested_at DESC, id DESC);

-- A plan may grant credits: once when an organization joins it, or at the start of every period on it.
ALTER TABLE plans ADD COLUMN credit_grant_minor bigint NOT NULL DEFAULT 0 CHECK (credit_grant_minor >= 0);
ALTER TABLE plans ADD COLUMN credit_grant_mode text NOT NULL DEFAULT 'once' CHECK (credit_grant_mode IN ('once', 'every_period'));
-- One grant per organization and reference ('plan-grant:<plan>' once, 'plan-grant:<plan>:<YYYY-MM>' per period).
CREATE UNIQUE INDEX credit_ledger_entries_one_plan_grant ON credit_ledger_entries (organization_id, reference)
  WHERE reason = 'adjustment' AND reference LIKE 'plan-grant:%';
