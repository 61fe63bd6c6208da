-- One row per call (usage.Record), identified by (start, request id).
-- Times and durations keep microseconds, as the usage contract says.
CREATE TABLE usage_records (
	start_at timestamptz NOT NULL,
	request_id text COLLATE "C" NOT NULL, -- byte order, as the cursor and SQLite
	end_at timestamptz NOT NULL,
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
	latency_us bigint NOT NULL,
	ttft_us bigint NOT NULL,
	stream boolean NOT NULL,
	retries integer NOT NULL,
	fallbacks integer NOT NULL,
	tags text[] NOT NULL,
	metadata text, -- the JSON object as given (usage.Bound), NULL: none
	PRIMARY KEY (start_at, request_id)
);
CREATE INDEX usage_records_team ON usage_records (team_id, start_at DESC, request_id DESC);
CREATE INDEX usage_records_key ON usage_records (key_id, start_at DESC, request_id DESC);
CREATE INDEX usage_records_request ON usage_records (request_id);
CREATE INDEX usage_records_end ON usage_records (end_at);

-- Hourly ('h') and daily ('d') sums by (bucket, dimension, value, team,
-- detail) (usage.RollupKeys), updated in the transaction that inserts the
-- rows. latency_hist has usage.LatencyBuckets counts (usage.Hist).
CREATE TABLE usage_rollups (
	granularity "char" NOT NULL,
	bucket timestamptz NOT NULL,
	dimension text NOT NULL,
	value text NOT NULL,
	team_id text NOT NULL,
	detail text NOT NULL,
	requests bigint NOT NULL,
	successful bigint NOT NULL,
	failed bigint NOT NULL,
	prompt_tokens bigint NOT NULL,
	completion_tokens bigint NOT NULL,
	cached_tokens bigint NOT NULL,
	spend double precision NOT NULL,
	latency_hist bigint[] NOT NULL,
	PRIMARY KEY (granularity, dimension, value, team_id, detail, bucket)
);
CREATE INDEX usage_rollups_bucket ON usage_rollups (granularity, dimension, bucket);
CREATE INDEX usage_rollups_prune ON usage_rollups (granularity, bucket);
