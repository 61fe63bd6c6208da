-- One row per call (usage.Record). Times are Unix nanoseconds so a record
-- reads back exactly as written and (request_id, start_ns) identifies it.
CREATE TABLE usage_records (
	start_ns bigint NOT NULL,
	request_id text NOT NULL,
	end_ns bigint NOT NULL,
	team_id text NOT NULL,
	key_id text NOT NULL,
	key_alias text NOT NULL,
	key_user_id text NOT NULL,
	user_id text NOT NULL,
	end_user text NOT NULL,
	route text NOT NULL,
	model text NOT NULL,
	model_group text NOT NULL,
	deployment_id text NOT NULL,
	provider text NOT NULL,
	status integer NOT NULL,
	error_type text NOT NULL,
	prompt_tokens bigint NOT NULL,
	completion_tokens bigint NOT NULL,
	cached_tokens bigint NOT NULL,
	cost double precision NOT NULL,
	latency_ns bigint NOT NULL,
	ttft_ns bigint NOT NULL,
	stream boolean NOT NULL,
	retries integer NOT NULL,
	fallbacks integer NOT NULL,
	tags text[] NOT NULL,
	metadata text, -- the JSON exactly as given (NULL: none)
	PRIMARY KEY (start_ns, request_id)
);
CREATE INDEX usage_records_team ON usage_records (team_id, start_ns DESC, request_id DESC);
CREATE INDEX usage_records_key ON usage_records (key_id, start_ns DESC, request_id DESC);
CREATE INDEX usage_records_request ON usage_records (request_id);
CREATE INDEX usage_records_end ON usage_records (end_ns);

-- Hourly ('h') and daily ('d') sums by (bucket, dimension, value, team),
-- updated in the transaction that inserts the rows. latency_hist counts
-- calls per latency bucket (see histogram.go) for p50 and p95.
CREATE TABLE usage_rollups (
	granularity "char" NOT NULL,
	bucket timestamptz NOT NULL,
	dimension text NOT NULL,
	value text NOT NULL,
	team_id text NOT NULL,
	requests bigint NOT NULL,
	successful bigint NOT NULL,
	failed bigint NOT NULL,
	prompt_tokens bigint NOT NULL,
	completion_tokens bigint NOT NULL,
	cached_tokens bigint NOT NULL,
	spend double precision NOT NULL,
	latency_hist bigint[] NOT NULL,
	PRIMARY KEY (granularity, dimension, value, bucket, team_id)
);
CREATE INDEX usage_rollups_team ON usage_rollups (granularity, dimension, team_id, bucket);
CREATE INDEX usage_rollups_bucket ON usage_rollups (granularity, bucket);
