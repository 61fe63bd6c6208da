package spend

import (
	"testing"
	"time"
)

func TestDeferred(t *testing.T) {
	t.Parallel()
	d := NewDeferred()
	d.Add(Delta{TeamID: "t", Spend: 1, ResetAt: time.Unix(100, 0)})
	d.Forget("gone")
	loaded := make(chan Team, 1)
	go func() { loaded <- d.Load("t") }()
	select {
	case <-loaded:
		t.Fatal("Load returned before Set")
	case <-time.After(20 * time.Millisecond):
	}
	s, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Set(s) || d.Set(s) {
		t.Fatal("Set must count once")
	}
	if got := <-loaded; got.Team == nil || got.Team.Spend != 1 {
		t.Fatalf("queued delta not passed on: %+v", got.Team)
	}
	d.Add(Delta{TeamID: "t", Spend: 2, ResetAt: time.Unix(100, 0)})
	if got := d.Load("t"); got.Team.Spend != 3 {
		t.Fatalf("after Set: %+v", got.Team)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := NewDeferred().Close(); err != nil {
		t.Fatal(err)
	}
}
