-- Plans, billable clusters and their usage, invoices, billing runs.

CREATE TABLE plans (
  code text PRIMARY KEY CHECK (code ~ '^[A-Za-z0-9_-]{1,64}$'),
  name text NOT NULL,
  monthly_price_minor bigint NOT NULL CHECK (monthly_price_minor >= 0),
  currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  -- credits: usage is paid from the credit balance (a community plan); invoiced: invoiced monthly, charged to the card.
  kind text NOT NULL CHECK (kind IN ('credits', 'invoiced')),
  trial_days integer NOT NULL DEFAULT 0 CHECK (trial_days BETWEEN 0 AND 365),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
-- The default plan every organization starts on.
INSERT INTO plans (code, name, monthly_price_minor, currency, kind, trial_days, created_at, updated_at)
VALUES ('FREE', 'Free', 0, 'USD', 'credits', 0, now(), now());

ALTER TABLE organizations ADD CONSTRAINT organizations_plan_fkey FOREIGN KEY (plan) REFERENCES plans (code);
ALTER TABLE organizations ADD COLUMN trial_ends_at timestamptz;

-- Which plan an organization was on, when: the basis of prorated plan fees. ended_at NULL = current.
CREATE TABLE plan_subscriptions (
  id uuid PRIMARY KEY,
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  plan_code text NOT NULL REFERENCES plans (code),
  started_at timestamptz NOT NULL,
  ended_at timestamptz,
  CHECK (ended_at IS NULL OR ended_at >= started_at)
);
CREATE UNIQUE INDEX plan_subscriptions_one_current ON plan_subscriptions (organization_id) WHERE ended_at IS NULL;
CREATE INDEX plan_subscriptions_organization ON plan_subscriptions (organization_id, started_at);

-- Clusters (or any billable resource) with their pricing.
CREATE TABLE clusters (
  id uuid PRIMARY KEY,
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name text NOT NULL,
  hourly_price_per_node_minor bigint NOT NULL CHECK (hourly_price_per_node_minor >= 0),
  min_nodes integer NOT NULL CHECK (min_nodes >= 0),
  max_nodes integer NOT NULL CHECK (max_nodes >= 1 AND max_nodes >= min_nodes),
  fixed_monthly_minor bigint NOT NULL DEFAULT 0 CHECK (fixed_monthly_minor >= 0),
  currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  active_from timestamptz NOT NULL,
  active_until timestamptz,
  created_at timestamptz NOT NULL
);
CREATE INDEX clusters_organization ON clusters (organization_id);

-- Usage as events; an event id counts once however often it is sent.
CREATE TABLE usage_events (
  id text PRIMARY KEY CHECK (char_length(id) BETWEEN 1 AND 255),
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  cluster_id uuid NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
  metric text NOT NULL CHECK (metric IN ('node_hours')),
  quantity bigint NOT NULL CHECK (quantity >= 0),
  occurred_at timestamptz NOT NULL,
  received_at timestamptz NOT NULL
);
CREATE INDEX usage_events_cluster ON usage_events (cluster_id, occurred_at);
CREATE INDEX usage_events_organization ON usage_events (organization_id, occurred_at);

-- Gap-free invoice numbers: taken in the transaction that issues the invoice, so a rollback gives the number back.
CREATE TABLE invoice_number_counter (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  last_number bigint NOT NULL
);
INSERT INTO invoice_number_counter (singleton, last_number) VALUES (true, 0);

CREATE TABLE invoices (
  id uuid PRIMARY KEY,
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  number text NOT NULL UNIQUE,
  sequence_number bigint NOT NULL UNIQUE,
  period_start timestamptz NOT NULL,
  period_end timestamptz NOT NULL,
  plan_code text NOT NULL,
  plan_kind text NOT NULL CHECK (plan_kind IN ('credits', 'invoiced')),
  currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  status text NOT NULL CHECK (status IN ('NOT_PAID', 'PAID', 'PAYMENT_DUE', 'PENDING', 'POSTED', 'UNKNOWN', 'VOIDED')),
  subtotal_minor bigint NOT NULL,
  credits_applied_minor bigint NOT NULL DEFAULT 0 CHECK (credits_applied_minor >= 0),
  total_minor bigint NOT NULL CHECK (total_minor >= 0),
  -- Snapshots taken at issue: later profile edits never rewrite an issued invoice.
  bill_to jsonb NOT NULL,
  seller jsonb NOT NULL,
  issued_at timestamptz NOT NULL,
  due_at timestamptz,
  paid_at timestamptz,
  voided_at timestamptz,
  payment_attempts integer NOT NULL DEFAULT 0,
  next_payment_attempt_at timestamptz,
  last_payment_error text,
  provider_charge_reference text,
  created_at timestamptz NOT NULL,
  -- One invoice per organization and period, whatever reruns, crashes or concurrent workers do.
  UNIQUE (organization_id, period_start)
);
CREATE INDEX invoices_organization ON invoices (organization_id, issued_at DESC);
CREATE INDEX invoices_unpaid ON invoices (organization_id) WHERE status IN ('NOT_PAID', 'PAYMENT_DUE');
CREATE INDEX invoices_payment_retry ON invoices (next_payment_attempt_at) WHERE next_payment_attempt_at IS NOT NULL;

CREATE TABLE invoice_lines (
  invoice_id uuid NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
  position integer NOT NULL,
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('plan', 'usage', 'credit')),
  description text NOT NULL,
  quantity text,
  amount_minor bigint NOT NULL,
  cluster_id uuid,
  PRIMARY KEY (invoice_id, position)
);

-- The PDF of an invoice, rendered once and served byte for byte afterwards.
CREATE TABLE invoice_documents (
  invoice_id uuid PRIMARY KEY REFERENCES invoices (id) ON DELETE CASCADE,
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  pdf bytea NOT NULL,
  sha256 text NOT NULL,
  rendered_at timestamptz NOT NULL
);

CREATE TABLE billing_runs (
  id uuid PRIMARY KEY,
  as_of timestamptz NOT NULL,
  period_start timestamptz NOT NULL,
  period_end timestamptz NOT NULL,
  status text NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
  organizations_seen integer NOT NULL DEFAULT 0,
  invoices_created integer NOT NULL DEFAULT 0,
  started_at timestamptz NOT NULL,
  finished_at timestamptz,
  error text
);
