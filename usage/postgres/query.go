package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/llmgateway/gateway/usage"
)

// Logs pages through records, newest first by (start, request id).
// From is inclusive, To exclusive.
func (s *Store) Logs(ctx context.Context, q usage.LogQuery) (usage.LogPage, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if q.TeamID != "" {
		where = append(where, "team_id = "+arg(clean(q.TeamID)))
	}
	if q.KeyID != "" {
		where = append(where, "key_id = "+arg(clean(q.KeyID)))
	}
	if q.UserID != "" { // usage.UserOf
		where = append(where, "coalesce(nullif(key_user_id, ''), user_id) = "+arg(clean(q.UserID)))
	}
	if q.RequestID != "" {
		where = append(where, "request_id = "+arg(clean(q.RequestID)))
	}
	if q.Model != "" { // usage.ModelOf
		where = append(where, "coalesce(nullif(model_group, ''), model) = "+arg(clean(q.Model)))
	}
	switch q.Status {
	case "":
	case "success":
		where = append(where, "status BETWEEN 200 AND 299")
	case "failure":
		where = append(where, "status NOT BETWEEN 200 AND 299")
	default:
		return usage.LogPage{}, fmt.Errorf("%w: status must be \"success\" or \"failure\"", usage.ErrBadQuery)
	}
	if !q.From.IsZero() {
		where = append(where, "start_at >= "+arg(q.From))
	}
	if !q.To.IsZero() {
		where = append(where, "start_at < "+arg(q.To))
	}
	if q.Cursor != "" {
		start, id, err := usage.DecodeCursor(q.Cursor)
		if err != nil {
			return usage.LogPage{}, err
		}
		// The order of the ORDER BY below: start desc, then request id
		// desc in the "C" collation (bytes), as in the sort key.
		where = append(where, "(start_at < "+arg(start)+" OR (start_at = "+arg(start)+" AND request_id COLLATE \"C\" < "+arg(clean(id))+"))")
	}
	sql := `SELECT start_at, request_id, end_at, team_id, key_id, key_alias, key_user_id, user_id, end_user,
		route, model, model_group, deployment_id, provider, status, error_type, prompt_tokens,
		completion_tokens, cached_tokens, cost, latency_us, ttft_us, stream, retries, fallbacks, tags, metadata
		FROM usage_records`
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	sql += " ORDER BY start_at DESC, request_id COLLATE \"C\" DESC LIMIT " + arg(limit+1)
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return usage.LogPage{}, fmt.Errorf("usage store: reading logs: %w", err)
	}
	defer rows.Close()
	page := usage.LogPage{Records: []usage.Record{}}
	for rows.Next() {
		var r usage.Record
		var latUs, ttftUs int64
		var meta *string
		if err := rows.Scan(&r.Start, &r.RequestID, &r.End, &r.TeamID, &r.KeyID, &r.KeyAlias, &r.KeyUserID,
			&r.User, &r.EndUser, &r.Route, &r.Model, &r.ModelGroup, &r.DeploymentID, &r.Provider, &r.Status,
			&r.ErrorType, &r.PromptTokens, &r.CompletionTokens, &r.CachedTokens, &r.Cost, &latUs, &ttftUs,
			&r.Stream, &r.Retries, &r.Fallbacks, &r.Tags, &meta); err != nil {
			return usage.LogPage{}, fmt.Errorf("usage store: reading logs: %w", err)
		}
		r.Start, r.End = r.Start.UTC(), r.End.UTC()
		r.Latency, r.TTFT = time.Duration(latUs)*time.Microsecond, time.Duration(ttftUs)*time.Microsecond
		if len(r.Tags) == 0 {
			r.Tags = nil
		}
		if meta != nil {
			r.Metadata = json.RawMessage(*meta)
		}
		page.Records = append(page.Records, r)
	}
	if err := rows.Err(); err != nil {
		return usage.LogPage{}, fmt.Errorf("usage store: reading logs: %w", err)
	}
	if len(page.Records) > limit {
		page.Records = page.Records[:limit]
		last := page.Records[limit-1]
		page.Next = usage.EncodeCursor(last.Start, last.RequestID)
	}
	return page, nil
}

