package gateway

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/manage"
	"github.com/llmgateway/gateway/usage"
	"github.com/llmgateway/gateway/wire"
)

// reportTimeout bounds one report query.
const reportTimeout = 30 * time.Second

// usageRoutes registers the reports of the usage log (LiteLLM's paths).
func (s *Server) usageRoutes(r routeTable) {
	r.GET("/spend/logs", s.spendLogs)
	r.GET("/team/daily/activity", s.teamDailyActivity)
	r.GET("/user/daily/activity", s.userDailyActivity)
	r.GET("/global/spend/report", s.globalSpendReport)
}

// reports is the usage store, or a 503 when the server has none.
func (s *Server) reports(ctx *fasthttp.RequestCtx) usage.Store {
	if s.opts.Reports == nil {
		writeError(ctx, wire.Errorf(503, wire.TypeInternal, "the usage log is not available in this server"))
	}
	return s.opts.Reports
}

// reportCaller authenticates a report call (as a management call) and
// returns the store; ok is false once an error was answered.
func (s *Server) reportCaller(ctx *fasthttp.RequestCtx) (manage.Caller, usage.Store, bool) {
	c, ok := s.mgmtCaller(ctx)
	if !ok {
		return c, nil, false
	}
	store := s.reports(ctx)
	return c, store, store != nil
}

// dateRange reads start_date and end_date (YYYY-MM-DD, inclusive, UTC;
// RFC 3339 times are accepted too); the default is the last 30 days.
func dateRange(ctx *fasthttp.RequestCtx, now time.Time) (from, to time.Time, e *manage.Error) {
	args := ctx.QueryArgs()
	to = now.UTC()
	from = to.AddDate(0, 0, -30)
	parse := func(name string, end bool) (time.Time, bool, *manage.Error) {
		v := string(args.Peek(name))
		if v == "" {
			return time.Time{}, false, nil
		}
		if t, err := time.Parse(time.DateOnly, v); err == nil {
			if end {
				t = t.Add(24*time.Hour - time.Nanosecond)
			}
			return t, true, nil
		}
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			return t.UTC(), true, nil
		}
		return time.Time{}, false, manage.BadRequest(name, "%s %q is not a date; use YYYY-MM-DD (UTC) or an RFC 3339 time", name, v)
	}
	if t, ok, e := parse("start_date", false); e != nil {
		return from, to, e
	} else if ok {
		from = t
	}
	if t, ok, e := parse("end_date", true); e != nil {
		return from, to, e
	} else if ok {
		to = t
	}
	if to.Before(from) {
		return from, to, manage.BadRequest("end_date", "end_date is before start_date")
	}
	if to.Sub(from) > 400*24*time.Hour {
		return from, to, manage.BadRequest("start_date", "the range is longer than 400 days; ask for less")
	}
	return from, to, nil
}

// scopedTeam is the team a report may cover: a team caller's own (another
// team's id answers as a missing one), any for the master key ("" = all).
func scopedTeam(c manage.Caller, asked string) (string, *manage.Error) {
	if c.Master {
		return asked, nil
	}
	if asked == "" {
		return c.TeamID, nil
	}
	if e := manage.InTeamScope(c, "team_id", asked); e != nil {
		return "", e
	}
	return asked, nil
}

// spendLogs serves GET /spend/logs: the calls, newest first, paged with
// limit and cursor (the next cursor is in x-next-cursor); a team caller
// sees its own team's calls only.
func (s *Server) spendLogs(ctx *fasthttp.RequestCtx) {
	c, store, ok := s.reportCaller(ctx)
	if !ok {
		return
	}
	args := ctx.QueryArgs()
	team, e := scopedTeam(c, string(args.Peek("team_id")))
	if e != nil {
		writeManage(ctx, e)
		return
	}
	from, to, e := dateRange(ctx, time.Now())
	if e != nil {
		writeManage(ctx, e)
		return
	}
	q := usage.LogQuery{TeamID: team, UserID: string(args.Peek("user_id")), RequestID: string(args.Peek("request_id")),
		Model: string(args.Peek("model")), Status: string(args.Peek("status")), From: from, To: to,
		Cursor: string(args.Peek("cursor"))}
	if k := string(args.Peek("api_key")); k != "" {
		q.KeyID = spendIDOf(s.snapshot(), k)
	}
	switch q.Status {
	case "", "success", "failure":
	default:
		writeManage(ctx, manage.BadRequest("status", "status must be success or failure"))
		return
	}
	if v := args.Peek("limit"); len(v) > 0 {
		n, err := strconv.Atoi(string(v))
		if err != nil || n < 1 || n > 1000 {
			writeManage(ctx, manage.BadRequest("limit", "limit must be a whole number from 1 to 1000 (default 100)"))
			return
		}
		q.Limit = n
	}
	rctx, cancel := context.WithTimeout(context.Background(), reportTimeout)
	defer cancel()
	page, err := store.Logs(rctx, q)
	if err != nil {
		writeReportError(ctx, err)
		return
	}
	rows := make([]spendLogRow, len(page.Records))
	for i := range page.Records {
		rows[i] = spendLogOf(&page.Records[i])
	}
	if page.Next != "" {
		ctx.Response.Header.Set("x-next-cursor", page.Next)
	}
	writeJSON(ctx, rows)
}

