-- Rate limits shared by every process: one counter per rule and subject (organization id, client address), for the
-- current fixed window only; a hit in a later window starts the counter again.
CREATE TABLE rate_limit_hits (
  rule text NOT NULL,
  subject text NOT NULL,
  window_ends_at timestamptz NOT NULL,
  hits integer NOT NULL,
  PRIMARY KEY (rule, subject)
);
CREATE INDEX rate_limit_hits_expired ON rate_limit_hits (window_ends_at);

-- Failed jobs are counted by queue for the metrics (the other states have jobs_runnable).
CREATE INDEX jobs_failed ON jobs (queue) WHERE state = 'failed';
