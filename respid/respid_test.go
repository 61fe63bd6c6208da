package respid

import (
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	t.Parallel()
	c, err := New("salt-1")
	if err != nil {
		t.Fatal(err)
	}
	r := Ref{Team: "team-a", Deployment: "dep-1", Upstream: "resp_abc123"}
	id := c.Seal(r)
	if !strings.HasPrefix(id, Prefix) || strings.Contains(id, "team-a") || strings.Contains(id, "abc123") {
		t.Fatalf("id %q leaks its contents or lacks the prefix", id)
	}
	if again := c.Seal(r); again != id {
		t.Fatalf("one ref sealed twice: %q and %q", id, again)
	}
	if c.Seal(Ref{Team: "team-a", Deployment: "dep-1", Upstream: "resp_abc124"}) == id {
		t.Fatal("two refs got one id")
	}
	got, err := c.Open(id)
	if err != nil || got != r {
		t.Fatalf("Open = %+v, %v; want %+v", got, err, r)
	}
	// Tampered, foreign, truncated and other-key ids do not open.
	other, _ := New("salt-2")
	for _, bad := range []string{id[:len(id)-1], id + "A", "resp_abc123", "", Prefix, other.Seal(r),
		id[:len(Prefix)] + "x" + id[len(Prefix)+1:]} {
		if _, err := c.Open(bad); err == nil {
			t.Errorf("Open(%q) succeeded", bad)
		}
	}
	// The previous salt key still opens ids it sealed.
	rotated, _ := New("salt-2", "salt-1")
	if got, err := rotated.Open(id); err != nil || got != r {
		t.Fatalf("after rotation Open = %+v, %v", got, err)
	}
}

func FuzzOpen(f *testing.F) {
	c, _ := New("salt")
	f.Add(c.Seal(Ref{Team: "t", Deployment: "d", Upstream: "u"}))
	f.Add("resp_")
	f.Add("resp_AAAA")
	f.Fuzz(func(t *testing.T, id string) {
		if r, err := c.Open(id); err == nil {
			if c.Seal(r) == "" {
				t.Fatal("empty seal")
			}
		}
	})
}