// spendIDOf is the spend id of a key given raw (sk-...) or as its token.
func spendIDOf(snap *configs.Snapshot, k string) string {
	token := k
	if strings.HasPrefix(k, "sk-") {
		token = configs.HashKey(k)
	}
	if snap != nil {
		for _, t := range snap.Teams {
			for _, key := range t.Keys {
				if key.Token == token {
					return key.SpendID()
				}
			}
		}
	}
	return token
}

// spendLogRow is one row of /spend/logs in LiteLLM's SpendLogs shape
// (never a prompt or a completion: messages and response are empty).
type spendLogRow struct {
	RequestID        string   `json:"request_id"`
	CallType         string   `json:"call_type"`
	APIKey           string   `json:"api_key"`
	Spend            float64  `json:"spend"`
	TotalTokens      int64    `json:"total_tokens"`
	PromptTokens     int64    `json:"prompt_tokens"`
	CompletionTokens int64    `json:"completion_tokens"`
	CachedTokens     int64    `json:"cache_read_input_tokens"`
	StartTime        string   `json:"startTime"`
	EndTime          string   `json:"endTime"`
	CompletionStart  *string  `json:"completionStartTime"`
	Model            string   `json:"model"`
	ModelID          string   `json:"model_id"`
	ModelGroup       string   `json:"model_group"`
	Provider         string   `json:"custom_llm_provider"`
	User             string   `json:"user"`
	EndUser          string   `json:"end_user"`
	TeamID           string   `json:"team_id"`
	KeyAlias         string   `json:"key_alias"`
	Metadata         any      `json:"metadata"`
	RequestTags      []string `json:"request_tags"`
	Status           string   `json:"status"`
	HTTPStatus       int      `json:"http_status"`
	ErrorType        string   `json:"error_type,omitempty"`
	LatencyMs        int64    `json:"request_duration_ms"`
	Stream           bool     `json:"stream"`
	Retries          int      `json:"retries"`
	Fallbacks        int      `json:"fallbacks"`
}

func spendLogOf(r *usage.Record) spendLogRow {
	row := spendLogRow{RequestID: r.RequestID, CallType: r.Route, APIKey: r.KeyID, Spend: r.Cost,
		TotalTokens: r.TotalTokens(), PromptTokens: r.PromptTokens, CompletionTokens: r.CompletionTokens, CachedTokens: r.CachedTokens,
		StartTime: r.Start.UTC().Format(time.RFC3339Nano), EndTime: r.End.UTC().Format(time.RFC3339Nano),
		Model: r.Model, ModelID: r.DeploymentID, ModelGroup: r.ModelGroup, Provider: r.Provider,
		User: r.User, EndUser: r.EndUser, TeamID: r.TeamID, KeyAlias: r.KeyAlias, RequestTags: r.Tags,
		HTTPStatus: r.Status, ErrorType: r.ErrorType, LatencyMs: r.End.Sub(r.Start).Milliseconds(), Stream: r.Stream,
		Retries: r.Retries, Fallbacks: r.Fallbacks, Metadata: map[string]any{}}
	if row.RequestTags == nil {
		row.RequestTags = []string{}
	}
	if len(r.Metadata) > 0 {
		row.Metadata = rawJSON(r.Metadata)
	}
	row.Status = "success"
	if !r.Success() {
		row.Status = "failure"
	}
	if r.Stream && r.TTFT > 0 {
		t := r.Start.Add(r.TTFT).UTC().Format(time.RFC3339Nano)
		row.CompletionStart = &t
	}
	return row
}

// rawJSON is JSON text kept as it is when marshalled.
type rawJSON []byte

func (r rawJSON) MarshalJSON() ([]byte, error) { return r, nil }

