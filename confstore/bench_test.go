package confstore

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// writeBig writes teams teams with perTeam deployments each, one file per
// deployment as the management API writes them.
func writeBig(tb testing.TB, dir string, teams, perTeam int) (teamsDir, modelsDir string) {
	tb.Helper()
	teamsDir, modelsDir = filepath.Join(dir, "teams.d"), filepath.Join(dir, "models.d")
	for i := range teams {
		id := benchTeamID(i)
		mustWrite(tb, filepath.Join(teamsDir, id+".yaml"), benchTeamYAML(i))
		for j := range perTeam {
			mid := fmt.Sprintf("%08x-%04x-4000-8000-000000000000", i, j)
			m := fmt.Sprintf(`model_list:
  - model_name: model_name_%s_%s
    litellm_params:
      model: openai/gpt-4o
      api_base: https://example.com/v1
      api_key: os.environ/BENCH_KEY
      timeout: 60
    model_info:
      id: %s
      team_id: %s
      team_public_model_name: m-%d
`, id, mid, mid, id, j)
			mustWrite(tb, filepath.Join(modelsDir, id, mid+".yaml"), m)
		}
	}
	return teamsDir, modelsDir
}

func benchTeamID(i int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i) }

func benchTeamYAML(i int) string {
	return fmt.Sprintf(`team_id: %s
team_alias: team-%d
members_with_roles: [{user_id: user-%d, role: admin}]
rpm_limit: 600
tpm_limit: 100000
model_aliases: {fast: m-0}
keys:
  - token: %064x
    key_alias: ci
    key_name: sk-...%04d
`, benchTeamID(i), i, i, i+1, i%10000)
}

func mustWrite(tb testing.TB, path, data string) {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkReload1000Teams measures Rescan over 1,000 team files and
// 5,000 deployment files (one per file, as the API writes them): a reload
// where one team file changed (the usual git pull), one where nothing did
// (the periodic rescan, the gateway's own write-backs), and a cold one
// where every file is parsed (startup).
func BenchmarkReload1000Teams(b *testing.B) { benchReload(b, 1000, 5) }

// BenchmarkReload10000Teams is BenchmarkReload1000Teams at the size of
// issue 6's large configuration: 10,000 team files and 50,000 deployment
// files. It also reports the live heap after Open (heap-MB, after a GC).
// GATEWAY_BENCH_DIR, when set, keeps the generated files there between
// runs (they are written once).
//
//	go test ./confstore -run '^$' -bench 10000Teams -benchtime 5x -cpuprofile cpu.pprof -memprofile mem.pprof
func BenchmarkReload10000Teams(b *testing.B) { benchReload(b, 10000, 5) }

func benchReload(b *testing.B, teams, perTeam int) {
	dir := b.TempDir()
	if d := os.Getenv("GATEWAY_BENCH_DIR"); d != "" {
		dir = filepath.Join(d, fmt.Sprintf("%dx%d", teams, perTeam))
	}
	var td, md string
	if _, err := os.Stat(filepath.Join(dir, "done")); err == nil {
		td, md = filepath.Join(dir, "teams.d"), filepath.Join(dir, "models.d")
	} else {
		td, md = writeBig(b, dir, teams, perTeam)
		mustWrite(b, filepath.Join(dir, "done"), "")
	}
	b.Setenv("BENCH_KEY", "sk-bench")
	applied := 0
	open := func() *Store {
		st, problems, err := Open(Options{TeamsDir: td, ModelsDir: md, Listeners: []Listener{{Name: "test", Live: func(Event) error { applied++; return nil }}}, Log: quietLog()})
		if err != nil || st == nil {
			b.Fatal(err, problems)
		}
		return st
	}
	teamFile := filepath.Join(td, benchTeamID(7)+".yaml")
	orig := benchTeamYAML(7)
	mustWrite(b, teamFile, orig)
	b.Cleanup(func() { mustWrite(b, teamFile, orig) })
	b.Run("one-team-changed", func(b *testing.B) {
		st := open()
		i := 0
		for b.Loop() {
			i++
			b.StopTimer()
			mustWrite(b, teamFile, orig+fmt.Sprintf("max_parallel_requests: %d\n", i))
			b.StartTimer()
			if st, err := st.Rescan("bench"); err != nil || st.LastOutcome != OutcomeApplied {
				b.Fatal(err, st.LastOutcome)
			}
		}
	})
	b.Run("nothing-changed", func(b *testing.B) {
		st := open()
		for b.Loop() {
			if st, err := st.Rescan("bench"); err != nil || st.LastOutcome != OutcomeUnchanged {
				b.Fatal(err, st.LastOutcome)
			}
		}
	})
	b.Run("cold", func(b *testing.B) {
		var st *Store
		for b.Loop() {
			st = nil
			st = open()
		}
		b.StopTimer()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MB")
		runtime.KeepAlive(st)
	})
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
