-- The invoices of these (organization, period start) pairs as committed when the function runs. It is VOLATILE on
-- purpose: a volatile function reads with a snapshot of its own, taken when it is called, where the statement calling
-- it reads from the snapshot taken when the statement started. A statement that first waits for invoicing locks
-- (src/billing/invoices/invoicing-lock.ts) then sees the invoices that invoicing committed while it waited, in one
-- round trip instead of a transaction of its own.
CREATE FUNCTION invoiced_periods_now(organization_ids uuid[], period_starts timestamptz[])
RETURNS TABLE (organization_id uuid, period_start timestamptz)
LANGUAGE sql VOLATILE
AS $$
  SELECT DISTINCT i.organization_id, i.period_start
    FROM unnest(organization_ids, period_starts) AS p (organization_id, period_start)
    JOIN invoices i ON i.organization_id = p.organization_id AND i.period_start = p.period_start
$$;
