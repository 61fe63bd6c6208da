// Package usagetest is the conformance suite every usage.Store runs: the
// embedded SQLite store and the PostgreSQL one pass the same cases, so a
// report answers the same whichever store is configured.
//
// The semantics it pins (beyond usage.Store's comments):
//   - Times are kept to the microsecond and returned in UTC; durations to
//     the microsecond. Days and hours are UTC buckets of Record.Start.
//   - Write applies usage.Bound (tags and metadata limits), keeps one
//     record per (RequestID, Start) within a batch, and is idempotent: a
//     batch written again (a retry) is not counted twice.
//   - Logs: From <= Start < To (zero bounds do not limit); newest first by
//     (Start desc, RequestID desc); Limit default 100, capped at 1000;
//     Next is "" exactly when no record is left (no empty last page);
//     UserID matches usage.UserOf, Model matches usage.ModelOf; Status is
//     "", "success" (2xx) or "failure" (anything else); any other Status
//     and a forged Cursor are errors wrapping usage.ErrBadQuery.
//   - Activity and Report: From and To are days, inclusive (their UTC
//     dates); only days with calls appear, ascending; Activity breakdown
//     has "models" (usage.ModelOf) and "api_keys" (KeyID); Report groups
//     are sorted by name; a record counts once in each of its tags; the
//     team, key, model and user groups include "" for records without
//     one. An unknown GroupBy wraps usage.ErrBadQuery. Activity needs
//     TeamID or UserID (else usage.ErrBadQuery); with both, the user's
//     calls in that team.
//   - Totals: KeyID, else TeamID, else every call, since Since rounded
//     down to its hour (zero Since: all time).
//   - Latency percentiles are of Record.Latency over the merged
//     histograms (usage.LatencyBuckets resolution: within 25%).
//   - Prune(before) deletes records with End < before and rollups whose
//     bucket ended at or before it, and returns the records deleted.
package usagetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmgateway/gateway/usage"
)

// Open returns a fresh, empty store for one test; it registers its own
// cleanup (Close, drop) with t.
type Open func(t *testing.T) usage.Store

// Run runs every case against stores from open. Cases run in parallel
// (t.Parallel), each with its own store.
func Run(t *testing.T, open func(t *testing.T) usage.Store) {
	cases := []struct {
		name string
		fn   func(t *testing.T, s usage.Store)
	}{
		{"WriteAndLogsRoundTrip", testRoundTrip},
		{"EmptyBatch", testEmptyBatch},
		{"IdempotentRewrite", testIdempotent},
		{"LogsFilters", testLogsFilters},
		{"LogsPaging", testLogsPaging},
		{"LogsLimit", testLogsLimit},
		{"LogsBadInput", testLogsBadInput},
		{"TeamIsolation", testTeamIsolation},
		{"ActivityTeam", testActivityTeam},
		{"ActivityUser", testActivityUser},
		{"ActivityModelFilter", testActivityModelFilter},
		{"ActivityBadQuery", testActivityBadQuery},
		{"ReportGroups", testReportGroups},
		{"ReportTeamFilter", testReportTeamFilter},
		{"ReportBadGroup", testReportBadGroup},
		{"Totals", testTotals},
		{"Prune", testPrune},
		{"LatencyPercentiles", testLatency},
		{"TagsAndMetadataBounds", testBounds},
		{"ConcurrentWrites", testConcurrent},
		{"HostileStrings", testHostile},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.fn(t, open(t))
		})
	}
}

// Day0 is the first day the cases write to (a Monday, UTC).
var Day0 = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)

func ctx(t *testing.T) context.Context { return t.Context() }

// rec is a full record; the cases change what they test.
func rec(id string, start time.Time) usage.Record {
	return usage.Record{
		RequestID:        id,
		Start:            start,
		End:              start.Add(1500 * time.Millisecond),
		TeamID:           "team-a",
		KeyID:            "key-a1",
		KeyAlias:         "alias-a1",
		KeyUserID:        "",
		User:             "",
		EndUser:          "",
		Route:            "chat/completions",
		Model:            "gpt-4o",
		ModelGroup:       "gpt-4o",
		DeploymentID:     "dep-1",
		Provider:         "openai",
		Status:           200,
		PromptTokens:     10,
		CompletionTokens: 5,
		CachedTokens:     2,
		Cost:             0.25,
		Latency:          100 * time.Millisecond,
	}
}

func write(t *testing.T, s usage.Store, batch ...usage.Record) {
	t.Helper()
	if err := s.Write(ctx(t), batch); err != nil {
		t.Fatalf("Write(%d records): %v", len(batch), err)
	}
}

func logs(t *testing.T, s usage.Store, q usage.LogQuery) usage.LogPage {
	t.Helper()
	p, err := s.Logs(ctx(t), q)
	if err != nil {
		t.Fatalf("Logs(%+v): %v", q, err)
	}
	return p
}

// allLogs pages through every record matching q.
func allLogs(t *testing.T, s usage.Store, q usage.LogQuery) []usage.Record {
	t.Helper()
	var out []usage.Record
	for i := 0; ; i++ {
		if i > 10000 {
			t.Fatal("Logs paging does not end")
		}
		p := logs(t, s, q)
		if len(p.Records) == 0 && p.Next != "" {
			t.Fatalf("Logs returned an empty page with Next %q", p.Next)
		}
		out = append(out, p.Records...)
		if p.Next == "" {
			return out
		}
		q.Cursor = p.Next
	}
}

