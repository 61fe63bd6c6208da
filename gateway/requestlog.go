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
)

// requestInfo collects what the request log line reports. Handlers fill
// it through setLog* helpers; it never holds a key or a prompt.
type requestInfo struct {
	id         string
	team       string
	model      string
	deployment string
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

// requestID returns the client's x-request-id (if sane) or a new one.
func requestID(ctx *fasthttp.RequestCtx) string {
	if v := ctx.Request.Header.Peek("x-request-id"); len(v) > 0 && len(v) <= 128 {
		return string(v)
	}
	return idPrefix + "-" + strconv.FormatUint(idCounter.Add(1), 36)
}

// withRequestLog sets x-request-id and logs one line per request.
func (s *Server) withRequestLog(next fasthttp.RequestHandler) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		start := time.Now()
		info := &requestInfo{id: requestID(ctx)}
		ctx.SetUserValue(requestInfoKey, info)
		ctx.Response.Header.Set("x-request-id", info.id)
		next(ctx)
		s.opts.Log.LogAttrs(context.Background(), slog.LevelInfo, "request",
			slog.String("request_id", info.id),
			slog.String("method", string(ctx.Method())),
			slog.String("path", string(ctx.Path())),
			slog.Int("status", ctx.Response.StatusCode()),
			slog.String("team", info.team),
			slog.String("model", info.model),
			slog.String("deployment", info.deployment),
			slog.Duration("latency", time.Since(start)),
		)
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
