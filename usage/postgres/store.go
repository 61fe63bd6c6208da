// Package postgres is the usage.Store on PostgreSQL
// (general_settings.database_url), shared by every gateway replica.
//
// Schema (migrations/): usage_records, one row per call keyed by (start
// time in Unix nanoseconds, request id); usage_rollups, hourly and daily
// sums by (bucket, dimension, value, team) with counts, token sums, spend
// and a latency histogram for p50/p95. Write inserts a batch (one
// pipelined round trip, ON CONFLICT DO NOTHING so a batch written twice
// counts once) and upserts the rollups of the rows it really inserted, in
// the same transaction: a crash (kill -9 included) rolls back both, so a
// report never sees a row without its rollup. Rollup upserts run in a
// fixed key order, so concurrent writers (several replicas) never
// deadlock; additive upserts (x = x + excluded.x) make them commute.
//
// Migrations are applied at Open under an advisory lock (package
// internal/pgmigrate), safe when several replicas start at once.
package postgres

import (
	"cmp"
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/llmgateway/gateway/internal/pgdb"
	"github.com/llmgateway/gateway/internal/pgmigrate"
	"github.com/llmgateway/gateway/usage"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Component is this store's name in the gateway_migrations table.
const Component = "usage"

// Migrations returns the embedded migrations.
func Migrations() ([]pgmigrate.Migration, error) { return pgmigrate.Load(migrationFS, "migrations") }

// Store is a usage.Store on PostgreSQL. Safe for concurrent use.
type Store struct {
	pool    *pgxpool.Pool
	ownPool bool
}

var _ usage.Store = (*Store)(nil)

// Open connects to databaseURL, applies the migrations and returns the
// store. Errors never contain the URL (it holds the password).
func Open(ctx context.Context, databaseURL string, log *slog.Logger) (*Store, error) {
	pool, err := pgdb.Connect(ctx, databaseURL)
	if err != nil {
		return nil, err
	}
	s, err := New(ctx, pool, log)
	if err != nil {
		pool.Close()
		return nil, err
	}
	s.ownPool = true
	return s, nil
}

// New uses an existing pool (shared with the spend store); Close does not
// close it. It applies the migrations.
func New(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.Default()
	}
	ms, err := Migrations()
	if err != nil {
		return nil, err
	}
	n, err := pgmigrate.Apply(ctx, pool, Component, ms)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		log.Info("usage store: PostgreSQL schema migrated", "applied", n, "version", ms[len(ms)-1].Version)
	}
	return &Store{pool: pool}, nil
}

// Close closes the pool if Open made it.
func (s *Store) Close() error {
	if s.ownPool {
		s.pool.Close()
	}
	return nil
}

// clean makes a string storable as PostgreSQL text: valid UTF-8, no NUL.
func clean(v string) string {
	if !utf8.ValidString(v) {
		v = strings.ToValidUTF8(v, "\uFFFD")
	}
	if strings.IndexByte(v, 0) >= 0 {
		v = strings.ReplaceAll(v, "\x00", "")
	}
	return v
}

const insertRecord = `INSERT INTO usage_records (start_at, request_id, end_at, team_id, key_id, key_alias,
	key_user_id, user_id, end_user, route, model, model_group, deployment_id, provider, status, error_type,
	prompt_tokens, completion_tokens, cached_tokens, cost, latency_us, ttft_us, stream, retries, fallbacks,
	tags, metadata)
VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24,$25,$26,$27)
ON CONFLICT (start_at, request_id) DO NOTHING RETURNING true`

const upsertRollup = `INSERT INTO usage_rollups (granularity, bucket, dimension, value, team_id, detail, requests,
	successful, failed, prompt_tokens, completion_tokens, cached_tokens, spend, latency_hist)
VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)
ON CONFLICT (granularity, dimension, value, team_id, detail, bucket) DO UPDATE SET
	requests = usage_rollups.requests + excluded.requests,
	successful = usage_rollups.successful + excluded.successful,
	failed = usage_rollups.failed + excluded.failed,
	prompt_tokens = usage_rollups.prompt_tokens + excluded.prompt_tokens,
	completion_tokens = usage_rollups.completion_tokens + excluded.completion_tokens,
	cached_tokens = usage_rollups.cached_tokens + excluded.cached_tokens,
	spend = usage_rollups.spend + excluded.spend,
	latency_hist = (SELECT array_agg(coalesce(a, 0) + coalesce(b, 0) ORDER BY i)
		FROM unnest(usage_rollups.latency_hist, excluded.latency_hist) WITH ORDINALITY AS h(a, b, i))`

type rollKey struct {
	gran   string
	bucket time.Time
	usage.RollupKey
}

// micro truncates to the microsecond PostgreSQL keeps, in UTC.
func micro(t time.Time) time.Time { return t.Truncate(time.Microsecond).UTC() }

