package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/llmgateway/gateway/usage"
)

func jsonStrings(ss []string) string {
	b, _ := json.Marshal(ss)
	return string(b)
}

// Logs implements usage.Store.
func (s *Store) Logs(ctx context.Context, q usage.LogQuery) (usage.LogPage, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	var where []string
	var args []any
	eq := func(col, v string) {
		if v != "" {
			where = append(where, col+" = ?")
			args = append(args, v)
		}
	}
	eq("team_id", q.TeamID)
	eq("key_id", q.KeyID)
	eq("user_dim", q.UserID)
	eq("request_id", q.RequestID)
	eq("model_dim", q.Model)
	switch q.Status {
	case "":
	case "success":
		where = append(where, "status BETWEEN 200 AND 299")
	case "failure":
		where = append(where, "status NOT BETWEEN 200 AND 299")
	default:
		return usage.LogPage{}, fmt.Errorf(`%w: status must be "success" or "failure"`, usage.ErrBadQuery)
	}
	if !q.From.IsZero() {
		where = append(where, "start_us >= ?")
		args = append(args, q.From.UnixMicro())
	}
	if !q.To.IsZero() {
		where = append(where, "start_us < ?")
		args = append(args, q.To.UnixMicro())
	}
	if q.Cursor != "" {
		at, id, err := usage.DecodeCursor(q.Cursor)
		if err != nil {
			return usage.LogPage{}, err
		}
		where = append(where, "(start_us, request_id) < (?, ?)")
		args = append(args, at.UnixMicro(), id)
	}
	query := "SELECT " + rowCols + " FROM usage_rows"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY start_us DESC, request_id DESC LIMIT ?"
	args = append(args, limit+1)
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return usage.LogPage{}, fmt.Errorf("usage store: logs: %w", err)
	}
	defer rows.Close()
	var page usage.LogPage
	for rows.Next() {
		if len(page.Records) == limit {
			last := &page.Records[limit-1]
			page.Next = usage.EncodeCursor(last.Start, last.RequestID)
			break
		}
		r, err := scanRecord(rows)
		if err != nil {
			return usage.LogPage{}, err
		}
		page.Records = append(page.Records, r)
	}
	if err := rows.Err(); err != nil {
		return usage.LogPage{}, fmt.Errorf("usage store: logs: %w", err)
	}
	return page, nil
}

func scanRecord(rows *sql.Rows) (usage.Record, error) {
	var r usage.Record
	var start, end, latency, ttft, stream, status, retries, fallbacks int64
	var userDim, modelDim string
	var tags, md sql.NullString
	if err := rows.Scan(&start, &r.RequestID, &end, &r.TeamID, &r.KeyID, &r.KeyAlias, &r.KeyUserID,
		&r.User, &r.EndUser, &userDim, &r.Route, &r.Model, &r.ModelGroup, &modelDim,
		&r.DeploymentID, &r.Provider, &status, &r.ErrorType,
		&r.PromptTokens, &r.CompletionTokens, &r.CachedTokens, &r.Cost,
		&latency, &ttft, &stream, &retries, &fallbacks, &tags, &md); err != nil {
		return r, fmt.Errorf("usage store: logs: %w", err)
	}
	r.Start, r.End = time.UnixMicro(start).UTC(), time.UnixMicro(end).UTC()
	r.Latency, r.TTFT = time.Duration(latency)*time.Microsecond, time.Duration(ttft)*time.Microsecond
	r.Stream, r.Status, r.Retries, r.Fallbacks = stream != 0, int(status), int(retries), int(fallbacks)
	if tags.Valid && tags.String != "" {
		if err := json.Unmarshal([]byte(tags.String), &r.Tags); err != nil {
			return r, fmt.Errorf("usage store: logs: record %s has unreadable tags: %w", r.RequestID, err)
		}
	}
	if md.Valid && md.String != "" {
		r.Metadata = json.RawMessage(md.String)
	}
	return r, nil
}

// dayRange is the [first, last] day buckets (unix seconds) of a query.
func dayRange(from, to time.Time) (int64, int64) {
	return usage.DayOf(from).Unix(), usage.DayOf(to).Unix()
}

func dayString(bucket int64) string { return time.Unix(bucket, 0).UTC().Format(time.DateOnly) }