func ids(rs []usage.Record) []string {
	out := make([]string, len(rs))
	for i := range rs {
		out[i] = rs[i].RequestID
	}
	return out
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

// sameMetrics compares counts, tokens and spend (not percentiles).
func sameMetrics(t *testing.T, what string, got, want usage.Metrics) {
	t.Helper()
	if !near(got.Spend, want.Spend) || got.PromptTokens != want.PromptTokens ||
		got.CompletionTokens != want.CompletionTokens || got.TotalTokens != want.TotalTokens ||
		got.CachedTokens != want.CachedTokens || got.Requests != want.Requests ||
		got.Successful != want.Successful || got.Failed != want.Failed {
		t.Errorf("%s metrics:\n got %+v\nwant %+v", what, got, want)
	}
}

// sum is what the metrics of rs must be.
func sum(rs ...usage.Record) usage.Metrics {
	var m usage.Metrics
	for i := range rs {
		r := &rs[i]
		m.Spend += r.Cost
		m.PromptTokens += r.PromptTokens
		m.CompletionTokens += r.CompletionTokens
		m.TotalTokens += r.PromptTokens + r.CompletionTokens
		m.CachedTokens += r.CachedTokens
		m.Requests++
		if r.Success() {
			m.Successful++
		} else {
			m.Failed++
		}
	}
	return m
}

func sameRecord(t *testing.T, got, want usage.Record) {
	t.Helper()
	if !got.Start.Equal(want.Start) || !got.End.Equal(want.End) {
		t.Errorf("%s: times %v..%v, want %v..%v", want.RequestID, got.Start, got.End, want.Start, want.End)
	}
	if got.Start.Location() != time.UTC {
		t.Errorf("%s: Start in %v, want UTC", want.RequestID, got.Start.Location())
	}
	if !jsonEqual(got.Metadata, want.Metadata) {
		t.Errorf("%s: metadata %s, want %s", want.RequestID, got.Metadata, want.Metadata)
	}
	if len(got.Tags) != len(want.Tags) || (len(want.Tags) > 0 && !slices.Equal(got.Tags, want.Tags)) {
		t.Errorf("%s: tags %q, want %q", want.RequestID, got.Tags, want.Tags)
	}
	g, w := got, want
	g.Start, g.End, g.Metadata, g.Tags = time.Time{}, time.Time{}, nil, nil
	w.Start, w.End, w.Metadata, w.Tags = time.Time{}, time.Time{}, nil, nil
	if !reflect.DeepEqual(g, w) {
		t.Errorf("record:\n got %+v\nwant %+v", g, w)
	}
}

func jsonEqual(a, b json.RawMessage) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b) || string(a) == "null" || string(b) == "null"
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func testRoundTrip(t *testing.T, s usage.Store) {
	r := rec("req-full", Day0.Add(9*time.Hour+123456*time.Microsecond))
	r.KeyUserID = "user-1"
	r.User = "body-user"
	r.EndUser = "end-user"
	r.ModelGroup = "gpt-4o-group"
	r.Status = 429
	r.ErrorType = "rate_limit_error"
	r.CachedTokens = 3
	r.Cost = 0.125
	r.Latency = 250*time.Millisecond + 7*time.Microsecond
	r.TTFT = 90 * time.Millisecond
	r.Stream = true
	r.Retries = 2
	r.Fallbacks = 1
	r.Tags = []string{"prod", "billing"}
	r.Metadata = json.RawMessage(`{"project":"x","n":1,"nested":{"a":[1,2]}}`)
	plain := rec("req-plain", Day0.Add(8*time.Hour))
	write(t, s, r, plain)

	p := logs(t, s, usage.LogQuery{})
	if got := ids(p.Records); !slices.Equal(got, []string{"req-full", "req-plain"}) {
		t.Fatalf("Logs = %q, want newest first [req-full req-plain]", got)
	}
	if p.Next != "" {
		t.Errorf("Next = %q on the only page", p.Next)
	}
	sameRecord(t, p.Records[0], r)
	sameRecord(t, p.Records[1], plain)
}

func testEmptyBatch(t *testing.T, s usage.Store) {
	write(t, s)
	if p := logs(t, s, usage.LogQuery{}); len(p.Records) != 0 || p.Next != "" {
		t.Fatalf("empty store Logs = %d records, Next %q", len(p.Records), p.Next)
	}
	a, err := s.Activity(ctx(t), usage.ActivityQuery{TeamID: "team-a", From: Day0, To: Day0.AddDate(0, 0, 30)})
	if err != nil || len(a.Results) != 0 || a.Metadata.Requests != 0 {
		t.Fatalf("empty store Activity = %+v, %v", a, err)
	}
	rep, err := s.Report(ctx(t), usage.ReportQuery{GroupBy: usage.ByModel, From: Day0, To: Day0})
	if err != nil || len(rep) != 0 {
		t.Fatalf("empty store Report = %+v, %v", rep, err)
	}
	m, err := s.Totals(ctx(t), usage.TotalsQuery{TeamID: "team-a"})
	if err != nil || m.Requests != 0 || m.Spend != 0 {
		t.Fatalf("empty store Totals = %+v, %v", m, err)
	}
	n, err := s.Prune(ctx(t), Day0)
	if err != nil || n != 0 {
		t.Fatalf("empty store Prune = %d, %v", n, err)
	}
}

func testIdempotent(t *testing.T, s usage.Store) {
	a := rec("req-1", Day0.Add(time.Hour))
	b := rec("req-2", Day0.Add(2*time.Hour))
	// Same id, another start: another record (a client reusing an id).
	c := rec("req-1", Day0.Add(3*time.Hour))
	write(t, s, a, b, a) // a duplicate within the batch
	write(t, s, a, b, a) // the same batch again (the Writer's retry after a failure it could not see through)
	write(t, s, c)
	got := allLogs(t, s, usage.LogQuery{})
	if len(got) != 3 {
		t.Fatalf("Logs = %q, want 3 records", ids(got))
	}
	want := sum(a, b, c)
	m, err := s.Totals(ctx(t), usage.TotalsQuery{TeamID: "team-a"})
	if err != nil {
		t.Fatal(err)
	}
	sameMetrics(t, "Totals after re-writes", m, want)
	act, err := s.Activity(ctx(t), usage.ActivityQuery{TeamID: "team-a", From: Day0, To: Day0})
	if err != nil {
		t.Fatal(err)
	}
	sameMetrics(t, "Activity after re-writes", act.Metadata, want)
	rep, err := s.Report(ctx(t), usage.ReportQuery{GroupBy: usage.ByKey, From: Day0, To: Day0})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep) != 1 || len(rep[0].Groups) != 1 {
		t.Fatalf("Report = %+v", rep)
	}
	sameMetrics(t, "Report after re-writes", rep[0].Groups[0].Metrics, want)
}

