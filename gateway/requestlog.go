package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/tidwall/gjson"
	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/accesslog"
	"github.com/llmgateway/gateway/actors"
	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/metrics"
	"github.com/llmgateway/gateway/usage"
	"github.com/llmgateway/gateway/wire"
)

// requestInfo collects what the request log line and the request metrics
// report. Handlers fill it through the setLog* helpers; it never holds a
// prompt, and what may hold a key (the path, an unresolved model name)
// is masked by logPath and logModel before it is logged.
type requestInfo struct {
	id         string
	team       string
	model      string // the name the client asked for
	deployment string // set once the name resolved
	route      string // the matched route pattern (routeTable)
	latency    time.Duration
	// stream is set by a streamed answer: its line is logged at its end,
	// by streamEnded, with its tokens (method and path kept for it).
	stream       bool
	method, path string
	tokensIn     int64
	tokensOut    int64
	start        time.Time

	// For the usage log (usage.Record): the key, the body's user and
	// metadata, and what the team actor answered.
	key        *configs.Key
	user       string
	metadata   []byte
	tags       []string
	res        *actors.ChatResult
	cost       float64
	cached     int64
	errType    string
	hasRequest bool // an LLM call: it gets a usage record
}

const requestInfoKey = "gateway.request"

var (
	idPrefix  = newIDPrefix()
	idCounter atomic.Uint64
)

func newIDPrefix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// maxRequestID caps a client's x-request-id; a longer or unprintable one is
// replaced, so a log line never carries arbitrary bytes.
const maxRequestID = 128

// requestID returns the client's x-request-id (if sane) or a new one.
func requestID(ctx *fasthttp.RequestCtx) string {
	if v := ctx.Request.Header.Peek("x-request-id"); len(v) > 0 && len(v) <= maxRequestID && printable(v) {
		return string(v)
	}
	var b [48]byte
	id := append(append(b[:0], idPrefix...), '-')
	return string(strconv.AppendUint(id, idCounter.Add(1), 36))
}

func printable(b []byte) bool {
	for _, c := range b {
		if c < 0x21 || c > 0x7e {
			return false
		}
	}
	return true
}

// metricModel is the model label of the request's metrics: only a name
// that resolved, so that a client's made-up model name never becomes a
// time series.
func (info *requestInfo) metricModel() string {
	if info.deployment == "" {
		return ""
	}
	return info.model
}

// routeLabel is the matched route pattern, so that unknown paths cannot
// grow the metrics' label set.
func routeLabel(info *requestInfo) string {
	if info.route != "" {
		return info.route
	}
	return "other"
}

// withRequestLog is the request middleware: it sets x-request-id, counts
// the request in flight, and when the handler returns records the request
// metrics and logs one line. For a stream the handler returns once the
// headers are decided, so latency is the time to the first byte; its line
// is logged when the stream ends (streamEnded), with its tokens and its
// whole duration.
func (s *Server) withRequestLog(next fasthttp.RequestHandler) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		info := &requestInfo{id: requestID(ctx), start: time.Now()}
		ctx.SetUserValue(requestInfoKey, info)
		metrics.RequestStarted()
		s.inFlight.Add(1)
		next(ctx)
		s.inFlight.Add(-1)
		// Set after the handler: writeError resets the headers. fasthttp
		// writes them (a stream's too) only once the handler returned.
		ctx.Response.Header.Set("x-request-id", info.id)
		end := time.Now()
		latency := end.Sub(info.start)
		info.latency = latency
		status := ctx.Response.StatusCode()
		model := info.metricModel()
		metrics.RequestDone(routeLabel(info), status, info.team, model, latency)
		if info.stream {
			return // logged by streamEnded
		}
		metrics.Tokens(info.team, model, info.tokensIn, info.tokensOut)
		s.record(info, end, status, info.tokensIn, info.tokensOut, info.cached, info.cost)
		s.opts.AccessLog.Log(&accesslog.Line{
			Time:       end,
			RequestID:  info.id,
			Method:     s.logMethod(info, ctx.Method()),
			Path:       s.logPath(info, ctx.Path()),
			Status:     status,
			Team:       info.team,
			Model:      s.logModel(info),
			Deployment: info.deployment,
			Latency:    latency,
			Duration:   latency,
			TokensIn:   info.tokensIn,
			TokensOut:  info.tokensOut,
		})
	}
}

func reqInfo(ctx *fasthttp.RequestCtx) *requestInfo {
	if v, ok := ctx.UserValue(requestInfoKey).(*requestInfo); ok {
		return v
	}
	return &requestInfo{}
}

func setLogModel(ctx *fasthttp.RequestCtx, model string)   { reqInfo(ctx).model = model }
func setLogDeployment(ctx *fasthttp.RequestCtx, id string) { reqInfo(ctx).deployment = id }
func setLogTeam(ctx *fasthttp.RequestCtx, team string)     { reqInfo(ctx).team = team }

// setLogRequest records what the usage log keeps of an LLM call's body:
// its "user" (else metadata.user_id) and its metadata (bounded), with
// metadata.tags. Copies: a stream's record is written after ctx is gone.
func setLogRequest(ctx *fasthttp.RequestCtx, req *chatRequest) {
	info := reqInfo(ctx)
	info.hasRequest = true
	if req.User.Type == gjson.String {
		info.user = boundedString(req.User.Str)
	}
	if m := req.Metadata; m.IsObject() {
		if info.user == "" {
			if u := m.Get("user_id"); u.Type == gjson.String {
				info.user = boundedString(u.Str)
			}
		}
		if len(m.Raw) <= usage.MaxMetadata {
			info.metadata = []byte(m.Raw)
		} else {
			info.metadata = []byte(`{"truncated":true}`)
		}
		if t := m.Get("tags"); t.IsArray() {
			t.ForEach(func(_, v gjson.Result) bool {
				if v.Type == gjson.String && len(info.tags) < usage.MaxTags && configs.CheckTags([]string{v.Str}) == "" {
					info.tags = append(info.tags, strings.Clone(v.Str))
				}
				return true
			})
		}
	}
}

