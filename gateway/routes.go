package gateway

import (
	"github.com/fasthttp/router"
	"github.com/valyala/fasthttp"
)

// routeTable registers handlers on the router, each recording its route
// pattern in the request's requestInfo (the label of the request
// metrics). The router's SaveMatchedRoutePath does the same with two
// allocations per request.
type routeTable struct{ r *router.Router }

func (t routeTable) handle(method, path string, h fasthttp.RequestHandler) {
	t.r.Handle(method, path, func(ctx *fasthttp.RequestCtx) {
		if info, ok := ctx.UserValue(requestInfoKey).(*requestInfo); ok {
			info.route = path
		}
		h(ctx)
	})
}

func (t routeTable) GET(path string, h fasthttp.RequestHandler) {
	t.handle(fasthttp.MethodGet, path, h)
}
func (t routeTable) POST(path string, h fasthttp.RequestHandler) {
	t.handle(fasthttp.MethodPost, path, h)
}
func (t routeTable) ANY(path string, h fasthttp.RequestHandler) { t.handle(router.MethodWild, path, h) }

func (s *Server) routes(t routeTable) {
	r := t.r
	t.POST("/v1/chat/completions", s.chatCompletions)
	t.POST("/chat/completions", s.chatCompletions)
	t.POST("/openai/deployments/{model}/chat/completions", s.chatCompletions)
	t.GET("/v1/models", s.listModels)
	t.GET("/models", s.listModels)
	t.GET("/health/liveliness", s.liveliness)
	t.GET("/health/readiness", s.readiness)
	t.GET("/config/status", s.configStatus)
	t.POST("/config/reload", s.configReload)
	s.mgmtRoutes(t) // management API: gateway/mgmt_*.go
	t.GET("/metrics", s.metrics)
	t.ANY("/debug/pprof/{path:*}", s.pprof)
	r.NotFound = s.notFound
	r.MethodNotAllowed = s.methodNotAllowed
}
