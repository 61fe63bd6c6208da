package usage

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// LatencyBuckets is the number of buckets of a rollup's latency
// histogram. Bucket 0 holds latencies under 1 ms; bucket i (1..45) holds
// [2^((i-1)/2), 2^(i/2)) ms; the last one everything from 2^22.5 ms (about
// 98 minutes) up. Stores keep the counts as they are (an array, or
// Hist.AppendEncoded's bytes) and add them when they merge rollups.
const LatencyBuckets = 47

// LatencyBucket is the histogram bucket of a latency.
func LatencyBucket(d time.Duration) int {
	ms := float64(d) / float64(time.Millisecond)
	if !(ms >= 1) { // also NaN-safe for negative durations
		return 0
	}
	i := int(math.Floor(2*math.Log2(ms))) + 1
	return min(i, LatencyBuckets-1)
}

// latencyLower is the lower bound, in ms, of bucket i.
func latencyLower(i int) float64 {
	if i == 0 {
		return 0
	}
	return math.Exp2(float64(i-1) / 2)
}

// Hist is a latency histogram (counts per LatencyBucket).
type Hist [LatencyBuckets]int64

// Quantile estimates the q-quantile (0 < q <= 1) in milliseconds,
// interpolating linearly inside the bucket that holds it; 0 when empty.
// The overflow bucket answers its lower bound.
func (h *Hist) Quantile(q float64) float64 {
	var n int64
	for _, c := range h {
		n += c
	}
	if n == 0 {
		return 0
	}
	rank := math.Ceil(q * float64(n))
	rank = math.Max(1, math.Min(rank, float64(n)))
	var cum float64
	for i, c := range h {
		if c == 0 {
			continue
		}
		if cum+float64(c) >= rank {
			lo := latencyLower(i)
			if i == LatencyBuckets-1 {
				return lo
			}
			hi := latencyLower(i + 1)
			frac := (rank - cum) / float64(c)
			return round3(lo + frac*(hi-lo))
		}
		cum += float64(c)
	}
	return round3(latencyLower(LatencyBuckets - 1))
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// Agg is the sums of a set of calls: a rollup row, or rollups merged.
type Agg struct {
	Requests         int64
	Successful       int64
	Failed           int64
	PromptTokens     int64
	CompletionTokens int64
	CachedTokens     int64
	Spend            float64
	Hist             Hist
}

// Add counts one record.
func (a *Agg) Add(r *Record) {
	a.Requests++
	if r.Success() {
		a.Successful++
	} else {
		a.Failed++
	}
	a.PromptTokens += r.PromptTokens
	a.CompletionTokens += r.CompletionTokens
	a.CachedTokens += r.CachedTokens
	if !math.IsNaN(r.Cost) && !math.IsInf(r.Cost, 0) {
		a.Spend += r.Cost
	}
	a.Hist[LatencyBucket(r.Latency)]++
}

// Merge adds b's sums to a.
func (a *Agg) Merge(b *Agg) {
	a.Requests += b.Requests
	a.Successful += b.Successful
	a.Failed += b.Failed
	a.PromptTokens += b.PromptTokens
	a.CompletionTokens += b.CompletionTokens
	a.CachedTokens += b.CachedTokens
	a.Spend += b.Spend
	for i := range a.Hist {
		a.Hist[i] += b.Hist[i]
	}
}

// Metrics is the answer's view of the sums, with p50 and p95.
func (a *Agg) Metrics() Metrics {
	return Metrics{
		Spend:            a.Spend,
		PromptTokens:     a.PromptTokens,
		CompletionTokens: a.CompletionTokens,
		TotalTokens:      a.PromptTokens + a.CompletionTokens,
		CachedTokens:     a.CachedTokens,
		Requests:         a.Requests,
		Successful:       a.Successful,
		Failed:           a.Failed,
		LatencyP50Ms:     a.Hist.Quantile(0.50),
		LatencyP95Ms:     a.Hist.Quantile(0.95),
	}
}

// The dimensions only the daily rollups keep, for Activity's breakdowns
// (their Detail is DetailOf(key, model)):
//   - ByTeamDetail: Value is the team, one row per key and model.
//   - ByUserDetail: Value is the user (UserOf), one row per team, key and model.
const (
	ByTeamDetail Dimension = "team_detail"
	ByUserDetail Dimension = "user_detail"
)

// The dimensions only the daily rollups keep for the reports across
// teams (TeamID ""), so /global/spend/report by model or tag reads one
// row per model or tag and day instead of one per team.
const (
	ByModelAll Dimension = "model_all"
	ByTagAll   Dimension = "tag_all"
)

// AllTeams is the dimension a Report over every team reads for group,
// and whether it has one (team, key and user rows are as many either
// way).
func AllTeams(group Dimension) (Dimension, bool) {
	switch group {
	case ByModel:
		return ByModelAll, true
	case ByTag:
		return ByTagAll, true
	}
	return group, false
}

// RollupKey is one rollup row a record counts in: a bucket (hour or day,
// UTC, of Record.Start) and this key. Detail is "" except for the detail
// dimensions.
type RollupKey struct {
	Dimension Dimension
	Value     string
	TeamID    string
	Detail    string
}

// Hourly reports whether the hourly rollups keep k (the five report
// dimensions; the detail and cross-team ones are daily only).
func (k RollupKey) Hourly() bool {
	switch k.Dimension {
	case ByTeam, ByKey, ByModel, ByUser, ByTag:
		return true
	}
	return false
}

// DetailOf is the Detail of a detail-dimension rollup: a JSON array
// [key, model].
func DetailOf(key, model string) string {
	b, _ := json.Marshal([2]string{key, model})
	return string(b)
}

// ParseDetail reads DetailOf's output; ok is false for anything else.
func ParseDetail(detail string) (key, model string, ok bool) {
	// The common case, no escapes: ["key","model"].
	if rest, found := strings.CutPrefix(detail, `["`); found && !strings.ContainsRune(rest, '\\') {
		if body, found := strings.CutSuffix(rest, `"]`); found {
			if k, m, found := strings.Cut(body, `","`); found && !strings.Contains(m, `"`) && !strings.Contains(k, `"`) && utf8.ValidString(body) {
				return k, m, true
			}
		}
	}
	var kv [2]string
	if json.Unmarshal([]byte(detail), &kv) != nil {
		return "", "", false
	}
	return kv[0], kv[1], true
}

// RollupKeys appends to dst the rollup keys a (Bound) record counts in:
// team, key, model (ModelOf), user (UserOf) and one per tag, all under
// the record's team; with daily, also the two detail dimensions and the
// cross-team model and tag ones.
func RollupKeys(dst []RollupKey, r *Record, daily bool) []RollupKey {
	model, user := ModelOf(r), UserOf(r)
	dst = append(dst,
		RollupKey{Dimension: ByTeam, Value: r.TeamID, TeamID: r.TeamID},
		RollupKey{Dimension: ByKey, Value: r.KeyID, TeamID: r.TeamID},
		RollupKey{Dimension: ByModel, Value: model, TeamID: r.TeamID},
		RollupKey{Dimension: ByUser, Value: user, TeamID: r.TeamID},
	)
	for _, tag := range r.Tags {
		dst = append(dst, RollupKey{Dimension: ByTag, Value: tag, TeamID: r.TeamID})
	}
	if daily {
		d := DetailOf(r.KeyID, model)
		dst = append(dst,
			RollupKey{Dimension: ByTeamDetail, Value: r.TeamID, TeamID: r.TeamID, Detail: d},
			RollupKey{Dimension: ByUserDetail, Value: user, TeamID: r.TeamID, Detail: d},
			RollupKey{Dimension: ByModelAll, Value: model},
		)
		for _, tag := range r.Tags {
			dst = append(dst, RollupKey{Dimension: ByTagAll, Value: tag})
		}
	}
	return dst
}

// ValidGroupBy reports whether a report can group by d.
func ValidGroupBy(d Dimension) bool {
	switch d {
	case ByTeam, ByKey, ByModel, ByUser, ByTag:
		return true
	}
	return false
}

// HourOf and DayOf are the UTC buckets of t.
func HourOf(t time.Time) time.Time { return t.UTC().Truncate(time.Hour) }

// DayOf is the UTC day (midnight) of t.
func DayOf(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// AppendEncoded appends h's compact encoding to dst: for each bucket with
// calls, its index and count as uvarints, in index order ("" for none).
// Stores that keep a histogram in one column use it.
func (h *Hist) AppendEncoded(dst []byte) []byte {
	for i, c := range h {
		if c > 0 {
			dst = binary.AppendUvarint(dst, uint64(i))
			dst = binary.AppendUvarint(dst, uint64(c))
		}
	}
	return dst
}

// AddEncoded adds an AppendEncoded histogram to h. Malformed input (a
// bad varint, an index out of range) is an error and leaves h partly
// added.
func (h *Hist) AddEncoded(b []byte) error {
	for len(b) > 0 {
		i, n := binary.Uvarint(b)
		if n <= 0 || i >= LatencyBuckets {
			return errors.New("usage: malformed latency histogram")
		}
		b = b[n:]
		c, n := binary.Uvarint(b)
		if n <= 0 || c > math.MaxInt64 {
			return errors.New("usage: malformed latency histogram")
		}
		b = b[n:]
		h[i] += int64(c)
	}
	return nil
}
