// Package pgspend is the spend.Backend on PostgreSQL
// (general_settings.database_url): the same Load/Add/Forget/Close as the
// bbolt store, but writing additive deltas so several replicas can share
// one database.
//
// Add merges each delta into memory under a mutex and never waits for
// the database (not even while PostgreSQL is down: the deltas wait in
// memory, one entry per team, key and period). Rows are (team, key,
// period) where the period is named by its reset time. A flush, at most
// every FlushInterval, adds each pending delta to its period's row
// (spend = spend + delta) in one transaction, under per-(team, key)
// advisory locks taken in a fixed order (replicas never deadlock), and
// records its random id in spend_flushes in the same transaction.
//
// Crash safety: a kill -9 before COMMIT rolls the whole flush back (the
// deltas not yet committed, at most about FlushInterval of spend, are
// lost, as with the bbolt store); deltas leave memory only when their
// COMMIT succeeded; a flush retried after a COMMIT whose answer was lost
// finds its id and is not applied twice.
//
// When the period of a team or key changes without a reset (its
// budget_duration was added or removed), the new period's row starts from
// the current one's spend, as the bbolt store carries its single record;
// a reset (Delta.NewPeriod) starts the new row at zero; a reset older
// than the current period is dropped.
//
// Open carries an existing spend.db over once (see carryOver).
package pgspend

import (
	"cmp"
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/llmgateway/gateway/internal/pgdb"
	"github.com/llmgateway/gateway/internal/pgmigrate"
	"github.com/llmgateway/gateway/spend"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Component is this store's name in the gateway_migrations table.
const Component = "spend"

// CarryOverMarker names the marker row written when spend.db was carried
// over.
const CarryOverMarker = "carried over spend.db"

// opTimeout bounds one flush, load or forget.
const opTimeout = 10 * time.Second

// Options configure a Store.
type Options struct {
	Log *slog.Logger
	// StateDir is the --state-dir whose spend.db is carried over once
	// ("" = none).
	StateDir string
	// FlushInterval defaults to spend.FlushInterval.
	FlushInterval time.Duration
}

type pid struct {
	team, key string
	reset     int64
}

// batch is one flush: its id makes it idempotent (a COMMIT whose answer
// was lost is not applied twice when it is retried).
type batch struct {
	id      string
	pending map[pid]*pend
	forgets map[string]bool
}

type pend struct {
	spend       float64
	periodStart int64
	newPeriod   bool
	order       int
}

// Store is the PostgreSQL spend backend. Safe for concurrent use.
type Store struct {
	pool     *pgxpool.Pool
	ownPool  bool
	log      *slog.Logger
	interval time.Duration

	mu      sync.Mutex
	pending map[pid]*pend
	forgets map[string]bool // teams whose rows the next flush deletes first
	order   int
	closed  bool

	flushMu   sync.Mutex // one flush at a time; guards retry and lastPrune
	retry     *batch     // a flush that failed, written again first
	lastPrune time.Time
	stop      chan struct{}
	stopped   chan struct{}
}

var _ spend.Backend = (*Store)(nil)

// Open connects to databaseURL (errors never contain it), applies the
// migrations, carries spend.db over once and starts the writer.
func Open(ctx context.Context, databaseURL string, opts Options) (*Store, error) {
	pool, err := pgdb.Connect(ctx, databaseURL)
	if err != nil {
		return nil, err
	}
	s, err := New(ctx, pool, opts)
	if err != nil {
		pool.Close()
		return nil, err
	}
	s.ownPool = true
	return s, nil
}

// New is Open on an existing pool; Close does not close the pool.
func New(ctx context.Context, pool *pgxpool.Pool, opts Options) (*Store, error) {
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	ms, err := pgmigrate.Load(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	n, err := pgmigrate.Apply(ctx, pool, Component, ms)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		log.Info("spend store: PostgreSQL schema migrated", "applied", n, "version", ms[len(ms)-1].Version)
	}
	if opts.StateDir != "" {
		if err := carryOver(ctx, pool, opts.StateDir, log); err != nil {
			return nil, err
		}
	}
	s := &Store{
		pool:     pool,
		log:      log,
		interval: cmp.Or(opts.FlushInterval, spend.FlushInterval),
		pending:  map[pid]*pend{},
		forgets:  map[string]bool{},
		stop:     make(chan struct{}),
		stopped:  make(chan struct{}),
	}
	go s.run()
	return s, nil
}

// Add merges a delta into memory under a mutex: it never waits for the
// database, even when PostgreSQL is down (the deltas then wait in memory,
// one entry per team, key and period, for the next flush that works).
func (s *Store) Add(d spend.Delta) {
	if d.Forget {
		s.Forget(d.TeamID)
		return
	}
	if !spend.Finite(d.Spend) || d.Spend < 0 {
		s.log.Error("a spend delta that is not a finite, non-negative number is counted as 0", "team", d.TeamID, "spend", fmt.Sprint(d.Spend))
		d.Spend = 0
	}
	k := pid{clean(d.TeamID), clean(d.KeyToken), nanos(d.ResetAt)}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		s.log.Warn("spend delta after the store closed is lost", "team", d.TeamID, "spend", d.Spend)
		return
	}
	p := s.pending[k]
	if p == nil {
		s.order++
		p = &pend{order: s.order}
		s.pending[k] = p
	}
	p.spend = spend.Add(p.spend, d.Spend)
	p.newPeriod = p.newPeriod || d.NewPeriod
	if !d.PeriodStart.IsZero() {
		p.periodStart = d.PeriodStart.UnixNano()
	}
}

