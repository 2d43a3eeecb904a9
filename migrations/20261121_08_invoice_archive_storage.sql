-- Archives too large to attach are kept in the database (in chunks) rather than on one process's disk, so that the
-- signed link works on every Bursar process behind the load balancer. Deleted once their link has expired.
CREATE TABLE invoice_archives (
  id uuid PRIMARY KEY,
  organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  size_bytes bigint NOT NULL CHECK (size_bytes >= 0),
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX invoice_archives_expiry ON invoice_archives (expires_at);

CREATE TABLE invoice_archive_chunks (
  archive_id uuid NOT NULL REFERENCES invoice_archives (id) ON DELETE CASCADE,
  sequence integer NOT NULL CHECK (sequence >= 0),
  data bytea NOT NULL,
  PRIMARY KEY (archive_id, sequence)
);