// scanAgg reads the aggCols after the lead destinations.
func scanAgg(rows *sql.Rows, a *usage.Agg, lead ...any) error {
	var hist []byte
	*a = usage.Agg{}
	dst := append(lead, &a.Requests, &a.Successful, &a.Failed, &a.PromptTokens, &a.CompletionTokens,
		&a.CachedTokens, &a.Spend, &hist)
	if err := rows.Scan(dst...); err != nil {
		return err
	}
	return a.Hist.AddEncoded(hist)
}

var aggColList = strings.Join(aggCols, ", ")

// Activity implements usage.Store.
func (s *Store) Activity(ctx context.Context, q usage.ActivityQuery) (usage.Activity, error) {
	out := usage.Activity{Results: []usage.ActivityDay{}}
	var query string
	var args []any
	first, last := dayRange(q.From, q.To)
	switch {
	case q.UserID != "":
		query = `SELECT bucket, detail, ` + aggColList + ` FROM usage_daily WHERE dimension = ? AND value = ? AND bucket BETWEEN ? AND ?`
		args = []any{string(usage.ByUserDetail), q.UserID, first, last}
		if q.TeamID != "" {
			query += ` AND team_id = ?`
			args = append(args, q.TeamID)
		}
	case q.TeamID != "":
		query = `SELECT bucket, detail, ` + aggColList + ` FROM usage_daily WHERE dimension = ? AND value = ? AND team_id = ? AND bucket BETWEEN ? AND ?`
		args = []any{string(usage.ByTeamDetail), q.TeamID, q.TeamID, first, last}
	default:
		return out, fmt.Errorf("%w: daily activity needs a team_id or a user_id", usage.ErrBadQuery)
	}
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return out, fmt.Errorf("usage store: activity: %w", err)
	}
	defer rows.Close()
	type dayAgg struct {
		total  usage.Agg
		models map[string]*usage.Agg
		keys   map[string]*usage.Agg
	}
	byDay := map[int64]*dayAgg{}
	var total usage.Agg
	var a usage.Agg
	for rows.Next() {
		var bucket int64
		var detail string
		if err := scanAgg(rows, &a, &bucket, &detail); err != nil {
			return out, fmt.Errorf("usage store: activity: %w", err)
		}
		key, model, ok := usage.ParseDetail(detail)
		if !ok || (q.Model != "" && model != q.Model) {
			continue
		}
		d := byDay[bucket]
		if d == nil {
			d = &dayAgg{models: map[string]*usage.Agg{}, keys: map[string]*usage.Agg{}}
			byDay[bucket] = d
		}
		d.total.Merge(&a)
		total.Merge(&a)
		merge(d.models, model, &a)
		merge(d.keys, key, &a)
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("usage store: activity: %w", err)
	}
	buckets := make([]int64, 0, len(byDay))
	for b := range byDay {
		buckets = append(buckets, b)
	}
	sort.Slice(buckets, func(i, j int) bool { return buckets[i] < buckets[j] })
	for _, b := range buckets {
		d := byDay[b]
		out.Results = append(out.Results, usage.ActivityDay{
			Date:    dayString(b),
			Metrics: d.total.Metrics(),
			Breakdown: map[string]map[string]usage.Metrics{
				"models":   metricsOf(d.models),
				"api_keys": metricsOf(d.keys),
			},
		})
	}
	out.Metadata = total.Metrics()
	return out, nil
}

func merge(m map[string]*usage.Agg, k string, a *usage.Agg) {
	x := m[k]
	if x == nil {
		x = new(usage.Agg)
		m[k] = x
	}
	x.Merge(a)
}

func metricsOf(m map[string]*usage.Agg) map[string]usage.Metrics {
	out := make(map[string]usage.Metrics, len(m))
	for k, a := range m {
		out[k] = a.Metrics()
	}
	return out
}

