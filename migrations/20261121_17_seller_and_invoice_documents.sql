-- The seller printed on every invoice: one row, so that every process agrees. Until an operator sets it
-- (PUT /admin/seller), each start-up refreshes it from the BURSAR_SELLER_* settings.
CREATE TABLE seller_identity (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  name text NOT NULL,
  address_line_1 text,
  address_line_2 text,
  city text,
  postal_code text,
  state text,
  country text CHECK (country ~ '^[A-Z]{2}$'),
  tax_id text,
  email text,
  -- Invoice numbers are this prefix and the gap-free sequence number (INV-000042).
  invoice_number_prefix text NOT NULL DEFAULT 'INV-',
  set_by_operator boolean NOT NULL DEFAULT false,
  updated_at timestamptz NOT NULL
);

-- The rest of what the invoice document shows, frozen at issue like its lines and snapshots (its tax lines and
-- reverse-charge flag are added with tax rates, in the next migration).
ALTER TABLE invoices ADD COLUMN payment_terms text;

-- A line's unit price, and the parts a line is made of (a cluster's fixed part, its usage, a cap), in minor units.
ALTER TABLE invoice_lines
  ADD COLUMN unit_price_minor bigint,
  ADD COLUMN parts jsonb NOT NULL DEFAULT '[]';

-- Stored PDFs printed a payment status and were re-rendered at each change: render each once more, without it.
DELETE FROM invoice_documents;
