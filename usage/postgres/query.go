package postgres

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/llmgateway/gateway/usage"
)

// ErrBadCursor is returned by Logs for a cursor it did not make.
var ErrBadCursor = errors.New("invalid cursor: pass the \"next\" value of the previous page unchanged, or none for the first page")

// encodeCursor makes the opaque cursor after (startNs, requestID).
func encodeCursor(startNs int64, requestID string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("v1:" + strconv.FormatInt(startNs, 10) + ":" + requestID))
}

// parseCursor reads a cursor made by encodeCursor.
func parseCursor(c string) (int64, string, error) {
	if len(c) > 4096 {
		return 0, "", ErrBadCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, "", ErrBadCursor
	}
	rest, ok := strings.CutPrefix(string(b), "v1:")
	if !ok {
		return 0, "", ErrBadCursor
	}
	num, id, ok := strings.Cut(rest, ":")
	if !ok {
		return 0, "", ErrBadCursor
	}
	ns, err := strconv.ParseInt(num, 10, 64)
	if err != nil || id != clean(id) {
		return 0, "", ErrBadCursor
	}
	return ns, id, nil
}

// Logs pages through records, newest first, by (start, request id).
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
	if q.UserID != "" {
		where = append(where, "coalesce(nullif(key_user_id, ''), user_id) = "+arg(clean(q.UserID)))
	}
	if q.RequestID != "" {
		where = append(where, "request_id = "+arg(clean(q.RequestID)))
	}
	if q.Model != "" {
		where = append(where, "model = "+arg(clean(q.Model)))
	}
	switch q.Status {
	case "":
	case "success":
		where = append(where, "status BETWEEN 200 AND 299")
	case "failure":
		where = append(where, "status NOT BETWEEN 200 AND 299")
	default:
		return usage.LogPage{}, fmt.Errorf("status %q: use \"success\" or \"failure\"", q.Status)
	}
	if !q.From.IsZero() {
		where = append(where, "start_ns >= "+arg(q.From.UnixNano()))
	}
	if !q.To.IsZero() {
		where = append(where, "start_ns < "+arg(q.To.UnixNano()))
	}
	if q.Cursor != "" {
		ns, id, err := parseCursor(q.Cursor)
		if err != nil {
			return usage.LogPage{}, err
		}
		where = append(where, "(start_ns, request_id) < ("+arg(ns)+", "+arg(id)+")")
	}
	sql := `SELECT start_ns, request_id, end_ns, team_id, key_id, key_alias, key_user_id, user_id, end_user,
		route, model, model_group, deployment_id, provider, status, error_type, prompt_tokens,
		completion_tokens, cached_tokens, cost, latency_ns, ttft_ns, stream, retries, fallbacks, tags, metadata
		FROM usage_records`
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	sql += " ORDER BY start_ns DESC, request_id DESC LIMIT " + arg(limit+1)
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return usage.LogPage{}, fmt.Errorf("usage store: reading logs: %w", err)
	}
	defer rows.Close()
	page := usage.LogPage{Records: []usage.Record{}}
	for rows.Next() {
		var r usage.Record
		var startNs, endNs, latNs, ttftNs int64
		var meta *string
		if err := rows.Scan(&startNs, &r.RequestID, &endNs, &r.TeamID, &r.KeyID, &r.KeyAlias, &r.KeyUserID,
			&r.User, &r.EndUser, &r.Route, &r.Model, &r.ModelGroup, &r.DeploymentID, &r.Provider, &r.Status,
			&r.ErrorType, &r.PromptTokens, &r.CompletionTokens, &r.CachedTokens, &r.Cost, &latNs, &ttftNs,
			&r.Stream, &r.Retries, &r.Fallbacks, &r.Tags, &meta); err != nil {
			return usage.LogPage{}, fmt.Errorf("usage store: reading logs: %w", err)
		}
		r.Start, r.End = time.Unix(0, startNs).UTC(), time.Unix(0, endNs).UTC()
		r.Latency, r.TTFT = time.Duration(latNs), time.Duration(ttftNs)
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
		page.Next = encodeCursor(last.Start.UnixNano(), last.RequestID)
	}
	return page, nil
}

// rollRow is one rollup row read back.
type rollRow struct {
	bucket time.Time
	value  string
	team   string
	m      usage.Metrics
	hist   []int64
}