// fixture is a small mixed set of records over three days and two teams.
func fixture() []usage.Record {
	var rs []usage.Record
	add := func(id string, day, hour int, f func(r *usage.Record)) {
		r := rec(id, Day0.AddDate(0, 0, day).Add(time.Duration(hour)*time.Hour))
		if f != nil {
			f(&r)
		}
		rs = append(rs, r)
	}
	add("a1", 0, 1, nil)
	add("a2", 0, 2, func(r *usage.Record) { r.Status = 500; r.ErrorType = "api_error"; r.Cost = 0 })
	add("a3", 0, 3, func(r *usage.Record) {
		r.KeyID, r.KeyAlias, r.KeyUserID = "key-a2", "alias-a2", "alice"
		r.Model, r.ModelGroup, r.Cost = "claude", "claude", 0.5
		r.Tags = []string{"prod"}
	})
	add("a4", 1, 4, func(r *usage.Record) {
		r.User = "bob" // no key user: the body's user
		r.Tags = []string{"prod", "batch"}
	})
	add("a5", 1, 5, func(r *usage.Record) {
		r.KeyID, r.KeyUserID = "key-a2", "alice"
		r.Model, r.ModelGroup = "fast", "claude" // an alias served by claude
		r.Status, r.ErrorType = 400, "invalid_request_error"
		r.Cost = 0
	})
	add("a6", 2, 6, func(r *usage.Record) { r.KeyUserID, r.User = "alice", "ignored-body-user" })
	add("b1", 0, 1, func(r *usage.Record) {
		r.TeamID, r.KeyID, r.KeyAlias, r.KeyUserID = "team-b", "key-b1", "alias-b1", "alice"
		r.Cost, r.PromptTokens = 1, 100
		r.Tags = []string{"prod"}
	})
	add("b2", 1, 2, func(r *usage.Record) {
		r.TeamID, r.KeyID, r.KeyAlias = "team-b", "key-b1", "alias-b1"
		r.Model, r.ModelGroup = "claude", "claude"
		r.Cost = 2
	})
	add("n1", 2, 7, func(r *usage.Record) { r.TeamID, r.KeyID, r.KeyAlias = "", "master", "" })
	return rs
}

func pick(rs []usage.Record, names ...string) []usage.Record {
	var out []usage.Record
	for _, r := range rs {
		if slices.Contains(names, r.RequestID) {
			out = append(out, r)
		}
	}
	return out
}

// newestFirst sorts ids as Logs orders them.
func newestFirst(rs []usage.Record) []string {
	rs = slices.Clone(rs)
	sort.Slice(rs, func(i, j int) bool {
		if !rs[i].Start.Equal(rs[j].Start) {
			return rs[i].Start.After(rs[j].Start)
		}
		return rs[i].RequestID > rs[j].RequestID
	})
	return ids(rs)
}

func testLogsFilters(t *testing.T, s usage.Store) {
	rs := fixture()
	write(t, s, rs...)
	for _, c := range []struct {
		name string
		q    usage.LogQuery
		want []string
	}{
		{"all", usage.LogQuery{}, []string{"a1", "a2", "a3", "a4", "a5", "a6", "b1", "b2", "n1"}},
		{"team", usage.LogQuery{TeamID: "team-a"}, []string{"a1", "a2", "a3", "a4", "a5", "a6"}},
		{"key", usage.LogQuery{KeyID: "key-a2"}, []string{"a3", "a5"}},
		{"user: key user", usage.LogQuery{UserID: "alice"}, []string{"a3", "a5", "a6", "b1"}},
		{"user: body user", usage.LogQuery{UserID: "bob"}, []string{"a4"}},
		{"user: body user shadowed by key user", usage.LogQuery{UserID: "ignored-body-user"}, nil},
		{"request id", usage.LogQuery{RequestID: "b2"}, []string{"b2"}},
		{"model group", usage.LogQuery{Model: "claude"}, []string{"a3", "a5", "b2"}},
		{"model", usage.LogQuery{Model: "gpt-4o"}, []string{"a1", "a2", "a4", "a6", "b1", "n1"}},
		{"success", usage.LogQuery{TeamID: "team-a", Status: "success"}, []string{"a1", "a3", "a4", "a6"}},
		{"failure", usage.LogQuery{Status: "failure"}, []string{"a2", "a5"}},
		{"from", usage.LogQuery{From: Day0.AddDate(0, 0, 1)}, []string{"a4", "a5", "a6", "b2", "n1"}},
		{"to is exclusive", usage.LogQuery{To: Day0.Add(2 * time.Hour)}, []string{"a1", "b1"}},
		{"from and to", usage.LogQuery{From: Day0.Add(2 * time.Hour), To: Day0.AddDate(0, 0, 1).Add(4 * time.Hour)}, []string{"a2", "a3", "b2"}},
		{"combined", usage.LogQuery{TeamID: "team-a", KeyID: "key-a2", Status: "failure"}, []string{"a5"}},
		{"nothing", usage.LogQuery{TeamID: "team-z"}, nil},
		{"team and other team's key", usage.LogQuery{TeamID: "team-a", KeyID: "key-b1"}, nil},
	} {
		got := allLogs(t, s, c.q)
		if want := newestFirst(pick(rs, c.want...)); !slices.Equal(ids(got), want) {
			t.Errorf("%s: Logs = %q, want %q", c.name, ids(got), want)
		}
	}
}

