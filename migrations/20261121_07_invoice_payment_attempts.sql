-- Which card the last charge attempt of an invoice used, and when: a new default card makes an unpaid invoice
-- due for another attempt, even after the dunning schedule is exhausted (PAYMENT_DUE).
ALTER TABLE invoices ADD COLUMN last_payment_method_id uuid;
ALTER TABLE invoices ADD COLUMN last_payment_attempt_at timestamptz;

-- The retry sweep looks for unpaid invoiced-plan invoices across organizations.
CREATE INDEX invoices_awaiting_payment ON invoices (organization_id)
  WHERE status IN ('PENDING', 'NOT_PAID', 'PAYMENT_DUE') AND plan_kind = 'invoiced';