// boundedString is s cut to 256 bytes (on a rune boundary), copied.
func boundedString(s string) string {
	if len(s) > 256 {
		s = s[:256]
		for len(s) > 0 && !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	return strings.Clone(s)
}

// setLogResult records what the team actor answered: the deployment, and
// for a unary answer its cost and cached tokens.
func setLogResult(ctx *fasthttp.RequestCtx, res *actors.ChatResult) {
	info := reqInfo(ctx)
	info.res = res
	if res.Deployment != nil {
		info.deployment = res.Deployment.ModelInfo.ID
	}
	if res.Stream == nil && res.Err == nil {
		info.cost, info.cached = res.Cost, res.Usage.CacheReadTokens
	}
}

// setLogError records the type of the error a call was answered with.
func setLogError(ctx *fasthttp.RequestCtx, e *wire.Error) {
	if v, ok := ctx.UserValue(requestInfoKey).(*requestInfo); ok {
		v.errType = e.Type
	}
}

// record hands the call's usage record to the usage log (never blocking).
func (s *Server) record(info *requestInfo, end time.Time, status int, in, out, cached int64, cost float64) {
	w := s.opts.Usage
	if w == nil || !info.hasRequest {
		return
	}
	r := usage.Record{RequestID: info.id, Start: info.start, End: end, TeamID: info.team, Route: info.route,
		Model: info.model, DeploymentID: info.deployment, Status: status, ErrorType: info.errType,
		PromptTokens: in, CompletionTokens: out, CachedTokens: cached, Cost: cost,
		Latency: info.latency, Stream: info.stream, User: info.user, Metadata: info.metadata, Tags: info.tags}
	if info.stream {
		r.TTFT = info.latency
	}
	if status < 200 || status > 299 {
		r.Cost = 0 // a refused or failed unary call costs nothing
	}
	if k := info.key; k != nil {
		r.KeyID, r.KeyAlias, r.KeyUserID = k.SpendID(), k.KeyAlias, k.UserID
	}
	if res := info.res; res != nil {
		r.Retries, r.Fallbacks = res.Retries, res.Fallbacks
		if d := res.Deployment; d != nil {
			r.ModelGroup, r.Provider = d.PublicName(), d.Provider
		}
	}
	if info.team == "master" {
		r.TeamID = ""
	} else if snap := s.snapshot(); snap != nil {
		// The team's and the key's tags (and their metadata.tags), then the
		// request's, deduplicated.
		team, key := snap.Teams[info.team], info.key
		if len(r.Tags) > 0 || (team != nil && (len(team.Tags) > 0 || team.Metadata != nil)) || (key != nil && (len(key.Tags) > 0 || key.Metadata != nil)) {
			r.Tags = configs.MergedTags(team, key, r.Tags)
		}
	}
	w.Record(&r)
}

// setLogTokens records a unary call's usage (prompt = in, completion = out)
// for the log line and the token metrics.
func setLogTokens(ctx *fasthttp.RequestCtx, u actors.Usage) {
	info := reqInfo(ctx)
	info.tokensIn, info.tokensOut = u.PromptTokens, u.CompletionTokens
}

// setLogStream marks the request as streamed: its line waits for the
// stream's end (streamEnded), after ctx is gone.
func (s *Server) setLogStream(ctx *fasthttp.RequestCtx) *requestInfo {
	info := reqInfo(ctx)
	info.stream = true
	info.method, info.path = string(ctx.Method()), string(s.logPath(info, ctx.Path()))
	return info
}

// streamEnded logs a streamed answer's request line, with its tokens and
// its whole duration, and counts its tokens. It runs once the relay ended,
// after the middleware, without ctx.
func (s *Server) streamEnded(info *requestInfo, u actors.Usage) {
	metrics.Tokens(info.team, info.metricModel(), u.PromptTokens, u.CompletionTokens)
	end := time.Now()
	status := 200
	if u.Failed {
		status, info.errType = 502, wire.TypeUpstream
	}
	s.record(info, end, status, u.PromptTokens, u.CompletionTokens, u.CacheReadTokens, u.Cost)
	s.opts.AccessLog.Log(&accesslog.Line{
		Time:       end,
		RequestID:  info.id,
		Method:     []byte(info.method),
		Path:       []byte(info.path),
		Status:     200,
		Team:       info.team,
		Model:      s.logModel(info),
		Deployment: info.deployment,
		Latency:    info.latency,
		Duration:   end.Sub(info.start),
		TokensIn:   u.PromptTokens,
		TokensOut:  u.CompletionTokens,
		Stream:     true,
	})
}

// upstreamError logs what only the log may say about an error (its
// Internal detail: the upstream's address, the transport's words) with the
// request id, and returns the error as the client sees it: its message
// ends with the request id, so that the client can quote it to an
// operator. An error without Internal is returned as is.
func (s *Server) upstreamError(info *requestInfo, e *wire.Error) *wire.Error {
	if e.Internal == "" {
		return e
	}
	level := slog.LevelWarn
	if e.Status == 499 {
		level = slog.LevelInfo // the client went away: nothing is wrong upstream
	}
	s.opts.Log.Log(context.Background(), level, "upstream error", "request_id", info.id, "team", info.team,
		"model", info.model, "deployment", info.deployment, "status", e.Status, "detail", e.Internal)
	c := *e
	c.Internal = ""
	c.Message += " (request id " + info.id + ")"
	return &c
}
