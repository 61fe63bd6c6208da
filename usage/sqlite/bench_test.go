package sqlite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/llmgateway/gateway/usage"
)

// The report benchmarks run on a generated store only when asked:
//
//	USAGE_BENCH_ROWS=10000000 USAGE_BENCH_DIR=/tmp/usagebench \
//	  go test -run '^$' -bench 'Report10M' -benchtime 50x ./usage/sqlite/
//
// USAGE_BENCH_DIR keeps the generated file for the next run (generating
// 10 million rows takes minutes); without it the file is generated in a
// temporary directory and removed.
const (
	benchDays   = 30
	benchTeams  = 50
	benchKeys   = 500
	benchModels = 20
	benchUsers  = 1000
	benchTags   = 30
)

var benchDay0 = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)

func benchStore(b *testing.B) *Store {
	b.Helper()
	n, _ := strconv.Atoi(os.Getenv("USAGE_BENCH_ROWS"))
	if n <= 0 {
		b.Skip("set USAGE_BENCH_ROWS (e.g. 10000000) to run the report benchmarks on a generated store")
	}
	dir := os.Getenv("USAGE_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	path := filepath.Join(dir, fmt.Sprintf("usage-bench-%d.db", n))
	if _, err := os.Stat(path); err != nil {
		start := time.Now()
		if err := generate(path+".tmp", n); err != nil {
			b.Fatal(err)
		}
		for _, suffix := range []string{"-wal", "-shm"} {
			os.Remove(path + ".tmp" + suffix)
		}
		if err := os.Rename(path+".tmp", path); err != nil {
			b.Fatal(err)
		}
		b.Logf("generated %d rows in %v", n, time.Since(start).Round(time.Second))
	}
	s, err := Open(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// benchRecord is the i-th of n records spread over benchDays: a key
// belongs to team key%50, a user to the key user%500 (so to its team), a
// model and a tag drawn at random.
func benchRecord(rng *rand.Rand, i, n int) usage.Record {
	perDay := (n + benchDays - 1) / benchDays
	day := i / perDay
	offset := time.Duration(float64(i%perDay) / float64(perDay) * float64(24*time.Hour)).Truncate(time.Microsecond)
	start := benchDay0.AddDate(0, 0, day).Add(offset)
	user := rng.IntN(benchUsers)
	key := user % benchKeys
	team := key % benchTeams
	model := fmt.Sprintf("model-%02d", rng.IntN(benchModels))
	status := 200
	if rng.IntN(50) == 0 {
		status = 429
	}
	pt, ct := int64(rng.IntN(2000)), int64(rng.IntN(500))
	return usage.Record{
		RequestID: fmt.Sprintf("chatcmpl-%010d", i), Start: start, End: start.Add(2 * time.Second),
		TeamID: fmt.Sprintf("team-%02d", team), KeyID: fmt.Sprintf("%064x", key), KeyAlias: fmt.Sprintf("key-%03d", key),
		KeyUserID: fmt.Sprintf("user-%04d", user), Route: "chat/completions", Model: model, ModelGroup: model,
		DeploymentID: model + "-a", Provider: "openai", Status: status,
		PromptTokens: pt, CompletionTokens: ct, CachedTokens: pt / 4, Cost: float64(pt)*1e-6 + float64(ct)*4e-6,
		Latency: time.Duration(50+rng.IntN(3000)) * time.Millisecond, Stream: i%3 == 0,
		Tags: []string{fmt.Sprintf("tag-%02d", rng.IntN(benchTags))},
	}
}

// generate writes n records as Write would, a day at a time, faster:
// no sync, and the rollups summed over the whole day (not per batch) and
// upserted in key order.
func generate(path string, n int) error {
	os.Remove(path)
	s, err := Open(path)
	if err != nil {
		return err
	}
	defer s.Close()
	ctx := context.Background()
	for _, pragma := range []string{"PRAGMA synchronous=OFF", "PRAGMA cache_size=-262144"} {
		if _, err := s.w.ExecContext(ctx, pragma); err != nil {
			return err
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	perDay := (n + benchDays - 1) / benchDays
	day := make([]usage.Record, 0, perDay)
	for d := 0; d*perDay < n; d++ {
		day = day[:0]
		for i := d * perDay; i < min(n, (d+1)*perDay); i++ {
			day = append(day, benchRecord(rng, i, n))
		}
		tx, err := s.w.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		var rs usage.Rollups
		st := s.st.in(ctx, tx)
		for i := 0; i < len(day); i += 1000 { // the Writer's batches
			if _, err := st.writeBatch(ctx, buildBatch(day[i:min(i+1000, len(day))], &pacer{}), &pacer{}); err != nil {
				tx.Rollback()
				return err
			}
		}
		for i := range day {
			rs.Add(&day[i])
		}
		hours, days := rs.Rows()
		if err := upsert(ctx, st.upHour, hours, &pacer{}); err != nil {
			tx.Rollback()
			return err
		}
		if err := upsert(ctx, st.upDay, days, &pacer{}); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	_, err = s.w.ExecContext(ctx, "ANALYZE")
	return err
}

func BenchmarkReport10M(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	from, to := benchDay0, benchDay0.AddDate(0, 0, benchDays-1)
	b.Run("ActivityTeam30d", func(b *testing.B) {
		var a usage.Activity
		var err error
		for b.Loop() {
			if a, err = s.Activity(ctx, usage.ActivityQuery{TeamID: "team-07", From: from, To: to}); err != nil {
				b.Fatal(err)
			}
		}
		if len(a.Results) != benchDays || a.Metadata.Requests == 0 {
			b.Fatalf("activity: %d days, %d calls", len(a.Results), a.Metadata.Requests)
		}
	})
	b.Run("ActivityUser30d", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Activity(ctx, usage.ActivityQuery{UserID: "user-0042", From: from, To: to}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ReportByModel30d", func(b *testing.B) {
		var rep []usage.ReportDay
		var err error
		for b.Loop() {
			if rep, err = s.Report(ctx, usage.ReportQuery{GroupBy: usage.ByModel, From: from, To: to}); err != nil {
				b.Fatal(err)
			}
		}
		if len(rep) != benchDays || len(rep[0].Groups) != benchModels {
			b.Fatalf("report: %d days", len(rep))
		}
	})
	b.Run("ReportByModelTeam30d", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Report(ctx, usage.ReportQuery{GroupBy: usage.ByModel, TeamID: "team-07", From: from, To: to}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ReportByTag30d", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Report(ctx, usage.ReportQuery{GroupBy: usage.ByTag, From: from, To: to}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("TotalsTeamSince", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Totals(ctx, usage.TotalsQuery{TeamID: "team-07", Since: from.Add(90 * time.Minute)}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("LogsTeamPage", func(b *testing.B) {
		var p usage.LogPage
		var err error
		for b.Loop() {
			if p, err = s.Logs(ctx, usage.LogQuery{TeamID: "team-07", Limit: 100}); err != nil {
				b.Fatal(err)
			}
			if p, err = s.Logs(ctx, usage.LogQuery{TeamID: "team-07", Limit: 100, Cursor: p.Next}); err != nil {
				b.Fatal(err)
			}
		}
		if len(p.Records) != 100 {
			b.Fatalf("page of %d", len(p.Records))
		}
	})
	b.Run("LogsRequestID", func(b *testing.B) {
		id := fmt.Sprintf("chatcmpl-%010d", 4_321_987)
		for b.Loop() {
			p, err := s.Logs(ctx, usage.LogQuery{RequestID: id})
			if err != nil {
				b.Fatal(err)
			}
			if len(p.Records) != 1 {
				b.Fatalf("%d records", len(p.Records))
			}
		}
	})
	b.Run("LogsUserStatusPage", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Logs(ctx, usage.LogQuery{UserID: "user-0042", Status: "failure", Limit: 100}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkWrite is Store.Write's speed on a fresh file: batches of 1,000
// records (rows, indexes and rollups), as the Writer sends them.
func BenchmarkWrite(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), FileName))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	const batchSize = 1000
	total := 0
	b.ResetTimer()
	for b.Loop() {
		batch := make([]usage.Record, batchSize)
		for i := range batch {
			batch[i] = benchRecord(rng, total, 30_000_000)
			total++
		}
		if err := s.Write(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkWriteOneTeam is the gateway bench's workload: one team, key
// and model, calls in start order, batches of 1,000.
func BenchmarkWriteOneTeam(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), FileName))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const batchSize = 1000
	t0 := time.Now().UTC()
	batch := make([]usage.Record, batchSize)
	total := 0
	for b.Loop() {
		for i := range batch {
			start := t0.Add(time.Duration(total) * 50 * time.Microsecond)
			batch[i] = usage.Record{RequestID: "chatcmpl-" + strconv.Itoa(total), Start: start, End: start.Add(80 * time.Microsecond),
				TeamID: "demo", KeyID: "4f9c0d1e2b3a4f9c0d1e2b3a4f9c0d1e2b3a4f9c0d1e2b3a4f9c0d1e2b3a4f9c", KeyAlias: "bench",
				Route: "chat/completions", Model: "demo-model", ModelGroup: "demo-model", DeploymentID: "demo-1", Provider: "mock",
				Status: 200, PromptTokens: 12, CompletionTokens: 9, Cost: 0.00021, Latency: 80 * time.Microsecond}
			total++
		}
		if err := s.Write(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(total), "ns/record")
}
