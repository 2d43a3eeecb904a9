-- Operator lists: failed jobs newest first (a partial index: failed jobs are few, and other job writes never touch it)
-- and invoices of every organization by status, newest first.
CREATE INDEX jobs_failed ON jobs (id DESC) WHERE state = 'failed';
CREATE INDEX invoices_by_status ON invoices (status, issued_at DESC, id DESC);
