-- Trials: only the trial's own window is free, so the organization keeps when its trial started as well as when it
-- ends. Existing trials started when the organization moved to (or was created on) the plan that gave it.
ALTER TABLE organizations ADD COLUMN trial_started_at timestamptz;
UPDATE organizations o
   SET trial_started_at = COALESCE(
         (SELECT max(s.started_at) FROM plan_subscriptions s JOIN plans p ON p.code = s.plan_code
           WHERE s.organization_id = o.id AND p.trial_days > 0 AND s.started_at < o.trial_ends_at),
         LEAST(o.created_at, o.trial_ends_at - interval '1 second'))
 WHERE o.trial_ends_at IS NOT NULL;
ALTER TABLE organizations ADD CONSTRAINT organizations_trial_window
  CHECK ((trial_started_at IS NULL) = (trial_ends_at IS NULL) AND (trial_started_at IS NULL OR trial_started_at < trial_ends_at));

-- Late usage: an event that arrives after its period was invoiced is billed on the organization's next invoice.
-- `late` is decided when the event is recorded (under the organization's invoicing lock, shared); `late_invoice_id`
-- is the invoice that billed it, set in that invoice's transaction (deferred: the invoice row is written last).
ALTER TABLE usage_events ADD COLUMN late boolean NOT NULL DEFAULT false;
ALTER TABLE usage_events ADD COLUMN late_invoice_id uuid REFERENCES invoices (id) DEFERRABLE INITIALLY DEFERRED;
CREATE INDEX usage_events_late_unbilled ON usage_events (organization_id) WHERE late AND late_invoice_id IS NULL;
