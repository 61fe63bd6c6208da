-- Version 2: the records move from one row each (with six indexes) into
-- chunks, one per team per Write: a Write costs a row, not a row and six
-- index entries per call. The gateway moves the rows of version 1 into
-- chunks (in Go, in this migration's transaction) and drops usage_rows.

-- One per Write: a Bloom filter of its request ids, so finding a request
-- id reads one small row per batch, not one per chunk.
CREATE TABLE usage_batches (
  id INTEGER PRIMARY KEY,
  start_min INTEGER NOT NULL, -- its records' Start, unix microseconds (bounds: Prune may leave them wider)
  start_max INTEGER NOT NULL,
  filter BLOB NOT NULL
);
CREATE INDEX usage_batches_start ON usage_batches (start_max);

CREATE TABLE usage_chunks (
  id INTEGER PRIMARY KEY,
  batch_id INTEGER NOT NULL, -- usage_batches.id
  team_id TEXT NOT NULL,
  start_min INTEGER NOT NULL, -- the records' Start, unix microseconds
  start_max INTEGER NOT NULL,
  end_min INTEGER NOT NULL, -- their End
  end_max INTEGER NOT NULL,
  records INTEGER NOT NULL,
  digest BLOB NOT NULL UNIQUE, -- sha256 of the team and the data: a batch written again is not counted twice
  filter BLOB NOT NULL -- a Bloom filter of keys, users and models (bloom.go)
);
-- Logs pages newest first, a team's or everyone's.
CREATE INDEX usage_chunks_team ON usage_chunks (team_id, start_max);
CREATE INDEX usage_chunks_start ON usage_chunks (start_max);
-- Prune's range.
CREATE INDEX usage_chunks_end ON usage_chunks (end_min);
-- A batch's chunks.
CREATE INDEX usage_chunks_batch ON usage_chunks (batch_id);

-- The records, apart so that scanning usage_chunks reads no record.
CREATE TABLE usage_chunk_data (
  id INTEGER PRIMARY KEY, -- usage_chunks.id
  data BLOB NOT NULL -- chunk.go's encoding
);

-- The chunks that hold a key, a user (usage.UserOf) or a model
-- (usage.ModelOf), by a hash of it (bloom.go's termHash), newest first:
-- a /spend/logs filtered by one of them reads only those chunks.
CREATE TABLE usage_chunk_terms (
  term INTEGER NOT NULL,
  start_max INTEGER NOT NULL, -- usage_chunks.start_max
  chunk_id INTEGER NOT NULL, -- usage_chunks.id
  PRIMARY KEY (term, start_max, chunk_id)
) WITHOUT ROWID;
