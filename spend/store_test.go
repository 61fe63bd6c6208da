package spend

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestDeltasSurviveCloseAndReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, quiet())
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	reset := start.Add(24 * time.Hour)
	s.Add(Delta{TeamID: "t1", Spend: 1.5, PeriodStart: start, ResetAt: reset})
	s.Add(Delta{TeamID: "t1", Spend: 2, PeriodStart: start, ResetAt: reset})
	s.Add(Delta{TeamID: "t1", KeyToken: "k1", Spend: 0.25, PeriodStart: start})
	// pending deltas are visible to Load before any flush
	if got := s.Load("t1"); got.Team == nil || got.Team.Spend != 3.5 || got.Keys["k1"].Spend != 0.25 {
		t.Fatalf("load before flush: %+v", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := s.Load("t1")
	if got.Team == nil || got.Team.Spend != 3.5 || !got.Team.ResetAt.Equal(reset) || !got.Team.PeriodStart.Equal(start) {
		t.Fatalf("team after reopen: %+v", got.Team)
	}
	if k := got.Keys["k1"]; k == nil || k.Spend != 0.25 || !k.ResetAt.IsZero() {
		t.Fatalf("key after reopen: %+v", k)
	}
	if other := s.Load("t2"); other.Found || other.Team != nil {
		t.Fatalf("unknown team: %+v", other)
	}
}

func TestPeriodsAndStaleResets(t *testing.T) {
	r := &Record{}
	day1 := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	day2 := day1.Add(24 * time.Hour)
	apply(r, Delta{Spend: 5, ResetAt: day1})
	apply(r, Delta{NewPeriod: true, ResetAt: day2})
	apply(r, Delta{Spend: 1, ResetAt: day2})
	apply(r, Delta{NewPeriod: true, ResetAt: day1}) // stale
	if r.Spend != 1 || !r.ResetAt.Equal(day2) {
		t.Fatalf("record %+v, want spend 1 in the day-2 period", r)
	}
}

func TestFlushedWithinASecond(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, quiet())
	if err != nil {
		t.Fatal(err)
	}
	s.Add(Delta{TeamID: "t1", Spend: 7})
	time.Sleep(FlushInterval + 300*time.Millisecond)
	// committed to the file, not only pending in memory
	var stored []byte
	if err := s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketTeams).Bucket([]byte("t1")); b != nil {
			stored = append(stored, b.Get([]byte(teamRecord))...)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(stored), `"spend":7`) {
		t.Fatalf("not on disk after %s: %q", FlushInterval+300*time.Millisecond, stored)
	}
	if raw, err := os.ReadFile(filepath.Join(dir, FileName)); err != nil || len(raw) == 0 {
		t.Fatalf("spend.db: %v", err)
	}
	s.Close()
}

func TestCheckStateDir(t *testing.T) {
	root := t.TempDir()
	teams, models := filepath.Join(root, "teams.d"), filepath.Join(root, "models.d")
	for _, bad := range []string{teams, filepath.Join(teams, "state"), filepath.Join(models, "x", "y")} {
		if _, err := CheckStateDir(bad, teams, models); err == nil || !strings.Contains(err.Error(), "outside the configuration folders") {
			t.Errorf("%s: err %v", bad, err)
		}
	}
	if _, err := CheckStateDir(filepath.Join(root, ".gateway"), teams, models); err != nil {
		t.Errorf("a sibling state dir: %v", err)
	}
	// teams.d-other is not under teams.d
	if _, err := CheckStateDir(filepath.Join(root, "teams.d-state"), teams, models); err != nil {
		t.Errorf("a look-alike name: %v", err)
	}
}
