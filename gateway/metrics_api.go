package gateway

import (
	"net/http/pprof"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"

	"github.com/llmgateway/gateway/gateway/wire"
	"github.com/llmgateway/gateway/metrics"
)

var (
	metricsHandler = fasthttpadaptor.NewFastHTTPHandler(metrics.Handler())

	pprofIndex   = fasthttpadaptor.NewFastHTTPHandlerFunc(pprof.Index) // also /debug/pprof/<profile>
	pprofCmdline = fasthttpadaptor.NewFastHTTPHandlerFunc(pprof.Cmdline)
	pprofProfile = fasthttpadaptor.NewFastHTTPHandlerFunc(pprof.Profile)
	pprofSymbol  = fasthttpadaptor.NewFastHTTPHandlerFunc(pprof.Symbol)
	pprofTrace   = fasthttpadaptor.NewFastHTTPHandlerFunc(pprof.Trace)
)

// metrics serves GET /metrics in the Prometheus text format. Like the
// health endpoints it needs no key: it holds no secret, and label values
// are team ids and model names, never keys.
func (s *Server) metrics(ctx *fasthttp.RequestCtx) { metricsHandler(ctx) }

// pprof serves /debug/pprof/ (net/http/pprof) to the master key only.
func (s *Server) pprof(ctx *fasthttp.RequestCtx) {
	key := presentedKey(ctx)
	r, ok := s.opts.Directory.Authenticate(key)
	switch {
	case key == "":
		writeError(ctx, wire.Errorf(401, wire.TypeAuth,
			"no API key: /debug/pprof/ needs the master key as `Authorization: Bearer <key>`"))
		return
	case !ok:
		writeError(ctx, wire.Errorf(401, wire.TypeAuth,
			"invalid API key: /debug/pprof/ needs the master key as `Authorization: Bearer <key>`"))
		return
	case !r.Master:
		writeError(ctx, wire.Errorf(403, wire.TypePermission, "/debug/pprof/ is for the master key only"))
		return
	}
	setLogTeam(ctx, "master")
	switch string(ctx.Path()) {
	case "/debug/pprof/cmdline":
		pprofCmdline(ctx)
	case "/debug/pprof/profile":
		pprofProfile(ctx)
	case "/debug/pprof/symbol":
		pprofSymbol(ctx)
	case "/debug/pprof/trace":
		pprofTrace(ctx)
	default:
		pprofIndex(ctx)
	}
}
