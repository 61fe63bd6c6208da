package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/llmgateway/gateway/usage"
)

// Logs implements usage.Store. It reads the chunks that may hold the
// page, newest first (by their latest start), a page of chunks at a
// time, and stops once it holds limit+1 records newer than any record an
// unread chunk can hold. The chunks come from usage_chunk_terms for a
// key, user or model, from the batches' request-id filters for a request
// id, else from a team's or everyone's chunks.
func (s *Store) Logs(ctx context.Context, q usage.LogQuery) (usage.LogPage, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	m, err := newLogMatch(q)
	if err != nil {
		return usage.LogPage{}, err
	}
	p := &logPager{s: s, m: m, limit: limit}
	if kind, _ := drivingTerm(q); kind == 0 && q.RequestID != "" {
		err = p.byRequest(ctx)
	} else {
		err = p.byChunks(ctx)
	}
	if err != nil {
		return usage.LogPage{}, err
	}
	return logPage(p.kept, limit), nil
}

// logPager gathers a Logs page.
type logPager struct {
	s     *Store
	m     *logMatch
	limit int
	kept  []usage.Record // the newest matches, at most limit+1, newest first
}

// full reports whether no record that started at or before startMax can
// enter the page.
func (p *logPager) full(startMax int64) bool {
	return len(p.kept) > p.limit && startMax < p.kept[p.limit].Start.UnixMicro()
}

// read adds a chunk's matching records.
func (p *logPager) read(ctx context.Context, c chunkRef) error {
	if !p.m.mayHold(c.filter) {
		return nil
	}
	recs, err := p.s.chunkRecords(ctx, c.id, c.team)
	if err != nil {
		return err
	}
	n := len(p.kept)
	for i := range recs {
		if p.m.match(&recs[i]) {
			p.kept = append(p.kept, recs[i])
		}
	}
	if len(p.kept) > n {
		slices.SortFunc(p.kept, newestFirst)
		p.kept = p.kept[:min(len(p.kept), p.limit+1)]
	}
	return nil
}

// newest lists rows (id, team, start_max, filter) newest first, a page
// of s.listPage at a time: query ends with a keyset condition on
// (start_max, id) and its two arguments, and LIMIT ?. visit stops the
// listing by returning true.
func (p *logPager) newest(ctx context.Context, query string, args []any, visit func(chunkRef) (bool, error)) error {
	cursorMax, cursorID := int64(math.MaxInt64), int64(math.MaxInt64)
	for {
		page, err := p.s.chunkPage(ctx, query, append(args, cursorMax, cursorID, p.s.listPage)...)
		if err != nil {
			return err
		}
		for _, c := range page {
			if stop, err := visit(c); stop || err != nil {
				return err
			}
		}
		if len(page) < p.s.listPage {
			return nil
		}
		last := page[len(page)-1]
		cursorMax, cursorID = last.startMax, last.id
	}
}

// bounds are the conditions on a table's start_min and start_max columns
// (alias a) that the query's time range and cursor set.
func (p *logPager) bounds(a string) (where []string, args []any) {
	if p.m.from != math.MinInt64 {
		where = append(where, a+".start_max >= ?")
		args = append(args, p.m.from)
	}
	if p.m.upper != math.MaxInt64 {
		where = append(where, a+".start_min < ?")
		args = append(args, p.m.upper)
	}
	return where, args
}

// byChunks reads the chunks of the query's key, user or model (through
// usage_chunk_terms), else of its team, else every chunk.
func (p *logPager) byChunks(ctx context.Context) error {
	q := &p.m.q
	var where []string
	var args []any
	from, order := "usage_chunks c", "c.start_max DESC, c.id DESC"
	keyset := "(c.start_max, c.id) < (?, ?)"
	if kind, v := drivingTerm(*q); kind != 0 {
		from = "usage_chunk_terms t JOIN usage_chunks c ON c.id = t.chunk_id"
		where = append(where, "t.term = ?")
		args = append(args, int64(termHash(kind, v)))
		order, keyset = "t.start_max DESC, t.chunk_id DESC", "(t.start_max, t.chunk_id) < (?, ?)"
	}
	if q.TeamID != "" {
		where = append(where, "c.team_id = ?")
		args = append(args, q.TeamID)
	}
	w, a := p.bounds("c")
	where, args = append(where, w...), append(args, a...)
	query := "SELECT c.id, c.team_id, c.start_max, c.filter FROM " + from + " WHERE " +
		strings.Join(append(where, keyset), " AND ") + " ORDER BY " + order + " LIMIT ?"
	return p.newest(ctx, query, args, func(c chunkRef) (bool, error) {
		if p.full(c.startMax) {
			return true, nil
		}
		return false, p.read(ctx, c)
	})
}

