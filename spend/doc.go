// Package spend keeps the gateway's runtime spend: each team's and each
// virtual key's spend in its current budget period and when that period
// resets. It lives in the state directory (--state-dir), never in the YAML
// and never under teams.d/ or models.d/.
//
// The store is go.etcd.io/bbolt: an embedded key/value store in one file
// (spend.db), with no server to run or operate, ACID transactions with
// fsync on commit (so a crash never leaves a torn file), pure Go (no cgo),
// and well kept: it is maintained by the etcd project, which depends on it.
// The data is tiny (one record per team and per key), which suits a
// single-writer B+tree file perfectly.
//
// One goroutine owns the bbolt handle. Team actors send it spend deltas
// over a channel (never blocking on disk); it merges them in memory and
// writes them in one transaction at most every FlushInterval (500 ms), so
// after a kill -9 at most the last second of spend is lost. Close writes
// everything still pending. Team actors load their figures with Load when
// they start.
//
// Deltas carry the budget period they belong to (its reset time), so a
// late delta from a previous period never lands in the new one, and two
// actors of one team (an old one finishing in-flight calls while a new one
// starts) add up instead of overwriting each other.
package spend
