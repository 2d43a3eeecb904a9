-- Outgoing webhooks: the event outbox, the operator's endpoints, one delivery per event and endpoint, and the last
-- billing status announced per organization.

-- One row per billing event, written in the transaction of the change that causes it. `id` is the `webhook-id` of
-- every delivery of the event; `occurred_at` is business time (the test clock's when it is on), the body's timestamp.
CREATE TABLE billing_events (
  id text PRIMARY KEY,
  organization_id uuid,
  type text NOT NULL,
  data jsonb NOT NULL,
  occurred_at timestamptz NOT NULL,
  -- Only this endpoint receives the event (webhook.test); null = every endpoint that subscribes to its type.
  endpoint_id uuid,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX billing_events_by_organization ON billing_events (organization_id, created_at DESC);

CREATE TABLE webhook_endpoints (
  id uuid PRIMARY KEY,
  url text NOT NULL,
  -- Empty = every type.
  event_types text[] NOT NULL DEFAULT '{}',
  description text,
  secret text NOT NULL,
  -- After a rotation the old secret signs too, until previous_secret_expires_at.
  previous_secret text,
  previous_secret_expires_at timestamptz,
  disabled boolean NOT NULL DEFAULT false,
  -- First failure since the last success (wall clock): three days of nothing but failures disable the endpoint.
  failing_since timestamptz,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);

-- States: pending (waiting for next_attempt_at), sending (claimed by a worker until locked_until), delivered, failed.
CREATE TABLE webhook_deliveries (
  id uuid PRIMARY KEY,
  event_id text NOT NULL REFERENCES billing_events (id) ON DELETE CASCADE,
  endpoint_id uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  state text NOT NULL DEFAULT 'pending',
  attempts int NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  locked_until timestamptz,
  last_status_code int,
  last_error text,
  last_attempt_at timestamptz,
  delivered_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (event_id, endpoint_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state IN ('pending', 'sending');
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id, created_at DESC, id DESC);

-- Fan-out in the events' own statement and transaction: one delivery per endpoint that wants each event, and a
-- wake-up for the delivery workers (LISTEN bursar_webhook_deliveries), sent by PostgreSQL only when the transaction
-- commits. A statement trigger over the inserted rows, so that a billing run's batch of events costs one INSERT.
CREATE FUNCTION fan_out_billing_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO webhook_deliveries (id, event_id, endpoint_id)
  SELECT gen_random_uuid(), n.id, e.id
    FROM new_events n
    JOIN webhook_endpoints e
      ON CASE WHEN n.endpoint_id IS NOT NULL THEN e.id = n.endpoint_id
              ELSE NOT e.disabled AND (cardinality(e.event_types) = 0 OR n.type = ANY (e.event_types)) END;
  IF FOUND THEN
    PERFORM pg_notify('bursar_webhook_deliveries', '');
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER billing_events_fan_out AFTER INSERT ON billing_events
  REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION fan_out_billing_events();

-- The billing status last announced (billing_status.updated) per organization, compared after each cause and by the
-- scheduled check.
CREATE TABLE billing_status_announcements (
  organization_id uuid PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
  is_valid boolean NOT NULL,
  message text NOT NULL,
  restriction text,
  announced_at timestamptz NOT NULL
);
