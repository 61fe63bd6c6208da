// Package sqlite is the embedded usage.Store: one SQLite file (usage.db
// in --state-dir), pure Go, WAL mode, one writer connection and a small
// pool of read-only ones.
//
// Records live in chunks: each Write turns each team's records into one
// usage_chunks row (the team, the range of starts and ends, a digest for
// idempotence and a Bloom filter of the keys, users, models and request
// ids, bloom.go) and one usage_chunk_data row (the records in chunk.go's
// compact encoding). A row and six index entries per record cost the
// writer about 100 µs of CPU per call in pure Go; a chunk costs under
// 1 µs per record, so the log keeps up with the gateway at saturation
// without taking its CPU. Logs reads chunks newest first and stops as
// soon as no unread chunk can hold a record of the page. usage_hourly
// and usage_daily hold the rollups, keyed by (dimension, value, bucket,
// team_id, detail), with the counts, sums and a 47-bucket latency
// histogram (usage.LatencyBuckets, in one BLOB column as
// usage.Hist.AppendEncoded writes it, added by the SQL function
// gateway_usage_hist_add on upsert). A Write inserts its chunks and
// upserts their rollups in one IMMEDIATE transaction; reports read only
// the rollups.
//
// Schema versions are embedded (migrations/NNNN_name.sql, with steps in
// Go for what SQL cannot do: goSteps) and applied at Open, each in its
// own transaction, and recorded in schema_migrations; a file written by
// a newer gateway (an unknown version) is refused.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/llmgateway/gateway/usage"
)

// FileName is the store's file inside the state directory.
const FileName = "usage.db"

// BusyTimeout is how long a connection waits for a lock held by another
// process (another gateway on the same state directory, a backup).
const BusyTimeout = 10 * time.Second

// pruneChunk bounds the rows one Prune transaction deletes, so the writer
// is never held for long.
const pruneChunk = 20000

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the SQLite usage.Store. Its methods are safe for concurrent use.
type Store struct {
	w *sql.DB // the one writer
	r *sql.DB // readers (query_only)

	mu     sync.Mutex // serialises Write and Prune on w
	st     writeStmts // prepared on w
	closed bool

	listPage int // the chunks Logs lists per query (defaultListPage; tests lower it)

	busy atomic.Pointer[func() bool] // SetBusy's; read by each Write's and Prune's pacer
}

// SetBusy gives the store a function that says whether calls are in
// flight (the gateway's): on one processor, a Write or Prune then works
// while none is (see pacer). It must be cheap and safe for concurrent
// use; nil removes it.
func (s *Store) SetBusy(busy func() bool) {
	if busy == nil {
		s.busy.Store(nil)
		return
	}
	s.busy.Store(&busy)
}

// newPacer is a pacer for a Write or Prune of s.
func (s *Store) newPacer() pacer {
	var busy func() bool
	if f := s.busy.Load(); f != nil {
		busy = *f
	}
	return newPacer(busy)
}

// defaultListPage is how many chunks Logs lists per query.
const defaultListPage = 256

var _ usage.Store = (*Store)(nil)

// OpenDir opens (creating as needed) FileName in the state directory.
func OpenDir(stateDir string) (*Store, error) {
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, fmt.Errorf("usage store: creating the state directory: %w", err)
	}
	return Open(filepath.Join(stateDir, FileName))
}

// Open opens (creating as needed) the usage store at path and applies the
// embedded migrations.
func Open(path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("usage store: creating its directory: %w", err)
	}
	// Created 0600 before SQLite opens it, so its -wal and -shm files
	// (which take the database file's mode) are 0600 too.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("usage store: %w", err)
	}
	f.Close()
	w, err := openDB(path, false)
	if err != nil {
		return nil, fmt.Errorf("usage store %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := migrate(context.Background(), w); err != nil {
		w.Close()
		return nil, fmt.Errorf("usage store %s: %w", path, err)
	}
	r, err := openDB(path, true)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("usage store %s: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	s := &Store{w: w, r: r, listPage: defaultListPage}
	if err := s.prepare(); err != nil {
		s.Close()
		return nil, fmt.Errorf("usage store %s: %w", path, err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.Close()
			return nil, fmt.Errorf("usage store %s: %w", path, err)
		}
	}
	return s, nil
}

// migrate applies the embedded migrations not yet recorded.
func migrate(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("schema_migrations: %w", err)
	}
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	type mig struct {
		version int
		name    string
	}
	var all []mig
	for _, f := range files {
		base := strings.TrimSuffix(filepath.Base(f), ".sql")
		num, _, _ := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if err != nil {
			return fmt.Errorf("embedded migration %s has no version number", f)
		}
		all = append(all, mig{v, base})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].version < all[j].version })
	var have int
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
		return fmt.Errorf("reading the schema version: %w", err)
	}
	if latest := all[len(all)-1].version; have > latest {
		return fmt.Errorf("the file has schema version %d, newer than this gateway's %d; run the newer gateway or move the file aside", have, latest)
	}
	for _, m := range all {
		if m.version <= have {
			continue
		}
		body, err := migrations.ReadFile("migrations/" + m.name + ".sql")
		if err != nil {
			return err
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if step := goSteps[m.version]; step != nil {
			if err := step(ctx, tx); err != nil {
				tx.Rollback()
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
			m.version, m.name, time.Now().Unix()); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	return nil
}

// SchemaVersion is the highest migration applied.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	return v, err
}

// aggCols are a rollup's value columns.
var aggCols = func() []string {
	return []string{"requests", "successful", "failed", "prompt_tokens", "completion_tokens", "cached_tokens", "spend", "hist"}
}()

func upsertSQL(table string) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + table + " (dimension, bucket, value, team_id, detail, " + strings.Join(aggCols, ", ") + ") VALUES (?, ?, ?, ?, ?")
	b.WriteString(strings.Repeat(", ?", len(aggCols)))
	b.WriteString(") ON CONFLICT (dimension, value, bucket, team_id, detail) DO UPDATE SET ")
	for i, c := range aggCols {
		if i > 0 {
			b.WriteString(", ")
		}
		if c == "hist" {
			b.WriteString(c + " = " + histAdd + "(" + c + ", excluded." + c + ")")
		} else {
			b.WriteString(c + " = " + c + " + excluded." + c)
		}
	}
	return b.String()
}

func (s *Store) prepare() error {
	var err error
	s.st, err = prepareWrites(context.Background(), s.w)
	return err
}

// Close closes the store; a Write after Close fails.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.st.close()
	var errs []error
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	// A clean close checkpoints the WAL into the file.
	if _, err := s.w.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, s.w.Close())
	return errors.Join(errs...)
}

var errClosed = errors.New("usage store: closed")

func aggArgs(dst []any, a *usage.Agg) {
	dst[0], dst[1], dst[2], dst[3], dst[4], dst[5], dst[6] =
		a.Requests, a.Successful, a.Failed, a.PromptTokens, a.CompletionTokens, a.CachedTokens, a.Spend
	dst[7] = a.Hist.AppendEncoded(nil)
}

func finite(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}