// byRequest reads the chunks of the batches whose request-id filter may
// hold the query's.
func (p *logPager) byRequest(ctx context.Context) error {
	where, args := p.bounds("b")
	query := "SELECT b.id, '', b.start_max, b.filter FROM usage_batches b WHERE " +
		strings.Join(append(where, "(b.start_max, b.id) < (?, ?)"), " AND ") + " ORDER BY b.start_max DESC, b.id DESC LIMIT ?"
	rid := termHash(termRequest, p.m.q.RequestID)
	return p.newest(ctx, query, args, func(b chunkRef) (bool, error) {
		if p.full(b.startMax) {
			return true, nil
		}
		if !mayContain(b.filter, rid) {
			return false, nil
		}
		chunks, err := p.s.batchChunks(ctx, b.id, p.m.q.TeamID)
		if err != nil {
			return false, err
		}
		for _, c := range chunks {
			if err := p.read(ctx, c); err != nil {
				return false, err
			}
		}
		return false, nil
	})
}

// batchChunks are a batch's chunks (a team's only, when team is set).
func (s *Store) batchChunks(ctx context.Context, batchID int64, team string) ([]chunkRef, error) {
	query, args := `SELECT id, team_id, start_max, filter FROM usage_chunks WHERE batch_id = ?`, []any{batchID}
	if team != "" {
		query += ` AND team_id = ?`
		args = append(args, team)
	}
	return s.chunkPage(ctx, query, args...)
}

// drivingTerm is the indexed term (usage_chunk_terms) Logs reads chunks
// by: the key, else the user, else the model; kind 0 for none.
func drivingTerm(q usage.LogQuery) (kind byte, v string) {
	switch {
	case q.KeyID != "":
		return termKey, q.KeyID
	case q.UserID != "":
		return termUser, q.UserID
	case q.Model != "":
		return termModel, q.Model
	}
	return 0, ""
}

// newestFirst is Logs' order: Start descending, then RequestID descending.
func newestFirst(a, b usage.Record) int {
	return cmp.Or(b.Start.Compare(a.Start), strings.Compare(b.RequestID, a.RequestID))
}

func logPage(kept []usage.Record, limit int) usage.LogPage {
	var page usage.LogPage
	if len(kept) > limit {
		kept = kept[:limit]
		last := &kept[limit-1]
		page.Next = usage.EncodeCursor(last.Start, last.RequestID)
	}
	page.Records = kept
	return page
}

type chunkRef struct {
	id, startMax int64
	team         string
	filter       []byte
}

func (s *Store) chunkPage(ctx context.Context, query string, args ...any) ([]chunkRef, error) {
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("usage store: logs: %w", err)
	}
	defer rows.Close()
	var page []chunkRef
	for rows.Next() {
		var c chunkRef
		if err := rows.Scan(&c.id, &c.team, &c.startMax, &c.filter); err != nil {
			return nil, fmt.Errorf("usage store: logs: %w", err)
		}
		page = append(page, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("usage store: logs: %w", err)
	}
	return page, nil
}

// chunkRecords reads a chunk's records; none when it was pruned since
// its row was read.
func (s *Store) chunkRecords(ctx context.Context, id int64, team string) ([]usage.Record, error) {
	var data []byte
	err := s.r.QueryRowContext(ctx, `SELECT data FROM usage_chunk_data WHERE id = ?`, id).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("usage store: logs: %w", err)
	}
	recs, err := decodeChunk(team, data)
	if err != nil {
		return nil, fmt.Errorf("%w (chunk %d)", err, id)
	}
	return recs, nil
}

// logMatch is a LogQuery's test of one record.
type logMatch struct {
	q           usage.LogQuery
	from, upper int64 // start_us bounds: from <= start < upper
	cursorStart int64
	cursorID    string
	hasCursor   bool
	success     int // 0: any, 1: success, -1: failure
	terms       []uint64
}

func newLogMatch(q usage.LogQuery) (*logMatch, error) {
	m := &logMatch{q: q, from: math.MinInt64, upper: math.MaxInt64}
	switch q.Status {
	case "":
	case "success":
		m.success = 1
	case "failure":
		m.success = -1
	default:
		return nil, fmt.Errorf(`%w: status must be "success" or "failure"`, usage.ErrBadQuery)
	}
	if !q.From.IsZero() {
		m.from = q.From.UnixMicro()
	}
	if !q.To.IsZero() {
		m.upper = q.To.UnixMicro()
	}
	if q.Cursor != "" {
		at, id, err := usage.DecodeCursor(q.Cursor)
		if err != nil {
			return nil, err
		}
		m.hasCursor, m.cursorStart, m.cursorID = true, at.UnixMicro(), id
		if m.cursorStart < math.MaxInt64 {
			m.upper = min(m.upper, m.cursorStart+1)
		}
	}
	for _, t := range []struct {
		kind byte
		v    string
	}{{termKey, q.KeyID}, {termUser, q.UserID}, {termModel, q.Model}} {
		if t.v != "" {
			m.terms = append(m.terms, termHash(t.kind, t.v))
		}
	}
	return m, nil
}