// prepare applies usage.Bound and makes every string storable.
func prepare(r usage.Record) usage.Record {
	usage.Bound(&r)
	r.Start, r.End = micro(r.Start), micro(r.End)
	r.Latency, r.TTFT = r.Latency.Truncate(time.Microsecond), r.TTFT.Truncate(time.Microsecond)
	for _, f := range []*string{&r.RequestID, &r.TeamID, &r.KeyID, &r.KeyAlias, &r.KeyUserID, &r.User, &r.EndUser,
		&r.Route, &r.Model, &r.ModelGroup, &r.DeploymentID, &r.Provider, &r.ErrorType} {
		*f = clean(*f)
	}
	if len(r.Tags) > 0 {
		tags := make([]string, len(r.Tags))
		for i, t := range r.Tags {
			tags[i] = clean(t)
		}
		r.Tags = tags
		usage.Bound(&r) // cleaning may have made two tags equal
	}
	if r.Cost != r.Cost || r.Cost > math.MaxFloat64 || r.Cost < -math.MaxFloat64 {
		r.Cost = 0 // NaN and infinities: not storable as a sum
	}
	return r
}

// Write stores a batch and its rollups in one transaction. Records
// already stored (same RequestID and Start, to the microsecond), also
// twice in the batch, count once.
func (s *Store) Write(ctx context.Context, batch []usage.Record) error {
	if len(batch) == 0 {
		return nil
	}
	recs := make([]usage.Record, len(batch))
	for i := range batch {
		recs[i] = prepare(batch[i])
	}
	// A fixed order: concurrent writers lock rows in the same order.
	slices.SortStableFunc(recs, func(a, b usage.Record) int {
		return cmp.Or(a.Start.Compare(b.Start), cmp.Compare(a.RequestID, b.RequestID))
	})
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("usage store: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()

	b := &pgx.Batch{}
	for i := range recs {
		r := &recs[i]
		var meta *string
		if len(r.Metadata) > 0 {
			m := clean(string(r.Metadata))
			meta = &m
		}
		tags := r.Tags
		if tags == nil {
			tags = []string{}
		}
		b.Queue(insertRecord, r.Start, r.RequestID, r.End, r.TeamID, r.KeyID, r.KeyAlias, r.KeyUserID, r.User,
			r.EndUser, r.Route, r.Model, r.ModelGroup, r.DeploymentID, r.Provider, r.Status, r.ErrorType,
			r.PromptTokens, r.CompletionTokens, r.CachedTokens, r.Cost, r.Latency.Microseconds(),
			r.TTFT.Microseconds(), r.Stream, r.Retries, r.Fallbacks, tags, meta)
	}
	br := tx.SendBatch(ctx, b)
	var rs usage.Rollups
	for i := range recs {
		var ok bool
		err := br.QueryRow().Scan(&ok)
		if errors.Is(err, pgx.ErrNoRows) {
			continue // stored already
		}
		if err != nil {
			_ = br.Close()
			return fmt.Errorf("usage store: inserting records: %w", err)
		}
		rs.Add(&recs[i])
	}
	if err := br.Close(); err != nil {
		return fmt.Errorf("usage store: inserting records: %w", err)
	}

	sums := map[rollKey]*usage.Agg{}
	hours, days := rs.Rows()
	for _, g := range []struct {
		gran string
		m    map[usage.BucketKey]*usage.Agg
	}{{"h", hours}, {"d", days}} {
		for k, a := range g.m {
			sums[rollKey{g.gran, time.Unix(k.Bucket, 0).UTC(), k.RollupKey}] = a
		}
	}
	order := make([]rollKey, 0, len(sums))
	for k := range sums {
		order = append(order, k)
	}
	slices.SortFunc(order, func(a, b rollKey) int {
		return cmp.Or(cmp.Compare(a.gran, b.gran), cmp.Compare(a.Dimension, b.Dimension), cmp.Compare(a.Value, b.Value),
			cmp.Compare(a.TeamID, b.TeamID), cmp.Compare(a.Detail, b.Detail), a.bucket.Compare(b.bucket))
	})
	rb := &pgx.Batch{}
	for _, k := range order {
		a := sums[k]
		rb.Queue(upsertRollup, k.gran, k.bucket, string(k.Dimension), k.Value, k.TeamID, k.Detail, a.Requests,
			a.Successful, a.Failed, a.PromptTokens, a.CompletionTokens, a.CachedTokens, a.Spend, a.Hist[:])
	}
	if len(order) > 0 {
		if err := tx.SendBatch(ctx, rb).Close(); err != nil {
			return fmt.Errorf("usage store: updating rollups: %w", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("usage store: %w", err)
	}
	return nil
}

// Prune deletes records that ended before `before` and rollups whose
// bucket ended before it, in one transaction; it returns the records
// deleted.
func (s *Store) Prune(ctx context.Context, before time.Time) (int64, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("usage store: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	tag, err := tx.Exec(ctx, `DELETE FROM usage_records WHERE end_at < $1`, micro(before))
	if err != nil {
		return 0, fmt.Errorf("usage store: pruning records: %w", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM usage_rollups WHERE
		(granularity = 'h' AND bucket + interval '1 hour' <= $1) OR
		(granularity = 'd' AND bucket + interval '1 day' <= $1)`, micro(before)); err != nil {
		return 0, fmt.Errorf("usage store: pruning rollups: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("usage store: %w", err)
	}
	return tag.RowsAffected(), nil
}
