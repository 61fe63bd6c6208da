package sqlite

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
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

var createIndex = regexp.MustCompile(`(?m)^CREATE (UNIQUE )?INDEX (\w+) ON [^;]+;`)

// generate writes n records and their rollups as Write would, fast: no
// sync, indexes built after the load, rollups aggregated a day at a time
// and inserted in key order.
func generate(path string, n int) error {
	os.Remove(path)
	s, err := Open(path)
	if err != nil {
		return err
	}
	defer s.Close()
	schema, err := migrations.ReadFile("migrations/0001_init.sql")
	if err != nil {
		return err
	}
	indexes := createIndex.FindAllStringSubmatch(string(schema), -1)
	ctx := context.Background()
	for _, pragma := range []string{"PRAGMA synchronous=OFF", "PRAGMA cache_size=-262144", "PRAGMA temp_store=MEMORY"} {
		if _, err := s.w.ExecContext(ctx, pragma); err != nil {
			return err
		}
	}
	for _, ix := range indexes {
		if _, err := s.w.ExecContext(ctx, "DROP INDEX "+ix[2]); err != nil {
			return err
		}
	}
	const perStmt = 32
	rowStmt, err := s.w.PrepareContext(ctx, "INSERT INTO usage_rows ("+rowCols+") VALUES "+
		strings.TrimSuffix(strings.Repeat("(?"+strings.Repeat(", ?", nRowCols-1)+"), ", perStmt), ", "))
	if err != nil {
		return err
	}
	defer rowStmt.Close()
	oneStmt, err := s.w.PrepareContext(ctx, "INSERT INTO usage_rows ("+rowCols+") VALUES (?"+strings.Repeat(", ?", nRowCols-1)+")")
	if err != nil {
		return err
	}
	defer oneStmt.Close()
	rollCols := 5 + len(aggCols)
	rollStmt := func(table string) string {
		return "INSERT INTO " + table + " (dimension, bucket, value, team_id, detail, " + strings.Join(aggCols, ", ") + ") VALUES " +
			strings.TrimSuffix(strings.Repeat("(?"+strings.Repeat(", ?", rollCols-1)+"), ", 8), ", ")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	perDay := (n + benchDays - 1) / benchDays
	rowArgsBuf := make([]any, 0, perStmt*nRowCols)
	one := make([]any, nRowCols)
	var keys []usage.RollupKey
	for day := 0; day*perDay < n; day++ {
		tx, err := s.w.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		ins := tx.StmtContext(ctx, rowStmt)
		hours, days := map[bucketKey]*usage.Agg{}, map[bucketKey]*usage.Agg{}
		for i := day * perDay; i < min(n, (day+1)*perDay); i++ {
			r := benchRecord(rng, i, n)
			rowArgs(one, &r)
			rowArgsBuf = append(rowArgsBuf, one...)
			if len(rowArgsBuf) == cap(rowArgsBuf) {
				if _, err := ins.ExecContext(ctx, rowArgsBuf...); err != nil {
					tx.Rollback()
					return err
				}
				rowArgsBuf = rowArgsBuf[:0]
			}
			hour, d := usage.HourOf(r.Start).Unix(), usage.DayOf(r.Start).Unix()
			keys = usage.RollupKeys(keys[:0], &r, true)
			for _, k := range keys {
				if k.Hourly() {
					add(hours, bucketKey{hour, k}, &r)
				}
				add(days, bucketKey{d, k}, &r)
			}
		}
		for i := 0; i < len(rowArgsBuf); i += nRowCols { // the rest, one by one
			if _, err := tx.StmtContext(ctx, oneStmt).ExecContext(ctx, rowArgsBuf[i:i+nRowCols]...); err != nil {
				tx.Rollback()
				return err
			}
		}
		rowArgsBuf = rowArgsBuf[:0]
		for _, t := range []struct {
			table string
			m     map[bucketKey]*usage.Agg
			one   string
		}{{"usage_hourly", hours, upsertSQL("usage_hourly")}, {"usage_daily", days, upsertSQL("usage_daily")}} {
			sorted := make([]bucketKey, 0, len(t.m))
			for k := range t.m {
				sorted = append(sorted, k)
			}
			slices.SortFunc(sorted, func(a, b bucketKey) int {
				return cmp.Or(strings.Compare(string(a.Dimension), string(b.Dimension)), cmp.Compare(a.bucket, b.bucket),
					strings.Compare(a.Value, b.Value), strings.Compare(a.TeamID, b.TeamID), strings.Compare(a.Detail, b.Detail))
			})
			multi, err := tx.PrepareContext(ctx, rollStmt(t.table))
			if err != nil {
				tx.Rollback()
				return err
			}
			single, err := tx.PrepareContext(ctx, t.one)
			if err != nil {
				tx.Rollback()
				return err
			}
			args := make([]any, 0, 8*rollCols)
			row := make([]any, rollCols)
			for i, k := range sorted {
				row[0], row[1], row[2], row[3], row[4] = string(k.Dimension), k.bucket, k.Value, k.TeamID, k.Detail
				aggArgs(row[5:], t.m[k])
				args = append(args, row...)
				if len(args) == cap(args) {
					if _, err := multi.ExecContext(ctx, args...); err != nil {
						tx.Rollback()
						return err
					}
					args = args[:0]
				} else if i == len(sorted)-1 {
					for j := 0; j < len(args); j += rollCols {
						if _, err := single.ExecContext(ctx, args[j:j+rollCols]...); err != nil {
							tx.Rollback()
							return err
						}
					}
				}
			}
			multi.Close()
			single.Close()
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	for _, ix := range indexes {
		if _, err := s.w.ExecContext(ctx, ix[0]); err != nil {
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
