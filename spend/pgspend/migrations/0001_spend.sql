-- One row per (team, key, budget period): the period is named by its
-- reset time (Unix nanoseconds, 0 when the budget never resets), so a
-- late delta of an old period adds to the old row, never to the new one.
-- Writers add (spend = spend + delta), so replicas sharing the database
-- add up. The current period of a team or key is the row with the
-- greatest `opened` (taken from spend_period_seq when a row becomes
-- current).
CREATE SEQUENCE spend_period_seq;
CREATE TABLE spend_periods (
	team_id text NOT NULL,
	key_token text NOT NULL, -- '' for the team's own record
	reset_ns bigint NOT NULL,
	period_start_ns bigint NOT NULL,
	spend double precision NOT NULL CHECK (spend >= 0),
	opened bigint NOT NULL,
	updated_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (team_id, key_token, reset_ns)
);
CREATE INDEX spend_periods_current ON spend_periods (team_id, key_token, opened DESC);

-- One-time events, such as carrying spend.db over.
CREATE TABLE spend_markers (
	name text PRIMARY KEY,
	done_at timestamptz NOT NULL DEFAULT now(),
	detail text NOT NULL
);

-- The flushes committed (kept a week): a flush retried after its COMMIT's
-- answer was lost finds its id here and is not applied twice.
CREATE TABLE spend_flushes (
	id text PRIMARY KEY,
	at timestamptz NOT NULL DEFAULT now()
);