func testLogsPaging(t *testing.T, s usage.Store) {
	var rs []usage.Record
	// Ties on Start are broken by RequestID, descending.
	for i := range 7 {
		rs = append(rs, rec(fmt.Sprintf("p%d", i), Day0.Add(time.Duration(i/2)*time.Minute)))
	}
	write(t, s, rs...)
	want := newestFirst(rs)
	for _, limit := range []int{1, 2, 3, 7, 8} {
		var got []string
		q := usage.LogQuery{Limit: limit}
		pages := 0
		for {
			p := logs(t, s, q)
			pages++
			if len(p.Records) > limit {
				t.Fatalf("limit %d: page of %d", limit, len(p.Records))
			}
			got = append(got, ids(p.Records)...)
			if p.Next == "" {
				break
			}
			if len(p.Records) != limit {
				t.Fatalf("limit %d: short page %d with Next", limit, len(p.Records))
			}
			q.Cursor = p.Next
		}
		if !slices.Equal(got, want) {
			t.Errorf("limit %d: pages = %q, want %q", limit, got, want)
		}
		if wantPages := (len(rs) + limit - 1) / limit; pages != wantPages {
			t.Errorf("limit %d: %d pages, want %d (Next must be \"\" exactly when nothing is left)", limit, pages, wantPages)
		}
	}

	// A cursor stays valid while records are written: newer ones do not
	// shift the pages after it, older ones appear in them.
	p := logs(t, s, usage.LogQuery{Limit: 3})
	write(t, s, rec("newer", Day0.Add(time.Hour)), rec("older", Day0.Add(-time.Hour)))
	rest := allLogs(t, s, usage.LogQuery{Limit: 3, Cursor: p.Next})
	if got, want := ids(rest), append(slices.Clone(want[3:]), "older"); !slices.Equal(got, want) {
		t.Errorf("after concurrent writes: %q, want %q", got, want)
	}
	// A cursor with filters pages within them.
	q := usage.LogQuery{Limit: 2, Status: "success", TeamID: "team-a"}
	if got := allLogs(t, s, q); len(got) != 9 {
		t.Errorf("filtered paging: %d records, want 9", len(got))
	}
}

func testLogsLimit(t *testing.T, s usage.Store) {
	var rs []usage.Record
	for i := range 1005 {
		rs = append(rs, rec(fmt.Sprintf("l%04d", i), Day0.Add(time.Duration(i)*time.Second)))
	}
	write(t, s, rs...)
	if p := logs(t, s, usage.LogQuery{}); len(p.Records) != 100 || p.Next == "" {
		t.Errorf("default limit: %d records, Next %q; want 100 and a cursor", len(p.Records), p.Next)
	}
	if p := logs(t, s, usage.LogQuery{Limit: 5000}); len(p.Records) != 1000 || p.Next == "" {
		t.Errorf("limit 5000: %d records; want at most 1000 and a cursor", len(p.Records))
	}
	if p := logs(t, s, usage.LogQuery{Limit: -1}); len(p.Records) != 100 {
		t.Errorf("limit -1: %d records; want the default 100", len(p.Records))
	}
}

func testLogsBadInput(t *testing.T, s usage.Store) {
	write(t, s, fixture()...)
	for _, c := range []string{
		"garbage", "' OR 1=1 --", "AQ", "x'); DROP TABLE usage_rows; --",
		strings.Repeat("A", 4096), "\x00\xff", usage.EncodeCursor(Day0, "a")[:3],
	} {
		_, err := s.Logs(ctx(t), usage.LogQuery{Cursor: c})
		if !errors.Is(err, usage.ErrBadQuery) {
			t.Errorf("cursor %.20q: err = %v, want one wrapping usage.ErrBadQuery", c, err)
		}
	}
	if _, err := s.Logs(ctx(t), usage.LogQuery{Status: "maybe"}); !errors.Is(err, usage.ErrBadQuery) {
		t.Errorf("status maybe: err = %v, want one wrapping usage.ErrBadQuery", err)
	}
	// Still answers after the bad ones, everything intact.
	if got := allLogs(t, s, usage.LogQuery{}); len(got) != len(fixture()) {
		t.Errorf("after bad input: %d records, want %d", len(got), len(fixture()))
	}
}

