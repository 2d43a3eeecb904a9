-- Operator lists: invoices of every organization by status, newest first. (Failed jobs, newest first, use the
-- partial index jobs_failed of the previous migration: failed jobs are few.)
CREATE INDEX invoices_by_status ON invoices (status, issued_at DESC, id DESC);