// Forget drops every record of a team: its pending deltas now, its rows
// with the next flush (before the deltas that come after this call).
func (s *Store) Forget(teamID string) {
	teamID = clean(teamID)
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.pending {
		if k.team == teamID {
			delete(s.pending, k)
		}
	}
	s.forgets[teamID] = true
}

// Load writes the pending deltas, then reads the team's current records.
// When PostgreSQL cannot be reached it retries for a few seconds, then
// logs and returns what this process holds in memory for the team.
func (s *Store) Load(teamID string) spend.Team {
	var lastErr error
	for attempt := range 3 {
		if attempt > 0 {
			time.Sleep(time.Duration(attempt) * 300 * time.Millisecond)
		}
		if err := s.flush(); err != nil {
			lastErr = err
			continue
		}
		t, err := s.read(teamID)
		if err == nil {
			return t
		}
		lastErr = err
	}
	s.log.Error("reading a team's spend from PostgreSQL failed; it starts from what this process holds, and its budget may be exceeded until PostgreSQL is back", "team", teamID, "err", lastErr)
	out := spend.Team{Keys: map[string]*spend.Record{}}
	team := clean(teamID)
	add := func(k pid, p *pend) {
		if k.team != team {
			return
		}
		out.Found = true
		r := out.Team
		if k.key != "" {
			r = out.Keys[k.key]
		}
		if r == nil || (p.order > 0 && nanos(r.ResetAt) != k.reset) {
			r = &spend.Record{}
		}
		r.Spend = spend.Add(r.Spend, p.spend)
		r.ResetAt = fromNanos(k.reset)
		if p.periodStart != 0 {
			r.PeriodStart = fromNanos(p.periodStart)
		}
		if k.key == "" {
			out.Team = r
		} else {
			out.Keys[k.key] = r
		}
	}
	s.flushMu.Lock()
	if s.retry != nil && !s.retry.forgets[team] {
		for _, k := range sortedIDs(s.retry.pending) {
			add(k, s.retry.pending[k])
		}
	}
	s.flushMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.forgets[team] {
		out = spend.Team{Keys: map[string]*spend.Record{}}
	}
	for _, k := range sortedIDs(s.pending) {
		add(k, s.pending[k])
	}
	return out
}

// sortedIDs is the ids of m in arrival order.
func sortedIDs(m map[pid]*pend) []pid {
	ids := make([]pid, 0, len(m))
	for k := range m {
		ids = append(ids, k)
	}
	slices.SortFunc(ids, func(a, b pid) int { return cmp.Compare(m[a].order, m[b].order) })
	return ids
}