// rollRow is one rollup row read back.
type rollRow struct {
	bucket time.Time
	value  string
	team   string
	detail string
	agg    usage.Agg
}

// rollQuery selects rollup rows.
type rollQuery struct {
	gran     string
	dim      usage.Dimension
	value    *string // nil: any
	team     *string // nil: any
	from, to time.Time
}

// readRollups reads the rows of q with bucket in [from, to) (zero ends
// unbounded).
func (s *Store) readRollups(ctx context.Context, q rollQuery) ([]rollRow, error) {
	where := []string{"granularity = $1", "dimension = $2"}
	args := []any{q.gran, string(q.dim)}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if q.value != nil {
		where = append(where, "value = "+arg(clean(*q.value)))
	}
	if q.team != nil {
		where = append(where, "team_id = "+arg(clean(*q.team)))
	}
	if !q.from.IsZero() {
		where = append(where, "bucket >= "+arg(q.from))
	}
	if !q.to.IsZero() {
		where = append(where, "bucket < "+arg(q.to))
	}
	rows, err := s.pool.Query(ctx, `SELECT bucket, value, team_id, detail, requests, successful, failed, prompt_tokens,
		completion_tokens, cached_tokens, spend, latency_hist FROM usage_rollups WHERE `+strings.Join(where, " AND "), args...)
	if err != nil {
		return nil, fmt.Errorf("usage store: reading rollups: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (rollRow, error) {
		var r rollRow
		var hist []int64
		err := row.Scan(&r.bucket, &r.value, &r.team, &r.detail, &r.agg.Requests, &r.agg.Successful, &r.agg.Failed,
			&r.agg.PromptTokens, &r.agg.CompletionTokens, &r.agg.CachedTokens, &r.agg.Spend, &hist)
		copy(r.agg.Hist[:], hist)
		r.bucket = r.bucket.UTC()
		return r, err
	})
}

// dayRange is [DayOf(from), DayOf(to)+1 day); zero ends stay unbounded.
func dayRange(from, to time.Time) (time.Time, time.Time) {
	var f, t time.Time
	if !from.IsZero() {
		f = usage.DayOf(from)
	}
	if !to.IsZero() {
		t = usage.DayOf(to).AddDate(0, 0, 1)
	}
	return f, t
}

func sortedDays[V any](m map[time.Time]V) []time.Time {
	out := make([]time.Time, 0, len(m))
	for t := range m {
		out = append(out, t)
	}
	slices.SortFunc(out, time.Time.Compare)
	return out
}

func into(m map[string]*usage.Agg, name string, a *usage.Agg) {
	x := m[name]
	if x == nil {
		x = &usage.Agg{}
		m[name] = x
	}
	x.Merge(a)
}

// Activity is a team's or a user's (or a user's in a team) daily
// activity, from the daily detail rollups; From and To are days,
// inclusive (UTC).
func (s *Store) Activity(ctx context.Context, q usage.ActivityQuery) (usage.Activity, error) {
	rq := rollQuery{gran: "d"}
	rq.from, rq.to = dayRange(q.From, q.To)
	switch {
	case q.UserID != "":
		rq.dim, rq.value = usage.ByUserDetail, &q.UserID
		if q.TeamID != "" {
			rq.team = &q.TeamID
		}
	case q.TeamID != "":
		rq.dim, rq.value, rq.team = usage.ByTeamDetail, &q.TeamID, &q.TeamID
	default:
		return usage.Activity{}, fmt.Errorf("%w: activity needs a team_id or a user_id", usage.ErrBadQuery)
	}
	rows, err := s.readRollups(ctx, rq)
	if err != nil {
		return usage.Activity{}, err
	}
	type dayAcc struct {
		total        usage.Agg
		models, keys map[string]*usage.Agg
	}
	byDay := map[time.Time]*dayAcc{}
	var total usage.Agg
	for i := range rows {
		r := &rows[i]
		key, model, ok := usage.ParseDetail(r.detail)
		if !ok || (q.Model != "" && model != q.Model) {
			continue
		}
		d := byDay[r.bucket]
		if d == nil {
			d = &dayAcc{models: map[string]*usage.Agg{}, keys: map[string]*usage.Agg{}}
			byDay[r.bucket] = d
		}
		d.total.Merge(&r.agg)
		total.Merge(&r.agg)
		into(d.models, model, &r.agg)
		into(d.keys, key, &r.agg)
	}
	out := usage.Activity{Results: []usage.ActivityDay{}, Metadata: total.Metrics()}
	for _, t := range sortedDays(byDay) {
		d := byDay[t]
		ad := usage.ActivityDay{Date: t.Format(time.DateOnly), Metrics: d.total.Metrics(),
			Breakdown: map[string]map[string]usage.Metrics{"models": {}, "api_keys": {}}}
		for n, a := range d.models {
			ad.Breakdown["models"][n] = a.Metrics()
		}
		for n, a := range d.keys {
			ad.Breakdown["api_keys"][n] = a.Metrics()
		}
		out.Results = append(out.Results, ad)
	}
	return out, nil
}

