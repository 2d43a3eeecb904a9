-- Foundation: organizations, members, API tokens, the billing profile and its addresses, audit trail, jobs.

CREATE TABLE settings (
  key text PRIMARY KEY,
  value text NOT NULL
);

CREATE TABLE organizations (
  id uuid PRIMARY KEY,
  slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]*$' AND char_length(slug) BETWEEN 1 AND 64),
  name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
  plan text NOT NULL DEFAULT 'FREE',
  -- Bumped by every change of the billing profile, its addresses or the organization's name/slug: the ETag.
  billing_version bigint NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);

CREATE TABLE memberships (
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  user_id text NOT NULL CHECK (char_length(user_id) BETWEEN 1 AND 255),
  role text NOT NULL CHECK (role IN ('owner', 'admin', 'billing', 'member')),
  created_at timestamptz NOT NULL,
  PRIMARY KEY (organization_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

CREATE TABLE api_tokens (
  id uuid PRIMARY KEY,
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name text NOT NULL,
  role text NOT NULL CHECK (role IN ('owner', 'admin', 'billing', 'member')),
  -- SHA-256 of the token: the token itself is shown once and never stored.
  token_hash text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL,
  revoked_at timestamptz
);
CREATE INDEX api_tokens_organization ON api_tokens (organization_id);

-- The one billing profile of an organization; its postal address is the default billing address.
CREATE TABLE billing_profiles (
  organization_id uuid PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
  contact_first_name text,
  contact_last_name text,
  email text,
  tax_id text,
  tax_id_type text,
  updated_at timestamptz NOT NULL
);

CREATE TABLE billing_addresses (
  id text PRIMARY KEY,
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name text,
  company text,
  address_line1 text,
  address_line2 text,
  city text,
  state text,
  postal_code text,
  country text CHECK (country ~ '^[A-Z]{2}$'),
  is_default boolean NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX billing_addresses_organization ON billing_addresses (organization_id, created_at);
-- At most one default per organization, at every instant.
CREATE UNIQUE INDEX billing_addresses_one_default ON billing_addresses (organization_id) WHERE is_default;

-- At least one default whenever an organization has addresses, checked at commit.
CREATE FUNCTION billing_addresses_require_default() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  target uuid;
  address_count bigint;
  default_count bigint;
BEGIN
  IF TG_OP = 'DELETE' THEN target := OLD.organization_id; ELSE target := NEW.organization_id; END IF;
  SELECT count(*), count(*) FILTER (WHERE is_default) INTO address_count, default_count
    FROM billing_addresses WHERE organization_id = target;
  IF address_count > 0 AND default_count <> 1 THEN
    RAISE EXCEPTION 'organization % must have exactly one default billing address', target
      USING ERRCODE = 'check_violation', CONSTRAINT = 'billing_addresses_require_default';
  END IF;
  RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER billing_addresses_require_default
  AFTER INSERT OR UPDATE OR DELETE ON billing_addresses
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION billing_addresses_require_default();

CREATE TABLE audit_events (
  id uuid PRIMARY KEY,
  organization_id uuid REFERENCES organizations (id) ON DELETE CASCADE,
  type text NOT NULL,
  actor_type text NOT NULL CHECK (actor_type IN ('user', 'token', 'operator', 'system')),
  actor_id text,
  surface text NOT NULL,
  changes jsonb NOT NULL DEFAULT '{}'::jsonb,
  request_id text,
  created_at timestamptz NOT NULL,
  sequence bigserial NOT NULL
);
CREATE INDEX audit_events_organization ON audit_events (organization_id, sequence DESC);

-- Stored answers of POSTs sent with an Idempotency-Key: a retry gets the first answer back.
CREATE TABLE idempotency_keys (
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  scope text NOT NULL,
  key text NOT NULL CHECK (char_length(key) BETWEEN 1 AND 255),
  request_hash text NOT NULL,
  response_status integer NOT NULL,
  response_body jsonb,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (organization_id, scope, key)
);

-- The job queue: side effects enqueued in the transaction that causes them, run after commit.
CREATE TABLE jobs (
  id bigserial PRIMARY KEY,
  queue text NOT NULL,
  payload jsonb NOT NULL,
  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'active', 'completed', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  max_attempts integer NOT NULL DEFAULT 8,
  run_at timestamptz NOT NULL DEFAULT now(),
  locked_until timestamptz,
  singleton_key text,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz
);
CREATE UNIQUE INDEX jobs_singleton ON jobs (queue, singleton_key) WHERE singleton_key IS NOT NULL;
CREATE INDEX jobs_runnable ON jobs (run_at) WHERE state IN ('pending', 'active');
