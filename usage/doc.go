// Package usage is the per-request log: one Record per call on every
// endpoint, written off the request path in batches, kept with hourly and
// daily rollups, and the reports read from them (LiteLLM's /spend/logs,
// /team/daily/activity, /user/daily/activity, /global/spend/report).
//
// Contract:
//   - A Record never holds a prompt, a completion, a key or an upstream
//     credential: only ids, names, counts, money and times (KeyID is the
//     key's spend id: its sha256 token or the key_id regeneration keeps).
//   - Writer.Record never blocks and never fails a call: a full queue
//     drops the record, counts it (gateway_usage_dropped_total) and logs
//     once per interval. It copies the record under a lock (no channel
//     send, no allocation, no wakeup per call): the writer goroutine wakes
//     once per batch or flush interval.
//   - A Store writes a batch and its rollups in one transaction, so a
//     report never sees a row without its rollup (or the reverse), and a
//     crash loses at most the batch in flight.
//   - Reports answer from the rollups (hour and day buckets by team, key,
//     model, user and tag), never by scanning the rows, except /spend/logs
//     which pages through rows by (start time, request id), newest first.
//   - Implementations: the embedded default (SQLite in --state-dir,
//     records kept in compact per-team chunks: see package sqlite) and
//     PostgreSQL (general_settings.database_url, a row per record, its
//     server doing the indexing); the same tests run
//     against both (a PostgreSQL-backed run needs GATEWAY_TEST_DATABASE_URL,
//     and fails instead of skipping when CI=true).
package usage