// Report is spend grouped by GroupBy per day, from the daily rollups;
// days ascending, groups by name.
func (s *Store) Report(ctx context.Context, q usage.ReportQuery) ([]usage.ReportDay, error) {
	if !usage.ValidGroupBy(q.GroupBy) {
		return nil, fmt.Errorf("%w: group_by must be team, key, model, user or tag", usage.ErrBadQuery)
	}
	rq := rollQuery{gran: "d", dim: q.GroupBy}
	rq.from, rq.to = dayRange(q.From, q.To)
	if q.TeamID != "" {
		rq.team = &q.TeamID
	}
	rows, err := s.readRollups(ctx, rq)
	if err != nil {
		return nil, err
	}
	byDay := map[time.Time]map[string]*usage.Agg{}
	for i := range rows {
		r := &rows[i]
		g := byDay[r.bucket]
		if g == nil {
			g = map[string]*usage.Agg{}
			byDay[r.bucket] = g
		}
		into(g, r.value, &r.agg)
	}
	out := []usage.ReportDay{}
	for _, t := range sortedDays(byDay) {
		rd := usage.ReportDay{Day: t.Format(time.DateOnly), Groups: []usage.ReportGroup{}}
		for n, a := range byDay[t] {
			rd.Groups = append(rd.Groups, usage.ReportGroup{Name: n, Metrics: a.Metrics()})
		}
		slices.SortFunc(rd.Groups, func(a, b usage.ReportGroup) int { return strings.Compare(a.Name, b.Name) })
		out = append(out, rd)
	}
	return out, nil
}

// Totals sums one key's (else one team's, else every) call since Since
// rounded down to its hour: the hourly rollups up to the next day, then
// the daily ones (so a budget period longer than the hourly rollups'
// retention still sums right).
func (s *Store) Totals(ctx context.Context, q usage.TotalsQuery) (usage.Metrics, error) {
	rq := rollQuery{dim: usage.ByTeam}
	switch {
	case q.KeyID != "":
		rq.dim, rq.value = usage.ByKey, &q.KeyID
		if q.TeamID != "" { // a team asking about a key sees only its own
			rq.team = &q.TeamID
		}
	case q.TeamID != "":
		rq.value = &q.TeamID
	}
	var total usage.Agg
	var dayFrom time.Time
	if !q.Since.IsZero() {
		hourFrom := usage.HourOf(q.Since)
		dayFrom = usage.DayOf(hourFrom)
		if !dayFrom.Equal(hourFrom) {
			dayFrom = dayFrom.AddDate(0, 0, 1)
			hq := rq
			hq.gran, hq.from, hq.to = "h", hourFrom, dayFrom
			rows, err := s.readRollups(ctx, hq)
			if err != nil {
				return usage.Metrics{}, err
			}
			for i := range rows {
				total.Merge(&rows[i].agg)
			}
		}
	}
	rq.gran, rq.from = "d", dayFrom
	rows, err := s.readRollups(ctx, rq)
	if err != nil {
		return usage.Metrics{}, err
	}
	for i := range rows {
		total.Merge(&rows[i].agg)
	}
	return total.Metrics(), nil
}