// teamDailyActivity serves GET /team/daily/activity?team_ids=<id>: a
// team's calls per day with breakdowns by model and key.
func (s *Server) teamDailyActivity(ctx *fasthttp.RequestCtx) {
	c, store, ok := s.reportCaller(ctx)
	if !ok {
		return
	}
	args := ctx.QueryArgs()
	asked := string(args.Peek("team_ids"))
	if asked == "" {
		asked = string(args.Peek("team_id"))
	}
	if strings.Contains(asked, ",") {
		writeManage(ctx, manage.BadRequest("team_ids", "team_ids names more than one team; ask for one team at a time"))
		return
	}
	if asked == "" && c.Master {
		writeManage(ctx, manage.BadRequest("team_ids", "team_ids is missing; send ?team_ids=<team id>"))
		return
	}
	team, e := scopedTeam(c, asked)
	if e != nil {
		writeManage(ctx, e)
		return
	}
	if snap := s.snapshot(); snap != nil && snap.Teams[team] == nil {
		writeManage(ctx, manage.TeamNotFound("team_ids", team))
		return
	}
	s.activity(ctx, store, usage.ActivityQuery{TeamID: team, Model: string(args.Peek("model"))})
}

// userDailyActivity serves GET /user/daily/activity?user_id=: a user's
// calls per day. The master key may ask for any user; a team key for the
// users of its own team.
func (s *Server) userDailyActivity(ctx *fasthttp.RequestCtx) {
	c, store, ok := s.reportCaller(ctx)
	if !ok {
		return
	}
	args := ctx.QueryArgs()
	user := string(args.Peek("user_id"))
	if user == "" && c.Key != nil {
		user = c.Key.UserID
	}
	if user == "" {
		writeManage(ctx, manage.BadRequest("user_id", "user_id is missing; send ?user_id=<id>"))
		return
	}
	q := usage.ActivityQuery{UserID: user, Model: string(args.Peek("model"))}
	if !c.Master {
		q.TeamID = c.TeamID // a team sees its users' calls through its own team only
	}
	s.activity(ctx, store, q)
}

func (s *Server) activity(ctx *fasthttp.RequestCtx, store usage.Store, q usage.ActivityQuery) {
	from, to, e := dateRange(ctx, time.Now())
	if e != nil {
		writeManage(ctx, e)
		return
	}
	q.From, q.To = from, to
	rctx, cancel := context.WithTimeout(context.Background(), reportTimeout)
	defer cancel()
	a, err := store.Activity(rctx, q)
	if err != nil {
		writeReportError(ctx, err)
		return
	}
	if a.Results == nil {
		a.Results = []usage.ActivityDay{}
	}
	writeJSON(ctx, a)
}

// globalSpendReport serves GET /global/spend/report?group_by=team|key|
// model|user|tag (master key only).
func (s *Server) globalSpendReport(ctx *fasthttp.RequestCtx) {
	c, ok := s.mgmtCaller(ctx)
	if !ok {
		return
	}
	if !c.Master {
		writeManage(ctx, &manage.Error{Status: 403, Message: "/global/spend/report is for the master key; a team key reads its own team with /team/daily/activity"})
		return
	}
	store := s.reports(ctx)
	if store == nil {
		return
	}
	args := ctx.QueryArgs()
	q := usage.ReportQuery{GroupBy: usage.Dimension(args.Peek("group_by")), TeamID: string(args.Peek("team_id"))}
	switch q.GroupBy {
	case "":
		q.GroupBy = usage.ByTeam
	case "api_key":
		q.GroupBy = usage.ByKey
	case "customer", "internal_user":
		q.GroupBy = usage.ByUser
	case usage.ByTeam, usage.ByKey, usage.ByModel, usage.ByUser, usage.ByTag:
	default:
		writeManage(ctx, manage.BadRequest("group_by", "group_by must be team, key, model, user or tag"))
		return
	}
	from, to, e := dateRange(ctx, time.Now())
	if e != nil {
		writeManage(ctx, e)
		return
	}
	q.From, q.To = from, to
	rctx, cancel := context.WithTimeout(context.Background(), reportTimeout)
	defer cancel()
	days, err := store.Report(rctx, q)
	if err != nil {
		writeReportError(ctx, err)
		return
	}
	if days == nil {
		days = []usage.ReportDay{}
	}
	writeJSON(ctx, days)
}

// writeReportError answers a failed report: a bad cursor is the caller's
// (400), anything else the store's (500, logged without the query).
func writeReportError(ctx *fasthttp.RequestCtx, err error) {
	if we, ok := err.(*wire.Error); ok {
		writeError(ctx, we)
		return
	}
	if errors.Is(err, usage.ErrBadQuery) {
		param := ""
		if strings.Contains(err.Error(), "cursor") {
			param = "cursor"
		}
		writeError(ctx, &wire.Error{Status: 400, Type: wire.TypeInvalidRequest, Param: param, Message: err.Error()})
		return
	}
	writeError(ctx, wire.Errorf(500, wire.TypeInternal, "the usage log could not answer: %v", err))
}
