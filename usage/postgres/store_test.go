package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/llmgateway/gateway/internal/pgtest"
	"github.com/llmgateway/gateway/usage"
	"github.com/llmgateway/gateway/usage/usagetest"
)

// TestConformance runs the suite every usage.Store passes, each case in
// its own fresh schema.
func TestConformance(t *testing.T) {
	t.Parallel()
	pgtest.BaseURL(t)
	usagetest.Run(t, func(t *testing.T) usage.Store {
		s, _ := open(t)
		return s
	})
}

func open(t *testing.T) (*Store, string) {
	t.Helper()
	u, _ := pgtest.Schema(t)
	s, err := Open(context.Background(), u, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, u
}

var t0 = time.Date(2026, 3, 4, 10, 30, 0, 123456000, time.UTC)

func rec(id string, start time.Time, team, key, model string, cost float64, lat time.Duration, status int) usage.Record {
	return usage.Record{RequestID: id, Start: start, End: start.Add(lat + time.Second), TeamID: team, KeyID: key,
		KeyUserID: "u-" + team, Model: model, Status: status, PromptTokens: 10, CompletionTokens: 5, Cost: cost,
		Latency: lat, Tags: []string{"t1"}, Metadata: json.RawMessage(`{"b":1, "a":[2]}`)}
}

func TestWriteRoundTripAndIdempotent(t *testing.T) {
	t.Parallel()
	s, _ := open(t)
	ctx := context.Background()
	r := rec("req-1", t0, "team-a", "k1", "gpt", 0.5, 120*time.Millisecond, 200)
	r.TTFT, r.Stream, r.Retries, r.Fallbacks, r.CachedTokens = 30*time.Millisecond, true, 1, 2, 3
	batch := []usage.Record{r, rec("req-2", t0.Add(time.Minute), "team-a", "k2", "gpt", 0.25, 300*time.Millisecond, 500)}
	for range 2 { // the same batch twice counts once
		if err := s.Write(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	page, err := s.Logs(ctx, usage.LogQuery{TeamID: "team-a"})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Records) != 2 || page.Next != "" {
		t.Fatalf("got %d records, next %q", len(page.Records), page.Next)
	}
	got := page.Records[1]
	if got.RequestID != "req-1" || !got.Start.Equal(r.Start.Truncate(time.Microsecond)) || got.TTFT != r.TTFT || !got.Stream ||
		got.Retries != 1 || got.Fallbacks != 2 || string(got.Metadata) != string(r.Metadata) || got.Tags[0] != "t1" {
		t.Fatalf("round trip: %+v", got)
	}
	m, err := s.Totals(ctx, usage.TotalsQuery{TeamID: "team-a", Since: t0.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if m.Requests != 2 || m.Successful != 1 || m.Failed != 1 || m.Spend != 0.75 || m.TotalTokens != 30 {
		t.Fatalf("totals: %+v", m)
	}
	if math.Abs(m.LatencyP50Ms-120)/120 > 0.25 || math.Abs(m.LatencyP95Ms-300)/300 > 0.25 {
		t.Fatalf("percentiles: p50 %v p95 %v", m.LatencyP50Ms, m.LatencyP95Ms)
	}
	// Since after the calls: nothing.
	if m, _ := s.Totals(ctx, usage.TotalsQuery{KeyID: "k1", Since: t0.Add(time.Hour)}); m.Requests != 0 {
		t.Fatalf("totals since later: %+v", m)
	}
	act, err := s.Activity(ctx, usage.ActivityQuery{TeamID: "team-a", From: t0, To: t0})
	if err != nil {
		t.Fatal(err)
	}
	if len(act.Results) != 1 || act.Results[0].Breakdown["api_keys"]["k1"].Requests != 1 || act.Metadata.Requests != 2 {
		t.Fatalf("activity: %+v", act)
	}
	uact, err := s.Activity(ctx, usage.ActivityQuery{UserID: "u-team-a", From: t0, To: t0, Model: "gpt"})
	if err != nil || len(uact.Results) != 1 || uact.Results[0].Breakdown["models"]["gpt"].Requests != 2 ||
		uact.Results[0].Breakdown["api_keys"]["k2"].Requests != 1 {
		t.Fatalf("user activity: %+v %v", uact, err)
	}
	rep, err := s.Report(ctx, usage.ReportQuery{GroupBy: usage.ByKey, From: t0, To: t0})
	if err != nil || len(rep) != 1 || len(rep[0].Groups) != 2 || rep[0].Groups[0].Name != "k1" {
		t.Fatalf("report: %+v %v", rep, err)
	}
	n, err := s.Prune(ctx, t0.Add(48*time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("prune: %d %v", n, err)
	}
	if m, _ := s.Totals(ctx, usage.TotalsQuery{TeamID: "team-a"}); m.Requests != 0 {
		t.Fatalf("rollups not pruned: %+v", m)
	}
}

func TestLogsPaging(t *testing.T) {
	t.Parallel()
	s, _ := open(t)
	ctx := context.Background()
	var batch []usage.Record
	for i := range 25 {
		// Several records share a start time: the request id breaks ties.
		batch = append(batch, rec(fmt.Sprintf("r%02d", i), t0.Add(time.Duration(i/3)*time.Second), "tm", "k", "m", 0.01, time.Millisecond, 200))
	}
	if err := s.Write(ctx, batch); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	cursor := ""
	for pages := 0; ; pages++ {
		p, err := s.Logs(ctx, usage.LogQuery{Limit: 7, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Records {
			if seen[r.RequestID] {
				t.Fatalf("%s twice", r.RequestID)
			}
			seen[r.RequestID] = true
		}
		if p.Next == "" {
			break
		}
		cursor = p.Next
	}
	if len(seen) != 25 {
		t.Fatalf("saw %d of 25", len(seen))
	}
	if _, err := s.Logs(ctx, usage.LogQuery{Cursor: "garbage!"}); !errors.Is(err, usage.ErrBadQuery) {
		t.Fatalf("bad cursor: %v", err)
	}
}

// Strings PostgreSQL text refuses (NUL, invalid UTF-8) are cleaned, not
// an error that would lose the batch.
func TestWriteOddStrings(t *testing.T) {
	t.Parallel()
	s, _ := open(t)
	r := rec("a\x00b", t0, "te\xffam", "k", "m\x1fx", math.NaN(), time.Millisecond, 200)
	r.Metadata = json.RawMessage(`{not json`)
	if err := s.Write(context.Background(), []usage.Record{r}); err != nil {
		t.Fatal(err)
	}
}

func TestMigrationsTwiceAndConcurrently(t *testing.T) {
	t.Parallel()
	u, _ := pgtest.Schema(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 { // four replicas starting at once
		wg.Go(func() {
			s, err := Open(ctx, u, nil)
			if err == nil {
				err = s.Write(ctx, []usage.Record{rec("x", t0, "t", "k", "m", 1, time.Millisecond, 200)})
				_ = s.Close()
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
	pool, err := pgxpool.New(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM gateway_migrations WHERE component = 'usage'").Scan(&n); err != nil || n != 1 {
		t.Fatalf("migrations recorded %d times (%v)", n, err)
	}
	if _, err := New(ctx, pool, nil); err != nil { // and once more
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, "SELECT requests FROM usage_rollups WHERE granularity = 'd' AND dimension = 'team'").Scan(&n); err != nil || n != 1 {
		t.Fatalf("four writes of one record counted %d (%v)", n, err)
	}
}

func TestConcurrentWritersAddUp(t *testing.T) {
	t.Parallel()
	s, _ := open(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for b := range 5 {
				var batch []usage.Record
				for i := range 10 {
					batch = append(batch, rec(fmt.Sprintf("w%d-b%d-%d", w, b, i), t0.Add(time.Duration(i)*time.Minute), "tm", "k", "m", 0.5, time.Millisecond, 200))
				}
				if err := s.Write(ctx, batch); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	m, err := s.Totals(ctx, usage.TotalsQuery{TeamID: "tm"})
	if err != nil || m.Requests != 200 || m.Spend != 100 {
		t.Fatalf("totals %+v %v", m, err)
	}
}

func TestOpenBadURLHidesIt(t *testing.T) {
	t.Parallel()
	_, err := Open(context.Background(), "postgres://u:s3cret@[::1", nil)
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("err = %v", err)
	}
}

// BenchmarkWrite is one batch of 100 records and its rollups (the
// background writer's work; never on the request path).
func BenchmarkWrite(b *testing.B) {
	u, _ := pgtest.Schema(b)
	s, err := Open(context.Background(), u, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	batch := make([]usage.Record, 100)
	b.ResetTimer()
	for n := 0; b.Loop(); n++ {
		for i := range batch {
			batch[i] = rec(fmt.Sprintf("r%d-%d", n, i), t0.Add(time.Duration(i)*time.Second), "tm", fmt.Sprintf("k%d", i%5), "m", 0.01, time.Millisecond, 200)
		}
		if err := s.Write(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
}

// A wrong password is an error that does not repeat it.
func TestOpenWrongPasswordHidesIt(t *testing.T) {
	t.Parallel()
	u, err := url.Parse(pgtest.BaseURL(t))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), "wrong-pw-s3cret")
	_, err = Open(context.Background(), u.String(), nil)
	if err == nil || strings.Contains(err.Error(), "wrong-pw-s3cret") {
		t.Fatalf("err = %v", err)
	}
	t.Log(err)
}
