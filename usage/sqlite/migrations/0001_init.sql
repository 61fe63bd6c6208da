-- Version 1: the rows and their hourly and daily rollups.
CREATE TABLE usage_rows (
  start_us INTEGER NOT NULL, -- Record.Start, unix microseconds
  request_id TEXT NOT NULL,
  end_us INTEGER NOT NULL,
  team_id TEXT NOT NULL,
  key_id TEXT NOT NULL,
  key_alias TEXT NOT NULL,
  key_user_id TEXT NOT NULL,
  user TEXT NOT NULL,
  end_user TEXT NOT NULL,
  user_dim TEXT NOT NULL, -- usage.UserOf
  route TEXT NOT NULL,
  model TEXT NOT NULL,
  model_group TEXT NOT NULL,
  model_dim TEXT NOT NULL, -- usage.ModelOf
  deployment_id TEXT NOT NULL,
  provider TEXT NOT NULL,
  status INTEGER NOT NULL,
  error_type TEXT NOT NULL,
  prompt_tokens INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL,
  cached_tokens INTEGER NOT NULL,
  cost REAL NOT NULL,
  latency_us INTEGER NOT NULL,
  ttft_us INTEGER NOT NULL,
  stream INTEGER NOT NULL,
  retries INTEGER NOT NULL,
  fallbacks INTEGER NOT NULL,
  tags TEXT, -- JSON array, NULL when none
  metadata TEXT -- JSON object, NULL when none
);
-- Idempotence, the unfiltered page order and Prune's range.
CREATE UNIQUE INDEX usage_rows_start ON usage_rows (start_us, request_id);
-- One per Logs filter, each in page order.
CREATE INDEX usage_rows_team ON usage_rows (team_id, start_us, request_id);
CREATE INDEX usage_rows_key ON usage_rows (key_id, start_us, request_id);
CREATE INDEX usage_rows_user ON usage_rows (user_dim, start_us, request_id);
CREATE INDEX usage_rows_model ON usage_rows (model_dim, start_us, request_id);
CREATE INDEX usage_rows_request ON usage_rows (request_id);

CREATE TABLE usage_hourly (
  dimension TEXT NOT NULL,
  bucket INTEGER NOT NULL, -- unix seconds of the bucket's start (UTC)
  value TEXT NOT NULL,
  team_id TEXT NOT NULL,
  detail TEXT NOT NULL DEFAULT '',
  requests INTEGER NOT NULL DEFAULT 0,
  successful INTEGER NOT NULL DEFAULT 0,
  failed INTEGER NOT NULL DEFAULT 0,
  prompt_tokens INTEGER NOT NULL DEFAULT 0,
  completion_tokens INTEGER NOT NULL DEFAULT 0,
  cached_tokens INTEGER NOT NULL DEFAULT 0,
  spend REAL NOT NULL DEFAULT 0,
  hist BLOB NOT NULL DEFAULT x'', -- usage.Hist.AppendEncoded
  PRIMARY KEY (dimension, value, bucket, team_id, detail)
) WITHOUT ROWID;
-- Prune's range.
CREATE INDEX usage_hourly_bucket ON usage_hourly (bucket);

CREATE TABLE usage_daily (
  dimension TEXT NOT NULL,
  bucket INTEGER NOT NULL, -- unix seconds of the bucket's start (UTC)
  value TEXT NOT NULL,
  team_id TEXT NOT NULL,
  detail TEXT NOT NULL DEFAULT '',
  requests INTEGER NOT NULL DEFAULT 0,
  successful INTEGER NOT NULL DEFAULT 0,
  failed INTEGER NOT NULL DEFAULT 0,
  prompt_tokens INTEGER NOT NULL DEFAULT 0,
  completion_tokens INTEGER NOT NULL DEFAULT 0,
  cached_tokens INTEGER NOT NULL DEFAULT 0,
  spend REAL NOT NULL DEFAULT 0,
  hist BLOB NOT NULL DEFAULT x'', -- usage.Hist.AppendEncoded
  PRIMARY KEY (dimension, value, bucket, team_id, detail)
) WITHOUT ROWID;
-- A team's report; Prune's range.
CREATE INDEX usage_daily_team ON usage_daily (dimension, team_id, bucket);
CREATE INDEX usage_daily_bucket ON usage_daily (bucket);
