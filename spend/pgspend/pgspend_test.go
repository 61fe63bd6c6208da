package pgspend

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/llmgateway/gateway/internal/pgtest"
	"github.com/llmgateway/gateway/spend"
)

var (
	p0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r1 = time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	r2 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
)

func openAt(t *testing.T, u string, opts Options) *Store {
	t.Helper()
	if opts.FlushInterval == 0 {
		opts.FlushInterval = 20 * time.Millisecond
	}
	s, err := Open(context.Background(), u, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func pool(t *testing.T, u string) *pgxpool.Pool {
	t.Helper()
	p, err := pgxpool.New(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

func TestTwoWritersAddUp(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.Schema(t)
	a, b := openAt(t, u, Options{}), openAt(t, u, Options{})
	var wg sync.WaitGroup
	for _, s := range []*Store{a, b} {
		wg.Go(func() {
			for range 500 {
				s.Add(spend.Delta{TeamID: "t", Spend: 0.25, PeriodStart: p0, ResetAt: r1})
				s.Add(spend.Delta{TeamID: "t", KeyToken: "k", Spend: 0.5, PeriodStart: p0, ResetAt: r1})
			}
		})
	}
	wg.Wait()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	c := openAt(t, u, Options{})
	got := c.Load("t")
	if !got.Found || got.Team.Spend != 250 || got.Keys["k"].Spend != 500 || !got.Team.ResetAt.Equal(r1) || !got.Team.PeriodStart.Equal(p0) {
		t.Fatalf("got %+v %+v", got.Team, got.Keys["k"])
	}
}

func TestPeriods(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.Schema(t)
	s := openAt(t, u, Options{})
	s.Add(spend.Delta{TeamID: "t", Spend: 3, PeriodStart: p0, ResetAt: r1})
	if got := s.Load("t"); got.Team.Spend != 3 {
		t.Fatalf("first period: %+v", got.Team)
	}
	// A reset: the new period starts at the delta.
	s.Add(spend.Delta{TeamID: "t", Spend: 1, PeriodStart: p0, ResetAt: r2, NewPeriod: true})
	// A late delta of the old period never lands in the new one.
	s.Add(spend.Delta{TeamID: "t", Spend: 7, PeriodStart: p0, ResetAt: r1})
	if got := s.Load("t"); got.Team.Spend != 1 || !got.Team.ResetAt.Equal(r2) {
		t.Fatalf("after reset: %+v", got.Team)
	}
	// A stale reset (older period) is dropped.
	s.Add(spend.Delta{TeamID: "t", Spend: 0, PeriodStart: p0, ResetAt: r1, NewPeriod: true})
	s.Add(spend.Delta{TeamID: "t", Spend: 2, PeriodStart: p0, ResetAt: r2})
	if got := s.Load("t"); got.Team.Spend != 3 || !got.Team.ResetAt.Equal(r2) {
		t.Fatalf("after stale reset: %+v", got.Team)
	}
	// budget_duration removed: the period changes without a reset and the
	// spend carries, as with the bbolt store.
	s.Add(spend.Delta{TeamID: "t", Spend: 0.5, PeriodStart: p0})
	if got := s.Load("t"); got.Team.Spend != 3.5 || !got.Team.ResetAt.IsZero() {
		t.Fatalf("after duration removed: %+v", got.Team)
	}
	// ... and added back.
	s.Add(spend.Delta{TeamID: "t", Spend: 0.5, PeriodStart: p0, ResetAt: r2})
	if got := s.Load("t"); got.Team.Spend != 4 || !got.Team.ResetAt.Equal(r2) {
		t.Fatalf("after duration added: %+v", got.Team)
	}
	// Forget drops everything; an impossible delta counts 0.
	s.Forget("t")
	if got := s.Load("t"); got.Found {
		t.Fatalf("after forget: %+v", got)
	}
	s.Add(spend.Delta{TeamID: "t", Spend: -1, PeriodStart: p0, ResetAt: r1})
	if got := s.Load("t"); got.Team == nil || got.Team.Spend != 0 {
		t.Fatalf("negative delta: %+v", got.Team)
	}
}

// A flush is one transaction: when it fails part way, nothing of it is
// stored and everything is retried, exactly once, by the next flush (the
// same holds for a kill -9 before COMMIT, where PostgreSQL rolls back).
func TestFailedFlushIsAtomicAndRetried(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.Schema(t)
	s := openAt(t, u, Options{FlushInterval: time.Hour})
	db := pool(t, u)
	ctx := context.Background()
	if _, err := db.Exec(ctx, `CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN IF NEW.team_id = 'bad' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$;
		CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON spend_periods FOR EACH ROW EXECUTE FUNCTION refuse();`); err != nil {
		t.Fatal(err)
	}
	s.Add(spend.Delta{TeamID: "good", Spend: 1, PeriodStart: p0, ResetAt: r1})
	s.Add(spend.Delta{TeamID: "bad", Spend: 2, PeriodStart: p0, ResetAt: r1})
	// Load flushes; the flush fails (after its retries) and nothing lands.
	if got := s.Load("good"); got.Team == nil || got.Team.Spend != 1 {
		t.Fatalf("pending not served: %+v", got.Team)
	}
	var n int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM spend_periods`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("a failed flush left %d rows (%v)", n, err)
	}
	if _, err := db.Exec(ctx, `DROP TRIGGER refuse ON spend_periods`); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	c := openAt(t, u, Options{})
	if g, b := c.Load("good"), c.Load("bad"); g.Team.Spend != 1 || b.Team.Spend != 2 {
		t.Fatalf("after retry: good %+v bad %+v", g.Team, b.Team)
	}
}

func TestCarryOverOnce(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.Schema(t)
	dir := t.TempDir()
	bs, err := spend.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	bs.Add(spend.Delta{TeamID: "t", Spend: 4.5, PeriodStart: p0, ResetAt: r1})
	bs.Add(spend.Delta{TeamID: "t", KeyToken: "k", Spend: 1.5, PeriodStart: p0, ResetAt: r2})
	bs.Add(spend.Delta{TeamID: "u", Spend: 9, PeriodStart: p0})
	if err := bs.Close(); err != nil {
		t.Fatal(err)
	}
	// Three replicas start at once, then one restarts: carried once.
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for range 3 {
		wg.Go(func() {
			s, err := Open(context.Background(), u, Options{StateDir: dir})
			if err == nil {
				err = s.Close()
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	s := openAt(t, u, Options{StateDir: dir})
	got := s.Load("t")
	if got.Team.Spend != 4.5 || !got.Team.ResetAt.Equal(r1) || !got.Team.PeriodStart.Equal(p0) ||
		got.Keys["k"].Spend != 1.5 || !got.Keys["k"].ResetAt.Equal(r2) {
		t.Fatalf("carried: %+v %+v", got.Team, got.Keys["k"])
	}
	if u := s.Load("u"); u.Team.Spend != 9 || !u.Team.ResetAt.IsZero() {
		t.Fatalf("carried u: %+v", u.Team)
	}
	var detail string
	if err := pool(t, u).QueryRow(context.Background(), `SELECT detail FROM spend_markers WHERE name = $1`, CarryOverMarker).Scan(&detail); err != nil || detail != "2 teams, 3 records" {
		t.Fatalf("marker %q %v", detail, err)
	}
}

func TestOpenBadURLHidesIt(t *testing.T) {
	t.Parallel()
	_, err := Open(context.Background(), "postgres://u:s3cret@[::1", Options{})
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("err = %v", err)
	}
}

// Two replicas reset the same budget at once and go on adding: the new
// period holds both replicas' spend since the reset, once.
func TestConcurrentResets(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.Schema(t)
	a, b := openAt(t, u, Options{}), openAt(t, u, Options{})
	a.Add(spend.Delta{TeamID: "t", Spend: 10, PeriodStart: p0, ResetAt: r1})
	if got := a.Load("t"); got.Team.Spend != 10 {
		t.Fatalf("before: %+v", got.Team)
	}
	var wg sync.WaitGroup
	for _, s := range []*Store{a, b} {
		wg.Go(func() {
			s.Add(spend.Delta{TeamID: "t", Spend: 1, PeriodStart: p0, ResetAt: r2, NewPeriod: true})
			for range 100 {
				s.Add(spend.Delta{TeamID: "t", Spend: 0.5, PeriodStart: p0, ResetAt: r2})
			}
			s.Load("t") // flush
		})
	}
	wg.Wait()
	for _, s := range []*Store{a, b} {
		if got := s.Load("t"); got.Team.Spend != 102 || !got.Team.ResetAt.Equal(r2) {
			t.Fatalf("after: %+v", got.Team)
		}
	}
}

// While PostgreSQL hangs, Add still returns at once (the request path
// never waits for the database), and a team removed meanwhile loses its
// older deltas but keeps the newer ones.
func TestAddDoesNotWaitForTheDatabase(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.Schema(t)
	s := openAt(t, u, Options{FlushInterval: 10 * time.Millisecond})
	db := pool(t, u)
	ctx := context.Background()
	if _, err := db.Exec(ctx, `CREATE FUNCTION hang() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN PERFORM pg_sleep(3); RETURN NEW; END $$;
		CREATE TRIGGER hang BEFORE INSERT OR UPDATE ON spend_periods FOR EACH ROW EXECUTE FUNCTION hang();`); err != nil {
		t.Fatal(err)
	}
	s.Add(spend.Delta{TeamID: "gone", Spend: 5, PeriodStart: p0, ResetAt: r1})
	time.Sleep(50 * time.Millisecond) // a flush is now stuck in the trigger
	for range 100000 {
		s.Add(spend.Delta{TeamID: "t", Spend: 0.5, PeriodStart: p0, ResetAt: r1})
	}
	s.Forget("gone")
	s.Add(spend.Delta{TeamID: "gone", Spend: 1, PeriodStart: p0, ResetAt: r1})
	var n int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM spend_periods`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("the stuck flush is not stuck: %d rows (%v)", n, err)
	}
	if _, err := db.Exec(ctx, `DROP TRIGGER hang ON spend_periods`); err != nil {
		t.Fatal(err)
	}
	if got := s.Load("t"); got.Team.Spend != 50000 {
		t.Fatalf("t: %+v", got.Team)
	}
	if got := s.Load("gone"); got.Team.Spend != 1 {
		t.Fatalf("gone: %+v", got.Team)
	}
}

// A batch written again (its COMMIT went through but the answer was
// lost, so the flush is retried) is applied once.
func TestRetriedBatchAppliedOnce(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.Schema(t)
	s := openAt(t, u, Options{FlushInterval: time.Hour})
	b := &batch{id: newID(), pending: map[pid]*pend{{"t", "", r1.UnixNano()}: {spend: 2, periodStart: p0.UnixNano(), order: 1}}}
	for range 2 {
		if err := s.write(context.Background(), b, true); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.Load("t"); got.Team.Spend != 2 {
		t.Fatalf("got %+v", got.Team)
	}
}
