// Package sqlite is the embedded usage.Store: one SQLite file (usage.db
// in --state-dir), pure Go, WAL mode, one writer connection and a small
// pool of read-only ones.
//
// Rows live in usage_rows (one per Record, tags and metadata as JSON
// text) with an index per Logs filter in page order; usage_hourly and
// usage_daily hold the rollups, keyed by (dimension, value, bucket,
// team_id, detail), with the counts, sums and a 47-bucket latency
// histogram (usage.LatencyBuckets, in one BLOB column as
// usage.Hist.AppendEncoded writes it, added by the SQL function
// gateway_usage_hist_add on upsert). A Write inserts its rows and
// upserts their rollups in one IMMEDIATE transaction; reports read only
// the rollups.
//
// Schema versions are embedded (migrations/NNNN_name.sql) and applied at
// Open, each in its own transaction, and recorded in schema_migrations; a
// file written by a newer gateway (an unknown version) is refused.
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
	ins    *sql.Stmt
	upHour *sql.Stmt
	upDay  *sql.Stmt
	closed bool
}

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
	s := &Store{w: w, r: r}
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

// rowCols are usage_rows' columns in insert and select order.
const rowCols = `start_us, request_id, end_us, team_id, key_id, key_alias, key_user_id, user, end_user, user_dim,
	route, model, model_group, model_dim, deployment_id, provider, status, error_type,
	prompt_tokens, completion_tokens, cached_tokens, cost, latency_us, ttft_us, stream, retries, fallbacks, tags, metadata`

const nRowCols = 29

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
	if s.ins, err = s.w.Prepare(`INSERT INTO usage_rows (` + rowCols + `) VALUES (?` + strings.Repeat(", ?", nRowCols-1) +
		`) ON CONFLICT (start_us, request_id) DO NOTHING`); err != nil {
		return err
	}
	if s.upHour, err = s.w.Prepare(upsertSQL("usage_hourly")); err != nil {
		return err
	}
	s.upDay, err = s.w.Prepare(upsertSQL("usage_daily"))
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
	for _, st := range []*sql.Stmt{s.ins, s.upHour, s.upDay} {
		if st != nil {
			st.Close()
		}
	}
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

type bucketKey struct {
	bucket int64
	usage.RollupKey
}

// Write implements usage.Store.
func (s *Store) Write(ctx context.Context, batch []usage.Record) error {
	if len(batch) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("usage store: begin: %w", err)
	}
	defer tx.Rollback()
	ins := tx.StmtContext(ctx, s.ins)
	hours := make(map[bucketKey]*usage.Agg)
	days := make(map[bucketKey]*usage.Agg)
	var keys []usage.RollupKey
	args := make([]any, nRowCols)
	for i := range batch {
		r := batch[i] // a copy: Bound must not change the caller's
		usage.Bound(&r)
		rowArgs(args, &r)
		res, err := ins.ExecContext(ctx, args...)
		if err != nil {
			return fmt.Errorf("usage store: insert: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			continue // already stored: its rollups are counted
		}
		hour, day := usage.HourOf(r.Start).Unix(), usage.DayOf(r.Start).Unix()
		keys = usage.RollupKeys(keys[:0], &r, true)
		for _, k := range keys {
			if k.Hourly() {
				add(hours, bucketKey{hour, k}, &r)
			}
			add(days, bucketKey{day, k}, &r)
		}
	}
	if err := upsert(ctx, tx.StmtContext(ctx, s.upHour), hours); err != nil {
		return err
	}
	if err := upsert(ctx, tx.StmtContext(ctx, s.upDay), days); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("usage store: commit: %w", err)
	}
	return nil
}

func add(m map[bucketKey]*usage.Agg, k bucketKey, r *usage.Record) {
	a := m[k]
	if a == nil {
		a = new(usage.Agg)
		m[k] = a
	}
	a.Add(r)
}

func upsert(ctx context.Context, st *sql.Stmt, m map[bucketKey]*usage.Agg) error {
	args := make([]any, 5+len(aggCols))
	for k, a := range m {
		args[0], args[1], args[2], args[3], args[4] = string(k.Dimension), k.bucket, k.Value, k.TeamID, k.Detail
		aggArgs(args[5:], a)
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("usage store: rollup: %w", err)
		}
	}
	return nil
}

func aggArgs(dst []any, a *usage.Agg) {
	dst[0], dst[1], dst[2], dst[3], dst[4], dst[5], dst[6] =
		a.Requests, a.Successful, a.Failed, a.PromptTokens, a.CompletionTokens, a.CachedTokens, a.Spend
	dst[7] = a.Hist.AppendEncoded(nil)
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func finite(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}

// rowArgs fills args with a bound record's columns.
func rowArgs(args []any, r *usage.Record) {
	var tags, md any
	if len(r.Tags) > 0 {
		tags = jsonStrings(r.Tags)
	}
	if len(r.Metadata) > 0 {
		md = string(r.Metadata)
	}
	copy(args, []any{
		r.Start.UnixMicro(), r.RequestID, r.End.UnixMicro(), r.TeamID, r.KeyID, r.KeyAlias, r.KeyUserID,
		r.User, r.EndUser, usage.UserOf(r), r.Route, r.Model, r.ModelGroup, usage.ModelOf(r),
		r.DeploymentID, r.Provider, int64(r.Status), r.ErrorType,
		r.PromptTokens, r.CompletionTokens, r.CachedTokens, finite(r.Cost),
		r.Latency.Microseconds(), r.TTFT.Microseconds(), boolInt(r.Stream), int64(r.Retries), int64(r.Fallbacks),
		tags, md,
	})
}
