package usage

import (
	"encoding/binary"
	"time"
)

// BucketKey is one rollup row: a bucket (unix seconds of the hour's or
// the day's start, UTC) and its key.
type BucketKey struct {
	Bucket int64
	RollupKey
}

// Rollups sums a batch of (Bound) records into their hourly and daily
// rollup rows. Records are first grouped by what their rows depend on
// (hour, team, key, model, user, tags), so a batch of calls from a few
// keys costs one map lookup per record, not one per rollup row.
type Rollups struct {
	groups    map[rollupGroup]*rollupSum
	last      *rollupSum // the previous record's group: calls in a row often share it
	lastGroup rollupGroup
}

type rollupGroup struct {
	hour                   int64
	team, key, model, user string
	ntags                  int
	tags                   string // the tag, or the tags each after its length (unambiguous)
}

type rollupSum struct {
	tags []string
	agg  Agg
}

// Add counts one record.
func (rs *Rollups) Add(r *Record) {
	if rs.groups == nil {
		rs.groups = make(map[rollupGroup]*rollupSum)
	}
	hour := r.Start.Unix()
	hour -= hour % 3600
	if hour > r.Start.Unix() { // before 1970: % is negative
		hour -= 3600
	}
	g := rollupGroup{hour: hour, team: r.TeamID, key: r.KeyID, model: ModelOf(r), user: UserOf(r)}
	switch g.ntags = len(r.Tags); g.ntags {
	case 0:
	case 1:
		g.tags = r.Tags[0]
	default:
		var b []byte
		for _, t := range r.Tags {
			b = binary.AppendUvarint(b, uint64(len(t)))
			b = append(b, t...)
		}
		g.tags = string(b)
	}
	s := rs.last
	if s == nil || g != rs.lastGroup {
		s = rs.groups[g]
		if s == nil {
			s = &rollupSum{tags: r.Tags}
			rs.groups[g] = s
		}
		rs.last, rs.lastGroup = s, g
	}
	s.agg.Add(r)
}

// Reset empties rs, keeping its memory for the next batch.
func (rs *Rollups) Reset() {
	clear(rs.groups)
	rs.last, rs.lastGroup = nil, rollupGroup{}
}

// Rows are the sums per hourly and per daily rollup row (RollupKeys'
// rows: the hourly ones for hours, all of them for days).
func (rs *Rollups) Rows() (hours, days map[BucketKey]*Agg) {
	hours, days = make(map[BucketKey]*Agg), make(map[BucketKey]*Agg)
	var keys []RollupKey
	for g, s := range rs.groups {
		r := Record{TeamID: g.team, KeyID: g.key, Model: g.model, User: g.user, Tags: s.tags}
		hour, day := g.hour, DayOf(time.Unix(g.hour, 0)).Unix()
		keys = RollupKeys(keys[:0], &r, true)
		for _, k := range keys {
			if k.Hourly() {
				merge(hours, BucketKey{hour, k}, &s.agg)
			}
			merge(days, BucketKey{day, k}, &s.agg)
		}
	}
	return hours, days
}

func merge(m map[BucketKey]*Agg, k BucketKey, a *Agg) {
	sum := m[k]
	if sum == nil {
		sum = new(Agg)
		m[k] = sum
	}
	sum.Merge(a)
}