// Report implements usage.Store.
func (s *Store) Report(ctx context.Context, q usage.ReportQuery) ([]usage.ReportDay, error) {
	if !usage.ValidGroupBy(q.GroupBy) {
		return nil, fmt.Errorf("%w: group_by must be one of team, key, model, user or tag", usage.ErrBadQuery)
	}
	first, last := dayRange(q.From, q.To)
	dim := q.GroupBy
	if q.TeamID == "" {
		dim, _ = usage.AllTeams(q.GroupBy)
	}
	query := `SELECT bucket, value, ` + aggColList + ` FROM usage_daily WHERE dimension = ? AND bucket BETWEEN ? AND ?`
	args := []any{string(dim), first, last}
	if q.TeamID != "" {
		query += ` AND team_id = ?`
		args = append(args, q.TeamID)
	}
	query += ` ORDER BY bucket, value`
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("usage store: report: %w", err)
	}
	defer rows.Close()
	out := []usage.ReportDay{}
	var a, cur usage.Agg
	var curBucket int64 = math.MinInt64
	var curValue string
	emit := func() {
		if curBucket == math.MinInt64 {
			return
		}
		day := dayString(curBucket)
		if len(out) == 0 || out[len(out)-1].Day != day {
			out = append(out, usage.ReportDay{Day: day})
		}
		d := &out[len(out)-1]
		d.Groups = append(d.Groups, usage.ReportGroup{Name: curValue, Metrics: cur.Metrics()})
	}
	for rows.Next() {
		var bucket int64
		var value string
		if err := scanAgg(rows, &a, &bucket, &value); err != nil {
			return nil, fmt.Errorf("usage store: report: %w", err)
		}
		if bucket != curBucket || value != curValue {
			emit()
			curBucket, curValue, cur = bucket, value, usage.Agg{}
		}
		cur.Merge(&a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("usage store: report: %w", err)
	}
	emit()
	// SQLite's BINARY order is Go's; sort anyway so the contract does not
	// hang on a collation.
	for i := range out {
		g := out[i].Groups
		sort.SliceStable(g, func(a, b int) bool { return g[a].Name < g[b].Name })
	}
	return out, nil
}

// Totals implements usage.Store.
func (s *Store) Totals(ctx context.Context, q usage.TotalsQuery) (usage.Metrics, error) {
	cond, args := `dimension = ?`, []any{string(usage.ByTeam)}
	switch {
	case q.KeyID != "":
		cond, args = `dimension = ? AND value = ?`, []any{string(usage.ByKey), q.KeyID}
		if q.TeamID != "" {
			cond += ` AND team_id = ?`
			args = append(args, q.TeamID)
		}
	case q.TeamID != "":
		cond, args = `dimension = ? AND value = ?`, []any{string(usage.ByTeam), q.TeamID}
	}
	var query string
	var all []any
	if q.Since.IsZero() {
		query = `SELECT ` + aggColList + ` FROM usage_daily WHERE ` + cond
		all = args
	} else {
		// The hours of Since's day from its hour, then whole days.
		hour, nextDay := usage.HourOf(q.Since).Unix(), usage.DayOf(q.Since).AddDate(0, 0, 1).Unix()
		query = `SELECT ` + aggColList + ` FROM usage_hourly WHERE ` + cond + ` AND bucket >= ? AND bucket < ?
			UNION ALL
			SELECT ` + aggColList + ` FROM usage_daily WHERE ` + cond + ` AND bucket >= ?`
		all = append(append(append(append([]any{}, args...), hour, nextDay), args...), nextDay)
	}
	rows, err := s.r.QueryContext(ctx, query, all...)
	if err != nil {
		return usage.Metrics{}, fmt.Errorf("usage store: totals: %w", err)
	}
	defer rows.Close()
	var a, total usage.Agg
	for rows.Next() {
		if err := scanAgg(rows, &a); err != nil {
			return usage.Metrics{}, fmt.Errorf("usage store: totals: %w", err)
		}
		total.Merge(&a)
	}
	if err := rows.Err(); err != nil {
		return usage.Metrics{}, fmt.Errorf("usage store: totals: %w", err)
	}
	return total.Metrics(), nil
}

// Prune implements usage.Store. It deletes in chunks, each its own
// transaction, so Writes go on in between.
func (s *Store) Prune(ctx context.Context, before time.Time) (int64, error) {
	us := before.UnixMicro()
	var total int64
	for {
		n, err := s.pruneStep(ctx, `DELETE FROM usage_rows WHERE rowid IN (
			SELECT rowid FROM usage_rows WHERE start_us < ? AND end_us < ? LIMIT ?)`, us, us, pruneChunk)
		total += n
		if err != nil {
			return total, fmt.Errorf("usage store: prune: %w", err)
		}
		if n < pruneChunk {
			break
		}
	}
	sec := before.Unix()
	for _, st := range []struct {
		table string
		size  int64
	}{{"usage_hourly", 3600}, {"usage_daily", 86400}} {
		if _, err := s.pruneStep(ctx, `DELETE FROM `+st.table+` WHERE bucket <= ?`, sec-st.size); err != nil {
			return total, fmt.Errorf("usage store: prune: %w", err)
		}
	}
	return total, nil
}

func (s *Store) pruneStep(ctx context.Context, query string, args ...any) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, errClosed
	}
	res, err := s.w.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