func testTeamIsolation(t *testing.T, s usage.Store) {
	rs := fixture()
	write(t, s, rs...)
	for _, r := range allLogs(t, s, usage.LogQuery{TeamID: "team-b", Limit: 1}) {
		if r.TeamID != "team-b" {
			t.Errorf("team-b Logs returned %s of %q", r.RequestID, r.TeamID)
		}
	}
	// A user in two teams: the team filter keeps to one.
	for _, r := range allLogs(t, s, usage.LogQuery{TeamID: "team-b", UserID: "alice"}) {
		if r.TeamID != "team-b" {
			t.Errorf("team-b Logs for alice returned %s of %q", r.RequestID, r.TeamID)
		}
	}
	a, err := s.Activity(ctx(t), usage.ActivityQuery{TeamID: "team-b", From: Day0, To: Day0.AddDate(0, 0, 5)})
	if err != nil {
		t.Fatal(err)
	}
	sameMetrics(t, "team-b Activity", a.Metadata, sum(pick(rs, "b1", "b2")...))
	for _, d := range a.Results {
		for k := range d.Breakdown["api_keys"] {
			if k != "key-b1" {
				t.Errorf("team-b Activity shows key %q", k)
			}
		}
	}
	rep, err := s.Report(ctx(t), usage.ReportQuery{GroupBy: usage.ByKey, TeamID: "team-b", From: Day0, To: Day0.AddDate(0, 0, 5)})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range rep {
		for _, g := range d.Groups {
			if g.Name != "key-b1" {
				t.Errorf("team-b Report shows key %q", g.Name)
			}
		}
	}
	// A team's totals never include a key of another team of that name.
	m, err := s.Totals(ctx(t), usage.TotalsQuery{TeamID: "team-b", KeyID: "key-a1"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Requests != 0 {
		t.Errorf("Totals of team-b's key-a1 = %+v, want nothing (key-a1 is team-a's)", m)
	}
	// The user Activity limited to a team.
	ua, err := s.Activity(ctx(t), usage.ActivityQuery{UserID: "alice", TeamID: "team-b", From: Day0, To: Day0.AddDate(0, 0, 5)})
	if err != nil {
		t.Fatal(err)
	}
	sameMetrics(t, "alice in team-b", ua.Metadata, sum(pick(rs, "b1")...))
}

func day(n int) string { return Day0.AddDate(0, 0, n).Format(time.DateOnly) }

func testActivityTeam(t *testing.T, s usage.Store) {
	rs := fixture()
	write(t, s, rs...)
	a, err := s.Activity(ctx(t), usage.ActivityQuery{TeamID: "team-a", From: Day0, To: Day0.AddDate(0, 0, 2).Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Results) != 3 || a.Results[0].Date != day(0) || a.Results[1].Date != day(1) || a.Results[2].Date != day(2) {
		t.Fatalf("Activity days = %+v, want %s..%s", a.Results, day(0), day(2))
	}
	sameMetrics(t, "totals", a.Metadata, sum(pick(rs, "a1", "a2", "a3", "a4", "a5", "a6")...))
	d0 := a.Results[0]
	sameMetrics(t, "day 0", d0.Metrics, sum(pick(rs, "a1", "a2", "a3")...))
	sameMetrics(t, "day 0 gpt-4o", d0.Breakdown["models"]["gpt-4o"], sum(pick(rs, "a1", "a2")...))
	sameMetrics(t, "day 0 claude", d0.Breakdown["models"]["claude"], sum(pick(rs, "a3")...))
	sameMetrics(t, "day 0 key-a1", d0.Breakdown["api_keys"]["key-a1"], sum(pick(rs, "a1", "a2")...))
	sameMetrics(t, "day 0 key-a2", d0.Breakdown["api_keys"]["key-a2"], sum(pick(rs, "a3")...))
	if len(d0.Breakdown["models"]) != 2 || len(d0.Breakdown["api_keys"]) != 2 {
		t.Errorf("day 0 breakdown = %+v", d0.Breakdown)
	}
	d1 := a.Results[1]
	// a5 asked for "fast" and was served by the claude group.
	sameMetrics(t, "day 1 claude", d1.Breakdown["models"]["claude"], sum(pick(rs, "a5")...))
	if _, ok := d1.Breakdown["models"]["fast"]; ok {
		t.Errorf("day 1 models breakdown has the alias: %+v", d1.Breakdown["models"])
	}
	// The range is of days: To on day 1 includes all of day 1.
	a, err = s.Activity(ctx(t), usage.ActivityQuery{TeamID: "team-a", From: Day0.AddDate(0, 0, 1).Add(23 * time.Hour), To: Day0.AddDate(0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Results) != 1 || a.Results[0].Date != day(1) {
		t.Fatalf("one-day Activity = %+v", a.Results)
	}
	sameMetrics(t, "day 1 alone", a.Metadata, sum(pick(rs, "a4", "a5")...))
	// The team-less calls have no team activity of their own.
	a, err = s.Activity(ctx(t), usage.ActivityQuery{TeamID: "team-z", From: Day0, To: Day0.AddDate(0, 0, 5)})
	if err != nil || len(a.Results) != 0 {
		t.Fatalf("team-z Activity = %+v, %v", a, err)
	}
}

func testActivityUser(t *testing.T, s usage.Store) {
	rs := fixture()
	write(t, s, rs...)
	a, err := s.Activity(ctx(t), usage.ActivityQuery{UserID: "alice", From: Day0, To: Day0.AddDate(0, 0, 6)})
	if err != nil {
		t.Fatal(err)
	}
	sameMetrics(t, "alice totals", a.Metadata, sum(pick(rs, "a3", "a5", "a6", "b1")...))
	if len(a.Results) != 3 {
		t.Fatalf("alice days = %+v", a.Results)
	}
	d0 := a.Results[0]
	sameMetrics(t, "alice day 0", d0.Metrics, sum(pick(rs, "a3", "b1")...))
	sameMetrics(t, "alice day 0 claude", d0.Breakdown["models"]["claude"], sum(pick(rs, "a3")...))
	sameMetrics(t, "alice day 0 gpt-4o", d0.Breakdown["models"]["gpt-4o"], sum(pick(rs, "b1")...))
	sameMetrics(t, "alice day 0 key-a2", d0.Breakdown["api_keys"]["key-a2"], sum(pick(rs, "a3")...))
	sameMetrics(t, "alice day 0 key-b1", d0.Breakdown["api_keys"]["key-b1"], sum(pick(rs, "b1")...))
	b, err := s.Activity(ctx(t), usage.ActivityQuery{UserID: "bob", From: Day0, To: Day0.AddDate(0, 0, 6)})
	if err != nil {
		t.Fatal(err)
	}
	sameMetrics(t, "bob", b.Metadata, sum(pick(rs, "a4")...))
}

func testActivityModelFilter(t *testing.T, s usage.Store) {
	rs := fixture()
	write(t, s, rs...)
	a, err := s.Activity(ctx(t), usage.ActivityQuery{TeamID: "team-a", Model: "claude", From: Day0, To: Day0.AddDate(0, 0, 6)})
	if err != nil {
		t.Fatal(err)
	}
	sameMetrics(t, "team-a claude", a.Metadata, sum(pick(rs, "a3", "a5")...))
	for _, d := range a.Results {
		if len(d.Breakdown["models"]) != 1 {
			t.Errorf("%s: models breakdown %+v, want only claude", d.Date, d.Breakdown["models"])
		}
	}
	if len(a.Results) != 2 {
		t.Fatalf("days = %+v", a.Results)
	}
	sameMetrics(t, "team-a claude day 1 key-a2", a.Results[1].Breakdown["api_keys"]["key-a2"], sum(pick(rs, "a5")...))
	if len(a.Results[1].Breakdown["api_keys"]) != 1 {
		t.Errorf("api_keys with the model filter: %+v", a.Results[1].Breakdown["api_keys"])
	}
	u, err := s.Activity(ctx(t), usage.ActivityQuery{UserID: "alice", Model: "gpt-4o", From: Day0, To: Day0.AddDate(0, 0, 6)})
	if err != nil {
		t.Fatal(err)
	}
	sameMetrics(t, "alice gpt-4o", u.Metadata, sum(pick(rs, "a6", "b1")...))
	for _, d := range u.Results {
		for k, m := range d.Breakdown["api_keys"] {
			if k == "key-a2" {
				t.Errorf("alice gpt-4o %s: key-a2 (only claude calls) in api_keys: %+v", d.Date, m)
			}
		}
	}
}

func testActivityBadQuery(t *testing.T, s usage.Store) {
	_, err := s.Activity(ctx(t), usage.ActivityQuery{From: Day0, To: Day0})
	if !errors.Is(err, usage.ErrBadQuery) {
		t.Errorf("Activity without team or user: err = %v, want usage.ErrBadQuery", err)
	}
}

func group(t *testing.T, rep []usage.ReportDay, date, name string) (usage.Metrics, bool) {
	t.Helper()
	for _, d := range rep {
		if d.Day != date {
			continue
		}
		for _, g := range d.Groups {
			if g.Name == name {
				return g.Metrics, true
			}
		}
	}
	return usage.Metrics{}, false
}

func testReportGroups(t *testing.T, s usage.Store) {
	rs := fixture()
	write(t, s, rs...)
	from, to := Day0, Day0.AddDate(0, 0, 2)
	type want struct {
		day   int
		name  string
		names []string
	}
	for _, c := range []struct {
		by     usage.Dimension
		groups []want
		days   []int // number of groups per day
	}{
		{usage.ByTeam, []want{{0, "team-a", []string{"a1", "a2", "a3"}}, {0, "team-b", []string{"b1"}}, {1, "team-b", []string{"b2"}}, {2, "", []string{"n1"}}}, []int{2, 2, 2}},
		{usage.ByKey, []want{{0, "key-a1", []string{"a1", "a2"}}, {1, "key-a2", []string{"a5"}}, {2, "master", []string{"n1"}}}, []int{3, 3, 2}},
		{usage.ByModel, []want{{0, "claude", []string{"a3"}}, {1, "claude", []string{"a5", "b2"}}, {1, "gpt-4o", []string{"a4"}}}, []int{2, 2, 1}},
		{usage.ByUser, []want{{0, "alice", []string{"a3", "b1"}}, {0, "", []string{"a1", "a2"}}, {1, "bob", []string{"a4"}}, {2, "alice", []string{"a6"}}}, []int{2, 3, 2}},
		{usage.ByTag, []want{{0, "prod", []string{"a3", "b1"}}, {1, "prod", []string{"a4"}}, {1, "batch", []string{"a4"}}}, []int{1, 2, 0}},
	} {
		rep, err := s.Report(ctx(t), usage.ReportQuery{GroupBy: c.by, From: from, To: to})
		if err != nil {
			t.Fatalf("Report by %s: %v", c.by, err)
		}
		for _, w := range c.groups {
			m, ok := group(t, rep, day(w.day), w.name)
			if !ok {
				t.Errorf("Report by %s: no group %q on %s: %+v", c.by, w.name, day(w.day), rep)
				continue
			}
			sameMetrics(t, fmt.Sprintf("by %s %s %q", c.by, day(w.day), w.name), m, sum(pick(rs, w.names...)...))
		}
		var gotDays []string
		for i, d := range rep {
			gotDays = append(gotDays, d.Day)
			if !slices.IsSortedFunc(d.Groups, func(a, b usage.ReportGroup) int { return strings.Compare(a.Name, b.Name) }) {
				t.Errorf("Report by %s %s: groups not sorted by name", c.by, d.Day)
			}
			if i > 0 && rep[i-1].Day >= d.Day {
				t.Errorf("Report by %s: days not ascending: %s then %s", c.by, rep[i-1].Day, d.Day)
			}
		}
		var wantDays []string
		for i, n := range c.days {
			if n > 0 {
				wantDays = append(wantDays, day(i))
			}
			for _, d := range rep {
				if d.Day == day(i) && len(d.Groups) != n {
					t.Errorf("Report by %s %s: %d groups, want %d: %+v", c.by, d.Day, len(d.Groups), n, d.Groups)
				}
			}
		}
		if !slices.Equal(gotDays, wantDays) {
			t.Errorf("Report by %s: days %q, want %q", c.by, gotDays, wantDays)
		}
		// Every call counts once per day in the team, key, model and user
		// reports.
		if c.by != usage.ByTag {
			var total usage.Metrics
			for _, d := range rep {
				for _, g := range d.Groups {
					total.Requests += g.Metrics.Requests
				}
			}
			if total.Requests != int64(len(rs)) {
				t.Errorf("Report by %s counts %d calls, want %d", c.by, total.Requests, len(rs))
			}
		}
	}
	// The range is of days, inclusive.
	rep, err := s.Report(ctx(t), usage.ReportQuery{GroupBy: usage.ByTeam, From: Day0.AddDate(0, 0, 1).Add(12 * time.Hour), To: Day0.AddDate(0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep) != 1 || rep[0].Day != day(1) {
		t.Errorf("one-day Report = %+v", rep)
	}
}

func testReportTeamFilter(t *testing.T, s usage.Store) {
	rs := fixture()
	write(t, s, rs...)
	rep, err := s.Report(ctx(t), usage.ReportQuery{GroupBy: usage.ByModel, TeamID: "team-a", From: Day0, To: Day0.AddDate(0, 0, 2)})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := group(t, rep, day(1), "claude")
	sameMetrics(t, "team-a claude day 1", m, sum(pick(rs, "a5")...))
	rep, err = s.Report(ctx(t), usage.ReportQuery{GroupBy: usage.ByTag, TeamID: "team-b", From: Day0, To: Day0.AddDate(0, 0, 2)})
	if err != nil {
		t.Fatal(err)
	}
	m, _ = group(t, rep, day(0), "prod")
	sameMetrics(t, "team-b prod", m, sum(pick(rs, "b1")...))
	if len(rep) != 1 {
		t.Errorf("team-b tags: %+v", rep)
	}
}

func testReportBadGroup(t *testing.T, s usage.Store) {
	for _, by := range []usage.Dimension{"", "nonsense", "team; DROP TABLE x"} {
		_, err := s.Report(ctx(t), usage.ReportQuery{GroupBy: by, From: Day0, To: Day0})
		if !errors.Is(err, usage.ErrBadQuery) {
			t.Errorf("Report by %q: err = %v, want usage.ErrBadQuery", by, err)
		}
	}
}

func testTotals(t *testing.T, s usage.Store) {
	rs := fixture()
	write(t, s, rs...)
	for _, c := range []struct {
		q    usage.TotalsQuery
		want []string
	}{
		{usage.TotalsQuery{TeamID: "team-a"}, []string{"a1", "a2", "a3", "a4", "a5", "a6"}},
		{usage.TotalsQuery{KeyID: "key-a2"}, []string{"a3", "a5"}},
		{usage.TotalsQuery{TeamID: "team-a", KeyID: "key-a2"}, []string{"a3", "a5"}},
		{usage.TotalsQuery{}, []string{"a1", "a2", "a3", "a4", "a5", "a6", "b1", "b2", "n1"}},
		{usage.TotalsQuery{TeamID: "team-a", Since: Day0.Add(3 * time.Hour)}, []string{"a3", "a4", "a5", "a6"}},
		// Since rounds down to its hour.
		{usage.TotalsQuery{TeamID: "team-a", Since: Day0.Add(3*time.Hour + 30*time.Minute)}, []string{"a3", "a4", "a5", "a6"}},
		{usage.TotalsQuery{KeyID: "key-b1", Since: Day0.AddDate(0, 0, 1)}, []string{"b2"}},
		{usage.TotalsQuery{TeamID: "team-a", Since: Day0.AddDate(0, 0, 3)}, nil},
		{usage.TotalsQuery{TeamID: "nobody"}, nil},
	} {
		m, err := s.Totals(ctx(t), c.q)
		if err != nil {
			t.Fatalf("Totals(%+v): %v", c.q, err)
		}
		sameMetrics(t, fmt.Sprintf("Totals(%+v)", c.q), m, sum(pick(rs, c.want...)...))
	}
}

func testPrune(t *testing.T, s usage.Store) {
	var rs []usage.Record
	for d := range 5 {
		for h := range 3 {
			rs = append(rs, rec(fmt.Sprintf("d%dh%d", d, h), Day0.AddDate(0, 0, d).Add(time.Duration(h)*time.Hour)))
		}
	}
	write(t, s, rs...)
	before := Day0.AddDate(0, 0, 2)
	n, err := s.Prune(ctx(t), before)
	if err != nil {
		t.Fatal(err)
	}
	if n != 6 {
		t.Errorf("Prune deleted %d records, want 6", n)
	}
	got := allLogs(t, s, usage.LogQuery{})
	if len(got) != 9 {
		t.Fatalf("after Prune: %d records, want 9", len(got))
	}
	for _, r := range got {
		if r.End.Before(before) {
			t.Errorf("after Prune: %s ended %v", r.RequestID, r.End)
		}
	}
	rep, err := s.Report(ctx(t), usage.ReportQuery{GroupBy: usage.ByTeam, From: Day0, To: Day0.AddDate(0, 0, 10)})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep) != 3 || rep[0].Day != day(2) {
		t.Errorf("after Prune, Report days = %+v, want from %s", rep, day(2))
	}
	m, err := s.Totals(ctx(t), usage.TotalsQuery{TeamID: "team-a"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Requests != 9 {
		t.Errorf("after Prune, Totals = %d calls, want 9", m.Requests)
	}
	if n, err := s.Prune(ctx(t), before); err != nil || n != 0 {
		t.Errorf("second Prune = %d, %v; want 0", n, err)
	}
	// Pruning mid-day keeps that day's rollup (its bucket has not ended)
	// and the records that ended after it.
	n, err = s.Prune(ctx(t), Day0.AddDate(0, 0, 2).Add(30*time.Minute))
	if err != nil || n != 1 {
		t.Errorf("mid-day Prune = %d, %v; want 1", n, err)
	}
	rep, err = s.Report(ctx(t), usage.ReportQuery{GroupBy: usage.ByTeam, From: Day0, To: Day0.AddDate(0, 0, 10)})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep) != 3 {
		t.Errorf("after a mid-day Prune, Report days = %+v, want 3", rep)
	}
}

func within(got, want float64) bool { return got >= want/1.25 && got <= want*1.25 }

func testLatency(t *testing.T, s usage.Store) {
	var rs []usage.Record
	// 1..200 ms over two days and two keys: the percentiles come from
	// merged histograms.
	for i := 1; i <= 200; i++ {
		r := rec(fmt.Sprintf("lat%03d", i), Day0.AddDate(0, 0, i%2).Add(time.Duration(i)*time.Second))
		r.Latency = time.Duration(i) * time.Millisecond
		if i%3 == 0 {
			r.KeyID = "key-a2"
		}
		rs = append(rs, r)
	}
	write(t, s, rs...)
	a, err := s.Activity(ctx(t), usage.ActivityQuery{TeamID: "team-a", From: Day0, To: Day0.AddDate(0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	if p50, p95 := a.Metadata.LatencyP50Ms, a.Metadata.LatencyP95Ms; !within(p50, 100) || !within(p95, 190) {
		t.Errorf("range p50/p95 = %v/%v ms, want about 100/190", p50, p95)
	}
	for _, d := range a.Results {
		if !within(d.Metrics.LatencyP50Ms, 100) || !within(d.Metrics.LatencyP95Ms, 190) {
			t.Errorf("%s p50/p95 = %v/%v ms, want about 100/190", d.Date, d.Metrics.LatencyP50Ms, d.Metrics.LatencyP95Ms)
		}
		if m := d.Breakdown["models"]["gpt-4o"]; !within(m.LatencyP50Ms, 100) {
			t.Errorf("%s gpt-4o p50 = %v, want about 100", d.Date, m.LatencyP50Ms)
		}
	}
	rep, err := s.Report(ctx(t), usage.ReportQuery{GroupBy: usage.ByKey, From: Day0, To: Day0})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := group(t, rep, day(0), "key-a1")
	if !within(m.LatencyP50Ms, 100) || !within(m.LatencyP95Ms, 190) {
		t.Errorf("report key-a1 p50/p95 = %v/%v, want about 100/190", m.LatencyP50Ms, m.LatencyP95Ms)
	}
	tot, err := s.Totals(ctx(t), usage.TotalsQuery{TeamID: "team-a"})
	if err != nil {
		t.Fatal(err)
	}
	if !within(tot.LatencyP50Ms, 100) || !within(tot.LatencyP95Ms, 190) {
		t.Errorf("Totals p50/p95 = %v/%v, want about 100/190", tot.LatencyP50Ms, tot.LatencyP95Ms)
	}
	// One very slow call and one instant one stay in range.
	slow := rec("slow", Day0.AddDate(0, 0, 3))
	slow.Latency = 30 * time.Minute
	fast := rec("fast", Day0.AddDate(0, 0, 3).Add(time.Second))
	fast.Latency = 0
	write(t, s, slow, fast)
	a, err = s.Activity(ctx(t), usage.ActivityQuery{TeamID: "team-a", From: Day0.AddDate(0, 0, 3), To: Day0.AddDate(0, 0, 3)})
	if err != nil {
		t.Fatal(err)
	}
	if p := a.Metadata.LatencyP95Ms; p < 60_000 || math.IsInf(p, 0) || math.IsNaN(p) {
		t.Errorf("p95 with a 30-minute call = %v ms", p)
	}
}

func testBounds(t *testing.T, s usage.Store) {
	r := rec("bounds", Day0)
	for i := range usage.MaxTags + 10 {
		r.Tags = append(r.Tags, fmt.Sprintf("t%02d", i), fmt.Sprintf("t%02d", i), "")
	}
	r.Metadata = json.RawMessage(`{"big":"` + strings.Repeat("x", usage.MaxMetadata) + `"}`)
	notObject := rec("not-object", Day0.Add(time.Second))
	notObject.Metadata = json.RawMessage(`[1,2`)
	write(t, s, r, notObject)
	got := allLogs(t, s, usage.LogQuery{RequestID: "bounds"})
	if len(got) != 1 {
		t.Fatalf("bounds record: %d", len(got))
	}
	if len(got[0].Tags) != usage.MaxTags || got[0].Tags[0] != "t00" || got[0].Tags[1] != "t01" {
		t.Errorf("tags kept = %q, want the first %d distinct", got[0].Tags, usage.MaxTags)
	}
	if !jsonEqual(got[0].Metadata, json.RawMessage(`{"truncated":true}`)) {
		t.Errorf("oversized metadata kept as %.80s", got[0].Metadata)
	}
	got = allLogs(t, s, usage.LogQuery{RequestID: "not-object"})
	if len(got) != 1 || !jsonEqual(got[0].Metadata, json.RawMessage(`{"truncated":true}`)) {
		t.Errorf("invalid metadata kept as %+v", got)
	}
	rep, err := s.Report(ctx(t), usage.ReportQuery{GroupBy: usage.ByTag, From: Day0, To: Day0})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep) != 1 || len(rep[0].Groups) != usage.MaxTags {
		t.Errorf("tag report: %d days, want 1 with %d tags", len(rep), usage.MaxTags)
	}
}

func testConcurrent(t *testing.T, s usage.Store) {
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for b := range 5 {
				var batch []usage.Record
				for i := range 20 {
					batch = append(batch, rec(fmt.Sprintf("g%d-b%d-%d", g, b, i), Day0.Add(time.Duration(g*1000+b*20+i)*time.Second)))
				}
				if err := s.Write(context.Background(), batch); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent Write: %v", err)
	}
	m, err := s.Totals(ctx(t), usage.TotalsQuery{TeamID: "team-a"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Requests != 800 {
		t.Errorf("after concurrent writes: %d calls, want 800", m.Requests)
	}
	if got := allLogs(t, s, usage.LogQuery{Limit: 1000}); len(got) != 800 {
		t.Errorf("Logs after concurrent writes: %d, want 800", len(got))
	}
}

// testHostile stores values that would break a store building SQL or
// JSON by hand.
func testHostile(t *testing.T, s usage.Store) {
	// No NUL byte: PostgreSQL text cannot hold one.
	evil := `x'); DROP TABLE usage_rows; --"\` + "\n\u2028ü"
	r := rec(evil, Day0)
	r.TeamID, r.KeyID, r.KeyUserID, r.Model, r.ModelGroup = evil, evil, evil, evil, evil
	r.Tags = []string{evil, "%", "_"}
	md, err := json.Marshal(map[string]string{"k": evil})
	if err != nil {
		t.Fatal(err)
	}
	r.Metadata = md
	other := rec("other", Day0.Add(time.Second))
	write(t, s, r, other)
	got := allLogs(t, s, usage.LogQuery{TeamID: evil, KeyID: evil, UserID: evil, Model: evil, RequestID: evil})
	if len(got) != 1 {
		t.Fatalf("hostile filters: %d records, want 1", len(got))
	}
	sameRecord(t, got[0], r)
	// LIKE wildcards are not wildcards.
	if got := allLogs(t, s, usage.LogQuery{TeamID: "%"}); len(got) != 0 {
		t.Errorf("TeamID %%: %d records", len(got))
	}
	rep, err := s.Report(ctx(t), usage.ReportQuery{GroupBy: usage.ByTag, TeamID: evil, From: Day0, To: Day0})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := group(t, rep, day(0), evil); !ok {
		t.Errorf("hostile tag not reported: %+v", rep)
	}
	if all := allLogs(t, s, usage.LogQuery{}); len(all) != 2 {
		t.Errorf("after hostile strings: %d records, want 2", len(all))
	}
}
