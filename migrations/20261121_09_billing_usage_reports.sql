-- Billing usage reports (CSV) behind signed public links: kept in the database so that every Bursar process serves
-- them, deleted on request or by the hourly sweep once expired.
CREATE TABLE billing_usage_reports (
  id uuid PRIMARY KEY,
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  span_from timestamptz NOT NULL,
  span_to timestamptz NOT NULL CHECK (span_to > span_from),
  file_name text NOT NULL,
  content text NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL CHECK (expires_at > created_at)
);
CREATE INDEX billing_usage_reports_expiry ON billing_usage_reports (expires_at);
CREATE INDEX billing_usage_reports_organization ON billing_usage_reports (organization_id);
