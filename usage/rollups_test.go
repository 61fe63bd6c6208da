package usage

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// TestRollupsMatchRollupKeys: grouping first gives the same rows as
// adding every record to each of its RollupKeys, including tags that
// would collide if they were simply joined.
func TestRollupsMatchRollupKeys(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 9))
	day0 := time.Date(2026, 11, 2, 22, 0, 0, 0, time.UTC)
	tagSets := [][]string{nil, {"a"}, {"a", "b"}, {"a\x00b"}, {"\x01a\x01b"}, {"b", "a"}}
	var rs Rollups
	wantH, wantD := map[BucketKey]*Agg{}, map[BucketKey]*Agg{}
	var keys []RollupKey
	for i := range 2000 {
		r := Record{
			RequestID: fmt.Sprint(i), Start: day0.Add(time.Duration(rng.IntN(4*3600)) * time.Second),
			TeamID: fmt.Sprint("t", rng.IntN(3)), KeyID: fmt.Sprint("k", rng.IntN(4)),
			Model: fmt.Sprint("m", rng.IntN(3)), Status: []int{200, 429}[rng.IntN(2)],
			PromptTokens: int64(rng.IntN(100)), Cost: rng.Float64(), Latency: time.Duration(rng.IntN(5000)) * time.Millisecond,
			Tags: tagSets[rng.IntN(len(tagSets))],
		}
		if rng.IntN(2) == 0 {
			r.ModelGroup = "group"
		}
		if rng.IntN(2) == 0 {
			r.KeyUserID = fmt.Sprint("u", rng.IntN(3))
		} else {
			r.User = fmt.Sprint("body-user", rng.IntN(2))
		}
		rs.Add(&r)
		keys = RollupKeys(keys[:0], &r, true)
		for _, k := range keys {
			if k.Hourly() {
				one(wantH, BucketKey{HourOf(r.Start).Unix(), k}, &r)
			}
			one(wantD, BucketKey{DayOf(r.Start).Unix(), k}, &r)
		}
	}
	hours, days := rs.Rows()
	for _, c := range []struct {
		name      string
		got, want map[BucketKey]*Agg
	}{{"hours", hours, wantH}, {"days", days, wantD}} {
		if len(c.got) != len(c.want) {
			t.Errorf("%s: %d rows, want %d", c.name, len(c.got), len(c.want))
		}
		for k, w := range c.want {
			g := c.got[k]
			if g == nil {
				t.Errorf("%s: missing %+v", c.name, k)
				continue
			}
			// Sums of floats in another order: compare the spend apart.
			gs, ws := g.Spend, w.Spend
			g2, w2 := *g, *w
			g2.Spend, w2.Spend = 0, 0
			if !reflect.DeepEqual(g2, w2) || gs-ws > 1e-9 || ws-gs > 1e-9 {
				t.Errorf("%s %+v: %+v, want %+v", c.name, k, g, w)
			}
		}
	}
}

func one(m map[BucketKey]*Agg, k BucketKey, r *Record) {
	a := m[k]
	if a == nil {
		a = new(Agg)
		m[k] = a
	}
	a.Add(r)
}
