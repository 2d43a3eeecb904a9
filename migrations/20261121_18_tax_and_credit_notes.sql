-- Tax rates: the operator's catalogue. A rate with a region applies only to customers in that region (a state or
-- province code); without one, to the whole country. Deleting a rate leaves issued invoices as they are: each invoice
-- carries a copy of the name and percentage of the rates it used (invoices.tax_lines).
CREATE TABLE tax_rates (
  code text PRIMARY KEY,
  country text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
  region text,
  -- A decimal string with up to 4 decimals ("20", "8.875"): exact, never a float.
  percentage text NOT NULL CHECK (percentage ~ '^[0-9]{1,3}(\.[0-9]{1,4})?$'),
  name text NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);

-- The tax of an invoice, decided at issue from the bill-to snapshot; total_minor includes it.
ALTER TABLE invoices
  ADD COLUMN tax_minor bigint NOT NULL DEFAULT 0 CHECK (tax_minor >= 0),
  ADD COLUMN tax_lines jsonb NOT NULL DEFAULT '[]'::jsonb,
  ADD COLUMN reverse_charge boolean NOT NULL DEFAULT false,
  -- What credit notes have credited so far (never more than the invoice's subtotal + tax), and how much of it
  -- lowered what is still owed on an unpaid invoice: the amount due is total_minor - owed_reduced_minor.
  ADD COLUMN credited_minor bigint NOT NULL DEFAULT 0 CHECK (credited_minor >= 0),
  ADD COLUMN owed_reduced_minor bigint NOT NULL DEFAULT 0 CHECK (owed_reduced_minor >= 0);

-- Gap-free credit note numbers (CN-000001), taken in the transaction that issues the credit note.
CREATE TABLE credit_note_number_counter (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  last_number bigint NOT NULL
);
INSERT INTO credit_note_number_counter (singleton, last_number) VALUES (true, 0);

CREATE TABLE credit_notes (
  id uuid PRIMARY KEY,
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  invoice_id uuid NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
  number text NOT NULL UNIQUE,
  sequence_number bigint NOT NULL UNIQUE,
  currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  reason text NOT NULL,
  -- Positive amounts, credited: subtotal (before tax), tax, total = subtotal + tax.
  subtotal_minor bigint NOT NULL CHECK (subtotal_minor >= 0),
  tax_minor bigint NOT NULL CHECK (tax_minor >= 0),
  total_minor bigint NOT NULL CHECK (total_minor > 0),
  tax_lines jsonb NOT NULL DEFAULT '[]'::jsonb,
  reverse_charge boolean NOT NULL DEFAULT false,
  lines jsonb NOT NULL DEFAULT '[]'::jsonb,
  -- How the money was settled: refunded to the card, credits returned to the ledger, the amount owed reduced.
  refunded_minor bigint NOT NULL DEFAULT 0 CHECK (refunded_minor >= 0),
  credits_returned_minor bigint NOT NULL DEFAULT 0 CHECK (credits_returned_minor >= 0),
  owed_reduced_minor bigint NOT NULL DEFAULT 0 CHECK (owed_reduced_minor >= 0),
  provider_refund_reference text,
  bill_to jsonb NOT NULL,
  seller jsonb NOT NULL,
  issued_at timestamptz NOT NULL
);
CREATE INDEX credit_notes_organization ON credit_notes (organization_id, issued_at DESC);
CREATE INDEX credit_notes_invoice ON credit_notes (invoice_id);

CREATE TABLE credit_note_documents (
  credit_note_id uuid PRIMARY KEY REFERENCES credit_notes (id) ON DELETE CASCADE,
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  pdf bytea NOT NULL,
  sha256 text NOT NULL,
  rendered_at timestamptz NOT NULL
);