// mayHold reports whether a chunk with this filter may hold a match.
func (m *logMatch) mayHold(filter []byte) bool {
	for _, h := range m.terms {
		if !mayContain(filter, h) {
			return false
		}
	}
	return true
}

func (m *logMatch) match(r *usage.Record) bool {
	q := &m.q
	start := r.Start.UnixMicro()
	switch {
	case start < m.from || start >= m.upper,
		m.hasCursor && start == m.cursorStart && r.RequestID >= m.cursorID,
		q.TeamID != "" && r.TeamID != q.TeamID,
		q.KeyID != "" && r.KeyID != q.KeyID,
		q.UserID != "" && usage.UserOf(r) != q.UserID,
		q.Model != "" && usage.ModelOf(r) != q.Model,
		q.RequestID != "" && r.RequestID != q.RequestID,
		m.success == 1 && !r.Success(),
		m.success == -1 && r.Success():
		return false
	}
	return true
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

// Prune implements usage.Store. It works a few chunks per transaction,
// so Writes go on in between: a chunk whose records all ended before
// `before` is deleted, one with some is rewritten without them (keeping
// its digest, so the batch it came from is still not counted twice).
func (s *Store) Prune(ctx context.Context, before time.Time) (int64, error) {
	us := before.UnixMicro()
	var total int64
	for {
		n, more, err := s.pruneChunks(ctx, us)
		total += n
		if err != nil {
			return total, fmt.Errorf("usage store: prune: %w", err)
		}
		if !more {
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

// pruneBatch bounds the chunks one Prune transaction handles.
const pruneBatch = 64

// pruneChunks handles up to pruneBatch chunks holding a record that ended
// before us; more is true when there may be others.
func (s *Store) pruneChunks(ctx context.Context, us int64) (deleted int64, more bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, false, errClosed
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, false, err
	}
	defer tx.Rollback()
	pace := s.newPacer()
	rows, err := tx.QueryContext(ctx, `SELECT id, batch_id, team_id, start_max, end_max FROM usage_chunks WHERE end_min < ? LIMIT ?`, us, pruneBatch)
	if err != nil {
		return 0, false, err
	}
	type victim struct {
		id, batch, startMax, endMax int64
		team                        string
	}
	var vs []victim
	for rows.Next() {
		var v victim
		if err := rows.Scan(&v.id, &v.batch, &v.team, &v.startMax, &v.endMax); err != nil {
			rows.Close()
			return 0, false, err
		}
		vs = append(vs, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, false, err
	}
	for _, v := range vs {
		pace.step()
		var data []byte
		if err := tx.QueryRowContext(ctx, `SELECT data FROM usage_chunk_data WHERE id = ?`, v.id).Scan(&data); err != nil {
			return 0, false, err
		}
		recs, err := decodeChunk(v.team, data)
		if err != nil {
			return 0, false, fmt.Errorf("%w (chunk %d)", err, v.id)
		}
		// Its index entries go; a rewritten chunk gets its own again.
		old, kept := newChunkWriter(v.team), newChunkWriter(v.team)
		for i := range recs {
			old.add(&recs[i])
			if recs[i].End.UnixMicro() >= us {
				kept.add(&recs[i])
			}
		}
		for _, h := range old.terms.indexed {
			if _, err := tx.ExecContext(ctx, `DELETE FROM usage_chunk_terms WHERE term = ? AND start_max = ? AND chunk_id = ?`,
				int64(h), v.startMax, v.id); err != nil {
				return 0, false, err
			}
			pace.step()
		}
		deleted += int64(len(recs) - kept.n)
		if kept.n == 0 {
			if _, err := tx.ExecContext(ctx, `DELETE FROM usage_chunks WHERE id = ?`, v.id); err != nil {
				return 0, false, err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM usage_chunk_data WHERE id = ?`, v.id); err != nil {
				return 0, false, err
			}
			// The batch goes with its last chunk.
			if _, err := tx.ExecContext(ctx, `DELETE FROM usage_batches WHERE id = ?
				AND NOT EXISTS (SELECT 1 FROM usage_chunks WHERE batch_id = ?)`, v.batch, v.batch); err != nil {
				return 0, false, err
			}
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE usage_chunks SET start_min = ?, start_max = ?, end_min = ?, end_max = ?,
			records = ?, filter = ? WHERE id = ?`, kept.startMin, kept.startMax, kept.endMin, kept.endMax, kept.n, kept.terms.filter(chunkBloom), v.id); err != nil {
			return 0, false, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE usage_chunk_data SET data = ? WHERE id = ?`, kept.encode(), v.id); err != nil {
			return 0, false, err
		}
		ins, err := tx.PrepareContext(ctx, insertTermSQL)
		if err != nil {
			return 0, false, err
		}
		err = insertTerms(ctx, ins, v.id, kept, &pace)
		ins.Close()
		if err != nil {
			return 0, false, err
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, false, err
	}
	return deleted, len(vs) == pruneBatch, nil
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
