package gateway

import (
	"crypto/subtle"
	"net/http/pprof"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"

	"github.com/llmgateway/gateway/metrics"
	"github.com/llmgateway/gateway/wire"
)

var (
	metricsPublic  = fasthttpadaptor.NewFastHTTPHandler(metrics.Handler(false))
	metricsPerTeam = fasthttpadaptor.NewFastHTTPHandler(metrics.Handler(true))

	pprofIndex   = fasthttpadaptor.NewFastHTTPHandlerFunc(pprof.Index) // also /debug/pprof/<profile>
	pprofCmdline = fasthttpadaptor.NewFastHTTPHandlerFunc(pprof.Cmdline)
	pprofProfile = fasthttpadaptor.NewFastHTTPHandlerFunc(pprof.Profile)
	pprofSymbol  = fasthttpadaptor.NewFastHTTPHandlerFunc(pprof.Symbol)
	pprofTrace   = fasthttpadaptor.NewFastHTTPHandlerFunc(pprof.Trace)
)

// metrics serves GET /metrics in the Prometheus text format.
//
//   - no key: only the series that name no team (metrics.Public): latency
//     by route, upstream health, reloads, the runtime;
//   - the master key or general_settings.metrics_key (as Prometheus sends
//     it: `Authorization: Bearer <key>`): every series, per-team ones
//     (requests, tokens, spend, rejections by team and model) included;
//   - a team key: 403, since per-team series are the operator's (a team
//     reads its own spend with /team/info and /key/info);
//   - an unknown or expired key: 401, so that a scraper with a wrong
//     credential shows as down instead of silently losing series.
func (s *Server) metrics(ctx *fasthttp.RequestCtx) {
	key := presentedKey(ctx)
	if key == "" {
		metricsPublic(ctx)
		return
	}
	if s.isMetricsKey(key) {
		setLogTeam(ctx, "metrics")
		metricsPerTeam(ctx)
		return
	}
	r, werr := s.authenticate(ctx)
	switch {
	case werr != nil:
		werr.Message = "/metrics: " + werr.Message + "; per-team series need the master key or general_settings.metrics_key, " +
			"and without a key /metrics shows the series that name no team"
		writeError(ctx, werr)
	case !r.Master:
		writeError(ctx, wire.Errorf(403, wire.TypePermission,
			"/metrics: a team key may not read the gateway's metrics (their per-team series cover every team); "+
				"scrape without a key for the series that name no team, or with the master key or general_settings.metrics_key for all; "+
				"a team's own spend is in /team/info and /key/info"))
	default:
		metricsPerTeam(ctx)
	}
}

// isMetricsKey reports whether key is the live general_settings.metrics_key
// (compared in constant time).
func (s *Server) isMetricsKey(key string) bool {
	if s.opts.Directory == nil {
		return false
	}
	snap := s.snapshot()
	if snap == nil || snap.Settings.MetricsKey == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(key), []byte(snap.Settings.MetricsKey)) == 1
}

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
