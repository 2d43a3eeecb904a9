-- Events the payment provider sends us (Stripe webhooks, the sandbox's authentication page): each one is applied
-- once. Its id is stored in the transaction that applies it, so a redelivery finds it and changes nothing.
CREATE TABLE provider_events (
  provider text NOT NULL,
  event_id text NOT NULL,
  event_type text NOT NULL,
  -- What it did: applied (the invoice changed), unchanged (already so), ignored (a type Bursar does not handle),
  -- no_invoice (about a payment Bursar did not make).
  outcome text NOT NULL CHECK (outcome IN ('applied', 'unchanged', 'ignored', 'no_invoice')),
  invoice_id uuid REFERENCES invoices (id) ON DELETE SET NULL,
  received_at timestamptz NOT NULL,
  PRIMARY KEY (provider, event_id)
);

-- Where the customer completes a charge that needs authentication (strong customer authentication); shown while
-- the invoice is PENDING on it.
ALTER TABLE invoices ADD COLUMN payment_action_url text;
-- What the provider reports after payment: refunds (cumulative) and a dispute opened by the card holder.
ALTER TABLE invoices ADD COLUMN refunded_minor bigint NOT NULL DEFAULT 0 CHECK (refunded_minor >= 0);
ALTER TABLE invoices ADD COLUMN disputed_minor bigint;
ALTER TABLE invoices ADD COLUMN dispute_reason text;
ALTER TABLE invoices ADD COLUMN disputed_at timestamptz;

-- Provider events name the payment, not the invoice.
CREATE INDEX invoices_provider_charge_reference ON invoices (provider_charge_reference) WHERE provider_charge_reference IS NOT NULL;
