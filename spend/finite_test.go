package spend

import (
	"math"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Spend arithmetic never yields NaN or Inf, whatever it is given.
func TestAddStaysFinite(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ a, b, want float64 }{
		{1, 2, 3},
		{math.MaxFloat64, math.MaxFloat64, math.MaxFloat64},
		{math.Inf(1), 1, math.MaxFloat64},
		{math.NaN(), 1, 1},
		{1, math.NaN(), 1},
		{-5, 1, 1},
		{2, math.Inf(-1), 2},
	} {
		if got := Add(c.a, c.b); got != c.want || !Finite(got) {
			t.Errorf("Add(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

// One team's record that cannot be written never stops the others' from
// being persisted (observation 4: a +Inf spend failed the flush of every
// team).
func TestFlushIsolatesBadRecords(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := Open(dir, quiet())
	if err != nil {
		t.Fatal(err)
	}
	pending := map[id]*Record{
		{"bad-inf", ""}: {Spend: math.Inf(1)},
		{"bad-nan", ""}: {Spend: math.NaN()},
		{"", ""}:        {Spend: 1}, // no bucket can have an empty name
		{"good", ""}:    {Spend: 2.5},
		{"good", "k1"}:  {Spend: 0.5},
	}
	// Through the run loop's own flush, as the ticker does.
	if err := s.flush(pending); err != nil {
		t.Fatalf("flush: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if g := s.Load("good"); g.Team == nil || g.Team.Spend != 2.5 || g.Keys["k1"] == nil || g.Keys["k1"].Spend != 0.5 {
		t.Fatalf("the good team's spend was not persisted: %+v", g)
	}
	if b := s.Load("bad-inf"); b.Team == nil || b.Team.Spend != math.MaxFloat64 {
		t.Errorf("+Inf is stored as the largest finite spend (still exhausted): %+v", b.Team)
	}
	if b := s.Load("bad-nan"); b.Team == nil || b.Team.Spend != 0 {
		t.Errorf("NaN is stored as 0: %+v", b.Team)
	}
}

// Deltas that are not finite count 0; a sum that would overflow stays at
// the largest float64.
func TestDeltasNeverPoison(t *testing.T) {
	t.Parallel()
	s, err := Open(t.TempDir(), quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Add(Delta{TeamID: "t", Spend: math.MaxFloat64})
	s.Add(Delta{TeamID: "t", Spend: math.MaxFloat64})
	s.Add(Delta{TeamID: "t", Spend: math.NaN()})
	s.Add(Delta{TeamID: "u", Spend: math.Inf(1)})
	s.Add(Delta{TeamID: "u", Spend: 1})
	if got := s.Load("t").Team.Spend; got != math.MaxFloat64 {
		t.Errorf("t: %v", got)
	}
	if got := s.Load("u").Team.Spend; got != 1 {
		t.Errorf("u: %v", got)
	}
}

// A record in the state file that cannot be read, or holds an impossible
// spend, does not stop the team's other records (or other teams) from
// loading.
func TestLoadSkipsBadRecords(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := Open(dir, quiet())
	if err != nil {
		t.Fatal(err)
	}
	s.Add(Delta{TeamID: "t", KeyToken: "good", Spend: 3})
	s.Add(Delta{TeamID: "other", Spend: 4})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(dir+"/"+FileName, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		tb := tx.Bucket(bucketTeams).Bucket([]byte("t"))
		if err := tb.Put([]byte("team"), []byte(`{"spend": NaN}`)); err != nil {
			return err
		}
		if err := tb.Put([]byte("key:neg"), []byte(`{"spend": -100}`)); err != nil {
			return err
		}
		return tb.Put([]byte("key:huge"), []byte(`{"spend": 1e999}`))
	}); err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	s, err = Open(dir, quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := s.Load("t")
	if got.Team != nil || got.Keys["good"] == nil || got.Keys["good"].Spend != 3 || got.Keys["neg"] == nil || got.Keys["neg"].Spend != 0 || got.Keys["huge"] != nil {
		t.Fatalf("load: team %+v keys %+v", got.Team, got.Keys)
	}
	if o := s.Load("other"); o.Team == nil || o.Team.Spend != 4 {
		t.Fatalf("other team: %+v", o.Team)
	}
	// A delta for the unreadable record starts it again from 0.
	s.Add(Delta{TeamID: "t", Spend: 1})
	if got := s.Load("t").Team; got == nil || got.Spend != 1 {
		t.Fatalf("after a delta: %+v", got)
	}
}

// Forget drops a team's records, pending and stored, so a team created
// again with the same id starts at zero (observation 9).
func TestForget(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := Open(dir, quiet())
	if err != nil {
		t.Fatal(err)
	}
	s.Add(Delta{TeamID: "t", Spend: 5})
	s.Add(Delta{TeamID: "t", KeyToken: "k", Spend: 5})
	s.Add(Delta{TeamID: "u", Spend: 7})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, quiet())
	if err != nil {
		t.Fatal(err)
	}
	s.Add(Delta{TeamID: "t", Spend: 1}) // pending
	s.Forget("t")
	if got := s.Load("t"); got.Found || got.Team != nil || len(got.Keys) != 0 {
		t.Fatalf("after forget: %+v", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.Load("t"); got.Found {
		t.Fatalf("after reopen: %+v", got)
	}
	if got := s.Load("u"); got.Team == nil || got.Team.Spend != 7 {
		t.Fatalf("other team: %+v", got.Team)
	}
}