// Close writes what is pending (three attempts) and stops the writer.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.mu.Unlock()
	close(s.stop)
	<-s.stopped
	var err error
	for attempt := range 3 {
		if attempt > 0 {
			time.Sleep(200 * time.Millisecond)
		}
		if err = s.flush(); err == nil {
			break
		}
	}
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	if s.ownPool {
		s.pool.Close()
	}
	if err != nil {
		return fmt.Errorf("spend not written to PostgreSQL on shutdown: %w", err)
	}
	return nil
}

func (s *Store) run() {
	defer close(s.stopped)
	tick := time.NewTicker(s.interval)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			_ = s.flush()
		case <-s.stop:
			return
		}
	}
}

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

// clean makes an id storable as PostgreSQL text (valid UTF-8, no NUL).
func clean(v string) string {
	if !utf8.ValidString(v) {
		v = strings.ToValidUTF8(v, "\uFFFD")
	}
	return strings.ReplaceAll(v, "\x00", "")
}

// lockID is the advisory lock of one team's or key's rows.
func lockID(team, key string) int64 {
	h := fnv.New64a()
	h.Write([]byte("spend\x00" + team + "\x00" + key))
	return int64(h.Sum64())
}

// flush writes, first, a batch whose earlier write failed, then the
// pending deltas and forgotten teams, each batch in one transaction with
// its id in spend_flushes: a batch whose COMMIT went through although
// its answer was lost is recognised and not applied twice. A failed batch
// is kept as it is (later deltas go to the next one), so the order of
// removals and deltas stays.
func (s *Store) flush() error {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	if s.retry != nil {
		if err := s.writeBatch(s.retry); err != nil {
			return err
		}
		s.retry = nil
	}
	s.mu.Lock()
	if len(s.pending) == 0 && len(s.forgets) == 0 {
		s.mu.Unlock()
		return nil
	}
	b := &batch{id: newID(), pending: s.pending, forgets: s.forgets}
	s.pending, s.forgets = map[pid]*pend{}, map[string]bool{}
	s.mu.Unlock()
	if err := s.writeBatch(b); err != nil {
		s.retry = b
		return err
	}
	return nil
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (s *Store) writeBatch(b *batch) error {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	prune := time.Since(s.lastPrune) > time.Hour
	err := s.write(ctx, b, prune)
	if err != nil {
		s.log.Error("writing spend to PostgreSQL failed; it is kept in memory and retried with the next flush", "err", err)
		return err
	}
	if prune {
		s.lastPrune = time.Now()
	}
	for team := range b.forgets {
		s.log.Info("spend of a removed team dropped", "team", team)
	}
	return nil
}

func (s *Store) write(ctx context.Context, b *batch, prune bool) error {
	pending, forgets := b.pending, b.forgets
	ids := make([]pid, 0, len(pending))
	for k := range pending {
		ids = append(ids, k)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	var fresh bool
	err = tx.QueryRow(ctx, `INSERT INTO spend_flushes (id) VALUES ($1) ON CONFLICT DO NOTHING RETURNING true`, b.id).Scan(&fresh)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // this batch was committed already (its COMMIT's answer was lost)
	}
	if err != nil {
		return err
	}
	if prune {
		if _, err := tx.Exec(ctx, `DELETE FROM spend_flushes WHERE at < now() - interval '7 days'`); err != nil {
			return err
		}
	}
	// The locks, in one fixed order.
	type tk struct{ team, key string }
	var locks []int64
	perID := map[tk]int{}
	for _, k := range ids {
		perID[tk{k.team, k.key}]++
	}
	for k := range perID {
		locks = append(locks, lockID(k.team, k.key))
	}
	slices.Sort(locks)
	locks = slices.Compact(locks)
	lb := &pgx.Batch{}
	for _, l := range locks {
		lb.Queue(`SELECT pg_advisory_xact_lock($1)`, l)
	}
	if err := tx.SendBatch(ctx, lb).Close(); err != nil {
		return err
	}
	// Removed teams first: their pending deltas all came after the removal.
	gone := make([]string, 0, len(forgets))
	for team := range forgets {
		gone = append(gone, team)
	}
	if len(gone) > 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM spend_periods WHERE team_id = ANY($1)`, gone); err != nil {
			return err
		}
	}
	// The common case, pipelined: one period of a team or key, already
	// its current one.
	var fast, slow []pid
	for _, k := range ids {
		if perID[tk{k.team, k.key}] == 1 {
			fast = append(fast, k)
		} else {
			slow = append(slow, k)
		}
	}
	fb := &pgx.Batch{}
	for _, k := range fast {
		p := pending[k]
		fb.Queue(`UPDATE spend_periods SET spend = spend + $4,
			period_start_ns = CASE WHEN $5::bigint = 0 THEN period_start_ns ELSE $5 END, updated_at = now()
			WHERE team_id = $1 AND key_token = $2 AND reset_ns = $3
			AND opened = (SELECT max(opened) FROM spend_periods WHERE team_id = $1 AND key_token = $2)
			RETURNING true`, k.team, k.key, k.reset, p.spend, p.periodStart)
	}
	if len(fast) > 0 {
		br := tx.SendBatch(ctx, fb)
		for _, k := range fast {
			var ok bool
			err := br.QueryRow().Scan(&ok)
			if errors.Is(err, pgx.ErrNoRows) {
				slow = append(slow, k)
				continue
			}
			if err != nil {
				_ = br.Close()
				return err
			}
		}
		if err := br.Close(); err != nil {
			return err
		}
	}
	slices.SortFunc(slow, func(a, b pid) int { return cmp.Compare(pending[a].order, pending[b].order) })
	for _, k := range slow {
		if err := s.apply(ctx, tx, k, pending[k]); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

// apply writes one delta that is not a plain addition to the current
// period: a new period (reset or budget_duration changed), or a late one.
func (s *Store) apply(ctx context.Context, tx pgx.Tx, k pid, p *pend) error {
	var curReset, curOpened int64
	var curSpend float64
	hasCur := true
	err := tx.QueryRow(ctx, `SELECT reset_ns, spend, opened FROM spend_periods WHERE team_id = $1 AND key_token = $2
		ORDER BY opened DESC LIMIT 1`, k.team, k.key).Scan(&curReset, &curSpend, &curOpened)
	if errors.Is(err, pgx.ErrNoRows) {
		hasCur = false
	} else if err != nil {
		return err
	}
	isCur := hasCur && curReset == k.reset
	stale := hasCur && !isCur && curReset != 0 && k.reset != 0 && k.reset < curReset
	if stale && p.newPeriod {
		s.log.Info("a budget reset older than the stored period is dropped", "team", k.team)
		return nil
	}
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM spend_periods WHERE team_id = $1 AND key_token = $2 AND reset_ns = $3)`,
		k.team, k.key, k.reset).Scan(&exists); err != nil {
		return err
	}
	becomeCurrent := !isCur && !stale
	if exists {
		if becomeCurrent && !p.newPeriod {
			// The period changed back without a reset (budget_duration
			// removed, then added again): carry the current spend.
			_, err := tx.Exec(ctx, `UPDATE spend_periods SET spend = $4,
				period_start_ns = CASE WHEN $5::bigint = 0 THEN period_start_ns ELSE $5 END,
				opened = nextval('spend_period_seq'), updated_at = now()
				WHERE team_id = $1 AND key_token = $2 AND reset_ns = $3`, k.team, k.key, k.reset, spend.Add(curSpend, p.spend), p.periodStart)
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE spend_periods SET spend = spend + $4,
			period_start_ns = CASE WHEN $5::bigint = 0 THEN period_start_ns ELSE $5 END,
			opened = CASE WHEN $6 THEN nextval('spend_period_seq') ELSE opened END, updated_at = now()
			WHERE team_id = $1 AND key_token = $2 AND reset_ns = $3`, k.team, k.key, k.reset, p.spend, p.periodStart, becomeCurrent)
		return err
	}
	seed := 0.0
	if hasCur && !stale && !p.newPeriod {
		seed = curSpend // the period changed without a reset: carry the spend, as bbolt does
	}
	_, err = tx.Exec(ctx, `INSERT INTO spend_periods (team_id, key_token, reset_ns, period_start_ns, spend, opened)
		VALUES ($1, $2, $3, $4, $5, CASE WHEN $6 THEN nextval('spend_period_seq') ELSE 0 END)`,
		k.team, k.key, k.reset, p.periodStart, spend.Add(seed, p.spend), becomeCurrent)
	return err
}

func (s *Store) read(teamID string) (spend.Team, error) {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT ON (key_token) key_token, spend, period_start_ns, reset_ns
		FROM spend_periods WHERE team_id = $1 ORDER BY key_token, opened DESC`, clean(teamID))
	if err != nil {
		return spend.Team{}, err
	}
	defer rows.Close()
	out := spend.Team{Keys: map[string]*spend.Record{}}
	for rows.Next() {
		var key string
		var sp float64
		var ps, reset int64
		if err := rows.Scan(&key, &sp, &ps, &reset); err != nil {
			return spend.Team{}, err
		}
		r := &spend.Record{Spend: spend.Add(sp, 0), PeriodStart: fromNanos(ps), ResetAt: fromNanos(reset)}
		out.Found = true
		if key == "" {
			out.Team = r
		} else {
			out.Keys[key] = r
		}
	}
	return out, rows.Err()
}

// carryOver copies the spend.db of stateDir into PostgreSQL once: under an
// advisory lock, in one transaction with a marker row, so replicas
// starting together, or a restart, never carry it twice. Each record
// becomes its team's or key's current period (added to a row already
// there for the same period).
func carryOver(ctx context.Context, pool *pgxpool.Pool, stateDir string, log *slog.Logger) error {
	teams, found, err := spend.ReadAll(stateDir, log)
	if err != nil {
		return fmt.Errorf("carrying spend.db over to PostgreSQL: %w", err)
	}
	if !found {
		return nil
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("carrying spend.db over to PostgreSQL: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockID("carry-over", "")); err != nil {
		return fmt.Errorf("carrying spend.db over to PostgreSQL: %w", err)
	}
	var doneAt time.Time
	err = tx.QueryRow(ctx, `SELECT done_at FROM spend_markers WHERE name = $1`, CarryOverMarker).Scan(&doneAt)
	if err == nil {
		log.Info("spend.db was carried over to PostgreSQL already; the spend in PostgreSQL is used, spend.db is not read again", "carried_at", doneAt.UTC().Format(time.RFC3339))
		return nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("carrying spend.db over to PostgreSQL: %w", err)
	}
	ids := make([]string, 0, len(teams))
	for id := range teams {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	b := &pgx.Batch{}
	records := 0
	queue := func(team, key string, r *spend.Record) {
		records++
		b.Queue(`INSERT INTO spend_periods (team_id, key_token, reset_ns, period_start_ns, spend, opened)
			VALUES ($1, $2, $3, $4, $5, nextval('spend_period_seq'))
			ON CONFLICT (team_id, key_token, reset_ns) DO UPDATE SET spend = spend_periods.spend + excluded.spend`,
			clean(team), clean(key), nanos(r.ResetAt), nanos(r.PeriodStart), spend.Add(r.Spend, 0))
	}
	for _, id := range ids {
		t := teams[id]
		if t.Team != nil {
			queue(id, "", t.Team)
		}
		keys := make([]string, 0, len(t.Keys))
		for k := range t.Keys {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			queue(id, k, t.Keys[k])
		}
	}
	detail := fmt.Sprintf("%d teams, %d records", len(teams), records)
	b.Queue(`INSERT INTO spend_markers (name, detail) VALUES ($1, $2)`, CarryOverMarker, detail)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("carrying spend.db over to PostgreSQL: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("carrying spend.db over to PostgreSQL: %w", err)
	}
	log.Warn("carried the spend and budget periods of spend.db over to PostgreSQL, once; from now on spend is kept in PostgreSQL and spend.db is no longer written",
		"teams", len(teams), "records", records)
	return nil
}
