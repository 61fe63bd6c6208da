package gateway

import (
	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/wire"
)

// liveliness answers 200 while the process runs.
func (s *Server) liveliness(ctx *fasthttp.RequestCtx) {
	writeJSON(ctx, map[string]string{"status": "healthy"})
}

// readiness answers 200 once the first configuration is applied.
func (s *Server) readiness(ctx *fasthttp.RequestCtx) {
	if !s.opts.Directory.Ready() {
		writeError(ctx, wire.Errorf(503, wire.TypeInternal, "no configuration applied yet"))
		return
	}
	hash := ""
	if s.opts.Store != nil {
		hash = s.opts.Store.Snapshot().Hash
	}
	writeJSON(ctx, map[string]any{"status": "ready", "config_hash": hash})
}

func (s *Server) notFound(ctx *fasthttp.RequestCtx) {
	info := reqInfo(ctx) // the path and method as logged: a key in them masked
	writeError(ctx, wire.Errorf(404, wire.TypeNotFound, "no route %s %s; see the README for the endpoints", s.logMethod(info, ctx.Method()), s.logPath(info, ctx.Path())))
}

func (s *Server) methodNotAllowed(ctx *fasthttp.RequestCtx) {
	info := reqInfo(ctx)
	writeError(ctx, wire.Errorf(405, wire.TypeInvalidRequest, "method %s is not allowed on %s", s.logMethod(info, ctx.Method()), s.logPath(info, ctx.Path())))
}
