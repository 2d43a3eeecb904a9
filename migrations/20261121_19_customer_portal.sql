-- The customer's billing page (portal).
-- Plans an organization may switch to by itself on the billing page; the operator marks them.
ALTER TABLE plans ADD COLUMN selectable boolean NOT NULL DEFAULT false;

-- A portal link the platform hands a customer, and the session it becomes when opened. Only hashes of the link and
-- session tokens are kept. Lifetimes are wall-clock time (never the test clock).
CREATE TABLE portal_sessions (
  id uuid PRIMARY KEY,
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  -- The platform's user the link was made for (audited with the session's actions), when it said so.
  user_id text,
  -- Where the customer goes back to (the platform's console).
  return_url text,
  link_token_hash text NOT NULL UNIQUE,
  link_expires_at timestamptz NOT NULL,
  link_used_at timestamptz,
  session_token_hash text UNIQUE,
  session_expires_at timestamptz,
  created_at timestamptz NOT NULL,
  CHECK ((link_used_at IS NULL) = (session_token_hash IS NULL))
);
CREATE INDEX portal_sessions_by_organization ON portal_sessions (organization_id, created_at DESC);

-- A portal session's actions are audited as actor `portal` (with the platform's user id when the link named one).
ALTER TABLE audit_events DROP CONSTRAINT audit_events_actor_type_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_actor_type_check CHECK (actor_type IN ('user', 'token', 'operator', 'system', 'portal'));