// readRollups reads the rows of one granularity and dimension with
// bucket in [from, to) (zero: unbounded), value equal to value or (with
// prefix) starting with it, and team (when not "").
func (s *Store) readRollups(ctx context.Context, gran, dim, value string, prefix bool, team string, from, to time.Time) ([]rollRow, error) {
	where := []string{"granularity = $1", "dimension = $2"}
	args := []any{gran, dim}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	switch {
	case value != "" && prefix:
		where = append(where, "starts_with(value, "+arg(value)+")")
	case value != "":
		where = append(where, "value = "+arg(value))
	}
	if team != "" {
		where = append(where, "team_id = "+arg(team))
	}
	if !from.IsZero() {
		where = append(where, "bucket >= "+arg(from))
	}
	if !to.IsZero() {
		where = append(where, "bucket < "+arg(to))
	}
	rows, err := s.pool.Query(ctx, `SELECT bucket, value, team_id, requests, successful, failed, prompt_tokens,
		completion_tokens, cached_tokens, spend, latency_hist FROM usage_rollups WHERE `+strings.Join(where, " AND "), args...)
	if err != nil {
		return nil, fmt.Errorf("usage store: reading rollups: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (rollRow, error) {
		var r rollRow
		err := row.Scan(&r.bucket, &r.value, &r.team, &r.m.Requests, &r.m.Successful, &r.m.Failed,
			&r.m.PromptTokens, &r.m.CompletionTokens, &r.m.CachedTokens, &r.m.Spend, &r.hist)
		r.bucket = r.bucket.UTC()
		return r, err
	})
}

// acc accumulates metrics and a histogram.
type acc struct {
	m    usage.Metrics
	hist []int64
}

func (a *acc) add(r rollRow) {
	a.m.Requests += r.m.Requests
	a.m.Successful += r.m.Successful
	a.m.Failed += r.m.Failed
	a.m.PromptTokens += r.m.PromptTokens
	a.m.CompletionTokens += r.m.CompletionTokens
	a.m.CachedTokens += r.m.CachedTokens
	a.m.Spend += r.m.Spend
	a.hist = addHist(a.hist, r.hist)
}

func (a *acc) metrics() usage.Metrics {
	m := a.m
	m.TotalTokens = m.PromptTokens + m.CompletionTokens
	m.LatencyP50Ms = percentile(a.hist, 0.50)
	m.LatencyP95Ms = percentile(a.hist, 0.95)
	return m
}

// dayRange is [day(from), day(to)+1 day); zero ends stay unbounded.
func dayRange(from, to time.Time) (time.Time, time.Time) {
	var f, t time.Time
	if !from.IsZero() {
		f = day(from)
	}
	if !to.IsZero() {
		t = day(to).AddDate(0, 0, 1)
	}
	return f, t
}

// Activity is a team's or a user's daily activity, from the daily
// rollups; From and To are days, inclusive (UTC).
func (s *Store) Activity(ctx context.Context, q usage.ActivityQuery) (usage.Activity, error) {
	if (q.TeamID == "") == (q.UserID == "") {
		return usage.Activity{}, errors.New("activity: give exactly one of a team id and a user id")
	}
	from, to := dayRange(q.From, q.To)
	model := dimValue(q.Model)
	var days, models, keys []rollRow
	var err error
	// keyName returns the key of a keys-breakdown row ("" to skip it).
	var keyName func(v string) string
	if q.TeamID != "" {
		team := dimValue(q.TeamID)
		if model == "" {
			days, err = s.readRollups(ctx, "d", string(usage.ByTeam), team, false, team, from, to)
		} else {
			days, err = s.readRollups(ctx, "d", string(usage.ByModel), model, false, team, from, to)
		}
		if err == nil {
			models, err = s.readRollups(ctx, "d", string(usage.ByModel), model, false, team, from, to)
		}
		if err == nil && model == "" {
			keys, err = s.readRollups(ctx, "d", string(usage.ByKey), "", false, team, from, to)
			keyName = func(v string) string { return v }
		} else if err == nil {
			keys, err = s.readRollups(ctx, "d", dimKeyModel, "", false, team, from, to)
			keyName = func(v string) string {
				k, m, _ := strings.Cut(v, sep)
				if m != model {
					return ""
				}
				return k
			}
		}
	} else {
		user := dimValue(q.UserID)
		if model == "" {
			days, err = s.readRollups(ctx, "d", string(usage.ByUser), user, false, "", from, to)
		} else {
			days, err = s.readRollups(ctx, "d", dimUserModel, user+sep+model, false, "", from, to)
		}
		if err == nil {
			models, err = s.readRollups(ctx, "d", dimUserModel, user+sep+model, model == "", "", from, to)
			for i := range models {
				models[i].value = strings.TrimPrefix(models[i].value, user+sep)
			}
		}
		if err == nil && model == "" {
			keys, err = s.readRollups(ctx, "d", dimUserKey, user+sep, true, "", from, to)
			keyName = func(v string) string { return strings.TrimPrefix(v, user+sep) }
		} else if err == nil {
			keys, err = s.readRollups(ctx, "d", dimUserKeyModel, user+sep, true, "", from, to)
			keyName = func(v string) string {
				parts := strings.Split(v, sep)
				if len(parts) != 3 || parts[0] != user || parts[2] != model {
					return ""
				}
				return parts[1]
			}
		}
	}
	if err != nil {
		return usage.Activity{}, err
	}
	type dayAcc struct {
		total  acc
		models map[string]*acc
		keys   map[string]*acc
	}
	byDay := map[time.Time]*dayAcc{}
	get := func(t time.Time) *dayAcc {
		d := byDay[t]
		if d == nil {
			d = &dayAcc{models: map[string]*acc{}, keys: map[string]*acc{}}
			byDay[t] = d
		}
		return d
	}
	var total acc
	for _, r := range days {
		if q.UserID != "" && model == "" && r.value != dimValue(q.UserID) {
			continue
		}
		get(r.bucket).total.add(r)
		total.add(r)
	}
	into := func(m map[string]*acc, name string, r rollRow) {
		a := m[name]
		if a == nil {
			a = &acc{}
			m[name] = a
		}
		a.add(r)
	}
	for _, r := range models {
		into(get(r.bucket).models, r.value, r)
	}
	for _, r := range keys {
		if k := keyName(r.value); k != "" {
			into(get(r.bucket).keys, k, r)
		}
	}
	out := usage.Activity{Results: []usage.ActivityDay{}, Metadata: total.metrics()}
	dayKeys := make([]time.Time, 0, len(byDay))
	for t := range byDay {
		dayKeys = append(dayKeys, t)
	}
	slices.SortFunc(dayKeys, time.Time.Compare)
	for _, t := range dayKeys {
		d := byDay[t]
		ad := usage.ActivityDay{Date: t.Format(time.DateOnly), Metrics: d.total.metrics(),
			Breakdown: map[string]map[string]usage.Metrics{"models": {}, "api_keys": {}}}
		for n, a := range d.models {
			ad.Breakdown["models"][n] = a.metrics()
		}
		for n, a := range d.keys {
			ad.Breakdown["api_keys"][n] = a.metrics()
		}
		out.Results = append(out.Results, ad)
	}
	return out, nil
}

