package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/accesslog"
	"github.com/llmgateway/gateway/actors"
	"github.com/llmgateway/gateway/metrics"
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
		next(ctx)
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
