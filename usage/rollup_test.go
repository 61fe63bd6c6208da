package usage

import (
	"math"
	"testing"
	"time"
)

func TestLatencyBucket(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		d    time.Duration
		want int
	}{
		{-time.Second, 0}, {0, 0}, {999 * time.Microsecond, 0}, {time.Millisecond, 1},
		{1414 * time.Microsecond, 1}, {1415 * time.Microsecond, 2}, {2 * time.Millisecond, 3},
		{100 * time.Millisecond, 14}, {24 * time.Hour, LatencyBuckets - 1},
	} {
		if got := LatencyBucket(c.d); got != c.want {
			t.Errorf("LatencyBucket(%v) = %d, want %d", c.d, got, c.want)
		}
	}
	for i := 1; i < LatencyBuckets; i++ {
		lo := time.Duration(latencyLower(i)*float64(time.Millisecond)) + time.Microsecond
		if got := LatencyBucket(lo); got != i {
			t.Errorf("lower bound of %d (%v) is in bucket %d", i, lo, got)
		}
	}
}

func TestQuantile(t *testing.T) {
	t.Parallel()
	var h Hist
	if h.Quantile(0.5) != 0 {
		t.Fatal("empty histogram")
	}
	for i := 1; i <= 1000; i++ {
		h[LatencyBucket(time.Duration(i)*time.Millisecond)]++
	}
	for _, q := range []float64{0.01, 0.5, 0.95, 0.99, 1} {
		got, want := h.Quantile(q), q*1000
		if math.Abs(got-want)/want > 0.1 {
			t.Errorf("q%v = %v, want about %v", q, got, want)
		}
	}
	var one Hist
	one[LatencyBuckets-1] = 1
	if got := one.Quantile(0.95); got < 60*60*1000 || math.IsInf(got, 0) {
		t.Errorf("overflow bucket quantile = %v", got)
	}
}

func TestBound(t *testing.T) {
	t.Parallel()
	r := Record{Tags: []string{"a", "", "b", "a"}, Metadata: []byte(" null ")}
	Bound(&r)
	if len(r.Tags) != 2 || r.Tags[0] != "a" || r.Tags[1] != "b" || r.Metadata != nil {
		t.Fatalf("Bound = %q %q", r.Tags, r.Metadata)
	}
	clean := []string{"x", "y"}
	r = Record{Tags: clean, Metadata: []byte(`{"a":1}`)}
	Bound(&r)
	if &r.Tags[0] != &clean[0] || string(r.Metadata) != `{"a":1}` {
		t.Fatal("Bound changed a clean record")
	}
}

func TestDetail(t *testing.T) {
	t.Parallel()
	for _, kv := range [][2]string{{"", ""}, {"k", "m"}, {`"],["`, "\\"}} {
		k, m, ok := ParseDetail(DetailOf(kv[0], kv[1]))
		if !ok || k != kv[0] || m != kv[1] {
			t.Errorf("ParseDetail(DetailOf(%q)) = %q %q %v", kv, k, m, ok)
		}
	}
	if _, _, ok := ParseDetail("nope"); ok {
		t.Error("ParseDetail(nope) ok")
	}
}

func FuzzParseDetail(f *testing.F) {
	f.Add(DetailOf("k", "m"))
	f.Add(`["a"]`)
	f.Add(`{"a":1}`)
	f.Fuzz(func(t *testing.T, s string) {
		k, m, ok := ParseDetail(s)
		if !ok {
			return
		}
		if k2, m2, ok2 := ParseDetail(DetailOf(k, m)); !ok2 || k2 != k || m2 != m {
			t.Fatalf("round trip of %q", s)
		}
	})
}

func TestHistEncoding(t *testing.T) {
	t.Parallel()
	var h Hist
	h[0], h[5], h[LatencyBuckets-1] = 1, 300, 1<<40
	b := h.AppendEncoded(nil)
	var g Hist
	if err := g.AddEncoded(b); err != nil || g != h {
		t.Fatalf("round trip: %v %v", g, err)
	}
	if err := g.AddEncoded(b); err != nil || g[5] != 600 {
		t.Fatalf("adding twice: %v %v", g[5], err)
	}
	var empty Hist
	if len(empty.AppendEncoded(nil)) != 0 {
		t.Error("empty histogram encodes to bytes")
	}
	for _, bad := range [][]byte{{47, 1}, {0x80}, {1}, {1, 0x80}} {
		var x Hist
		if x.AddEncoded(bad) == nil {
			t.Errorf("AddEncoded(%v) accepted", bad)
		}
	}
}

func FuzzHistAddEncoded(f *testing.F) {
	var h Hist
	h[3], h[46] = 7, 1
	f.Add(h.AppendEncoded(nil))
	f.Add([]byte{0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		var x Hist
		if x.AddEncoded(b) != nil {
			return
		}
		_ = x.Quantile(0.95)
	})
}
