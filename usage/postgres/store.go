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
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

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
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, errors.New("general_settings.database_url is not a valid PostgreSQL URL (postgres://user:password@host:5432/db?sslmode=...)")
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to PostgreSQL: %w", err)
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

// dimValue is a rollup value: clean, without the separator of compound
// values.
func dimValue(v string) string { return strings.ReplaceAll(clean(v), sep, "") }

const sep = "\x1f"

// recordUser is the user of the user dimension: the key's user_id, else
// the request's user.
func recordUser(r *usage.Record) string {
	if r.KeyUserID != "" {
		return r.KeyUserID
	}
	return r.User
}

const insertRecord = `INSERT INTO usage_records (start_ns, request_id, end_ns, team_id, key_id, key_alias,
	key_user_id, user_id, end_user, route, model, model_group, deployment_id, provider, status, error_type,
	prompt_tokens, completion_tokens, cached_tokens, cost, latency_ns, ttft_ns, stream, retries, fallbacks,
	tags, metadata)
VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24,$25,$26,$27)
ON CONFLICT (start_ns, request_id) DO NOTHING RETURNING true`

const upsertRollup = `INSERT INTO usage_rollups (granularity, bucket, dimension, value, team_id, requests,
	successful, failed, prompt_tokens, completion_tokens, cached_tokens, spend, latency_hist)
VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)
ON CONFLICT (granularity, dimension, value, bucket, team_id) DO UPDATE SET
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
	dim    string
	value  string
	team   string
}

type rollSum struct {
	requests, successful, failed int64
	prompt, completion, cached   int64
	spend                        float64
	hist                         []int64
}

func finiteCost(c float64) float64 {
	if c != c || c < 0 || c > 1e300 {
		return 0
	}
	return c
}

// Write stores a batch and its rollups in one transaction.
func (s *Store) Write(ctx context.Context, batch []usage.Record) error {
	if len(batch) == 0 {
		return nil
	}
	recs := make([]*usage.Record, len(batch))
	for i := range batch {
		recs[i] = &batch[i]
	}
	// A fixed order: concurrent writers lock rows in the same order.
	slices.SortFunc(recs, func(a, b *usage.Record) int {
		return cmp.Or(a.Start.Compare(b.Start), cmp.Compare(a.RequestID, b.RequestID))
	})
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("usage store: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()

	b := &pgx.Batch{}
	for _, r := range recs {
		tags := make([]string, 0, len(r.Tags))
		for _, t := range r.Tags {
			tags = append(tags, clean(t))
		}
		var meta *string
		if len(r.Metadata) > 0 && json.Valid(r.Metadata) {
			m := string(r.Metadata)
			meta = &m
		}
		b.Queue(insertRecord, r.Start.UnixNano(), clean(r.RequestID), r.End.UnixNano(), clean(r.TeamID),
			clean(r.KeyID), clean(r.KeyAlias), clean(r.KeyUserID), clean(r.User), clean(r.EndUser),
			clean(r.Route), clean(r.Model), clean(r.ModelGroup), clean(r.DeploymentID), clean(r.Provider),
			r.Status, clean(r.ErrorType), r.PromptTokens, r.CompletionTokens, r.CachedTokens,
			finiteCost(r.Cost), int64(r.Latency), int64(r.TTFT), r.Stream, r.Retries, r.Fallbacks, tags, meta)
	}
	br := tx.SendBatch(ctx, b)
	var fresh []*usage.Record
	for _, r := range recs {
		var ok bool
		err := br.QueryRow().Scan(&ok)
		if errors.Is(err, pgx.ErrNoRows) {
			continue // stored already
		}
		if err != nil {
			_ = br.Close()
			return fmt.Errorf("usage store: inserting records: %w", err)
		}
		fresh = append(fresh, r)
	}
	if err := br.Close(); err != nil {
		return fmt.Errorf("usage store: inserting records: %w", err)
	}

	sums := map[rollKey]*rollSum{}
	for _, r := range fresh {
		addRollups(sums, r)
	}
	keys := make([]rollKey, 0, len(sums))
	for k := range sums {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b rollKey) int {
		return cmp.Or(cmp.Compare(a.gran, b.gran), cmp.Compare(a.dim, b.dim), cmp.Compare(a.value, b.value),
			a.bucket.Compare(b.bucket), cmp.Compare(a.team, b.team))
	})
	rb := &pgx.Batch{}
	for _, k := range keys {
		v := sums[k]
		rb.Queue(upsertRollup, k.gran, k.bucket, k.dim, k.value, k.team, v.requests, v.successful, v.failed,
			v.prompt, v.completion, v.cached, v.spend, v.hist)
	}
	if len(keys) > 0 {
		if err := tx.SendBatch(ctx, rb).Close(); err != nil {
			return fmt.Errorf("usage store: updating rollups: %w", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("usage store: %w", err)
	}
	return nil
}

func addRollups(sums map[rollKey]*rollSum, r *usage.Record) {
	team := dimValue(r.TeamID)
	key, model, user := dimValue(r.KeyID), dimValue(r.Model), dimValue(recordUser(r))
	type dv struct{ dim, value string }
	dims := []dv{{string(usage.ByTeam), team}, {string(usage.ByKey), key}, {string(usage.ByModel), model},
		{string(usage.ByUser), user}}
	seen := map[string]bool{}
	for _, t := range r.Tags {
		t = dimValue(t)
		if !seen[t] {
			seen[t] = true
			dims = append(dims, dv{string(usage.ByTag), t})
		}
	}
	// Compound dimensions for the activity breakdowns.
	if key != "" && model != "" {
		dims = append(dims, dv{dimKeyModel, key + sep + model})
	}
	if user != "" {
		if model != "" {
			dims = append(dims, dv{dimUserModel, user + sep + model})
		}
		if key != "" {
			dims = append(dims, dv{dimUserKey, user + sep + key})
			if model != "" {
				dims = append(dims, dv{dimUserKeyModel, user + sep + key + sep + model})
			}
		}
	}
	start := r.Start.UTC()
	lat := histIndex(float64(r.Latency) / float64(time.Millisecond))
	for _, g := range []struct {
		gran   string
		bucket time.Time
	}{{"h", start.Truncate(time.Hour)}, {"d", day(start)}} {
		for _, d := range dims {
			if d.value == "" {
				continue
			}
			k := rollKey{gran: g.gran, bucket: g.bucket, dim: d.dim, value: d.value, team: team}
			v := sums[k]
			if v == nil {
				v = &rollSum{hist: make([]int64, histBuckets)}
				sums[k] = v
			}
			v.requests++
			if r.Success() {
				v.successful++
			} else {
				v.failed++
			}
			v.prompt += r.PromptTokens
			v.completion += r.CompletionTokens
			v.cached += r.CachedTokens
			v.spend += finiteCost(r.Cost)
			v.hist[lat]++
		}
	}
}

const (
	dimKeyModel     = "key_model"
	dimUserModel    = "user_model"
	dimUserKey      = "user_key"
	dimUserKeyModel = "user_key_model"
)

func day(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
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
	tag, err := tx.Exec(ctx, `DELETE FROM usage_records WHERE end_ns < $1`, before.UnixNano())
	if err != nil {
		return 0, fmt.Errorf("usage store: pruning records: %w", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM usage_rollups WHERE
		(granularity = 'h' AND bucket + interval '1 hour' <= $1) OR
		(granularity = 'd' AND bucket + interval '1 day' <= $1)`, before); err != nil {
		return 0, fmt.Errorf("usage store: pruning rollups: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("usage store: %w", err)
	}
	return tag.RowsAffected(), nil
}