// Report is spend grouped by GroupBy per day, from the daily rollups;
// days ascending, groups by spend descending then name.
func (s *Store) Report(ctx context.Context, q usage.ReportQuery) ([]usage.ReportDay, error) {
	switch q.GroupBy {
	case usage.ByTeam, usage.ByKey, usage.ByModel, usage.ByUser, usage.ByTag:
	default:
		return nil, fmt.Errorf("group_by %q: use team, key, model, user or tag", q.GroupBy)
	}
	from, to := dayRange(q.From, q.To)
	rows, err := s.readRollups(ctx, "d", string(q.GroupBy), "", false, dimValue(q.TeamID), from, to)
	if err != nil {
		return nil, err
	}
	byDay := map[time.Time]map[string]*acc{}
	for _, r := range rows {
		g := byDay[r.bucket]
		if g == nil {
			g = map[string]*acc{}
			byDay[r.bucket] = g
		}
		a := g[r.value]
		if a == nil {
			a = &acc{}
			g[r.value] = a
		}
		a.add(r)
	}
	out := []usage.ReportDay{}
	dayKeys := make([]time.Time, 0, len(byDay))
	for t := range byDay {
		dayKeys = append(dayKeys, t)
	}
	slices.SortFunc(dayKeys, time.Time.Compare)
	for _, t := range dayKeys {
		rd := usage.ReportDay{Day: t.Format(time.DateOnly)}
		for n, a := range byDay[t] {
			rd.Groups = append(rd.Groups, usage.ReportGroup{Name: n, Metrics: a.metrics()})
		}
		slices.SortFunc(rd.Groups, func(a, b usage.ReportGroup) int {
			return cmp.Or(cmp.Compare(b.Metrics.Spend, a.Metrics.Spend), cmp.Compare(a.Name, b.Name))
		})
		out = append(out, rd)
	}
	return out, nil
}

// Totals sums one team's or key's calls since Since: the hourly rollups
// up to the next day boundary, then the daily ones (so a budget period
// longer than the hourly rollups' retention still sums right).
func (s *Store) Totals(ctx context.Context, q usage.TotalsQuery) (usage.Metrics, error) {
	dim, value, team := usage.ByTeam, dimValue(q.TeamID), dimValue(q.TeamID)
	if q.KeyID != "" {
		dim, value = usage.ByKey, dimValue(q.KeyID)
	} else if q.TeamID == "" {
		return usage.Metrics{}, errors.New("totals: give a team id or a key id")
	}
	var a acc
	var dayFrom time.Time
	if !q.Since.IsZero() {
		hourFrom := q.Since.UTC().Truncate(time.Hour)
		dayFrom = day(q.Since)
		if !dayFrom.Equal(q.Since.UTC()) {
			dayFrom = dayFrom.AddDate(0, 0, 1)
		}
		if hourFrom.Before(dayFrom) {
			rows, err := s.readRollups(ctx, "h", string(dim), value, false, team, hourFrom, dayFrom)
			if err != nil {
				return usage.Metrics{}, err
			}
			for _, r := range rows {
				a.add(r)
			}
		}
	}
	rows, err := s.readRollups(ctx, "d", string(dim), value, false, team, dayFrom, time.Time{})
	if err != nil {
		return usage.Metrics{}, err
	}
	for _, r := range rows {
		a.add(r)
	}
	return a.metrics(), nil
}
