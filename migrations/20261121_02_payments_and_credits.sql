-- Payment methods, the provider-side customer, credit codes and the credit ledger.

-- The currency the organization is billed in (plan prices, credits, invoices).
ALTER TABLE organizations ADD COLUMN currency text NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$');
-- The payment provider's customer of the organization, created on first need.
ALTER TABLE organizations ADD COLUMN provider_customer_reference text;

-- Cards: never the number or CVV, only the provider's reference and what a person needs to recognise the card.
CREATE TABLE payment_methods (
  id uuid PRIMARY KEY,
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  provider text NOT NULL,
  provider_reference text NOT NULL,
  brand text NOT NULL,
  last4 text NOT NULL CHECK (last4 ~ '^[0-9]{4}$'),
  expiry_month integer NOT NULL CHECK (expiry_month BETWEEN 1 AND 12),
  expiry_year integer NOT NULL CHECK (expiry_year BETWEEN 2000 AND 9999),
  fingerprint text NOT NULL,
  is_default boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL,
  UNIQUE (organization_id, fingerprint)
);
CREATE UNIQUE INDEX payment_methods_one_default ON payment_methods (organization_id) WHERE is_default;
CREATE INDEX payment_methods_organization ON payment_methods (organization_id, created_at DESC);

CREATE TABLE credit_codes (
  id uuid PRIMARY KEY,
  -- Stored upper-case: codes are matched without regard to case.
  code text NOT NULL UNIQUE CHECK (code ~ '^[A-Z0-9_-]{3,64}$'),
  amount_minor bigint NOT NULL CHECK (amount_minor > 0),
  currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  expires_at timestamptz,
  max_redemptions integer CHECK (max_redemptions IS NULL OR max_redemptions > 0),
  redemption_count integer NOT NULL DEFAULT 0,
  disabled_at timestamptz,
  created_at timestamptz NOT NULL,
  CHECK (max_redemptions IS NULL OR redemption_count <= max_redemptions)
);

-- The balance is the sum of this ledger: every grant (positive) and every use (negative) is a row with its reason.
CREATE TABLE credit_ledger_entries (
  id uuid PRIMARY KEY,
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  amount_minor bigint NOT NULL CHECK (amount_minor <> 0),
  currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  reason text NOT NULL CHECK (reason IN ('credit_code', 'invoice', 'adjustment')),
  -- What the entry is about: the credit code id, the invoice id, an operator's note.
  reference text,
  description text NOT NULL,
  created_at timestamptz NOT NULL,
  sequence bigserial NOT NULL
);
CREATE INDEX credit_ledger_entries_organization ON credit_ledger_entries (organization_id, sequence DESC);
-- One use of credits per invoice at most: a rerun cannot spend credits twice.
CREATE UNIQUE INDEX credit_ledger_entries_one_per_invoice ON credit_ledger_entries (organization_id, reference) WHERE reason = 'invoice';

CREATE TABLE credit_code_redemptions (
  credit_code_id uuid NOT NULL REFERENCES credit_codes (id),
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  ledger_entry_id uuid NOT NULL REFERENCES credit_ledger_entries (id),
  redeemed_at timestamptz NOT NULL,
  PRIMARY KEY (credit_code_id, organization_id)
);
