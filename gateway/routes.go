package gateway

import (
	"slices"
	"strings"

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
func (t routeTable) DELETE(path string, h fasthttp.RequestHandler) {
	t.handle(fasthttp.MethodDelete, path, h)
}
func (t routeTable) ANY(path string, h fasthttp.RequestHandler) { t.handle(router.MethodWild, path, h) }

func (s *Server) routes(t routeTable) {
	r := t.r
	t.POST("/v1/chat/completions", s.chatCompletions)
	t.POST("/chat/completions", s.chatCompletions)
	t.POST("/openai/deployments/{model}/chat/completions", s.chatCompletions)
	// The rest of OpenAI's API, each at /v1/..., at the bare path and,
	// where Azure has one, at its deployment path.
	for _, e := range []struct {
		path  string
		api   api
		azure bool
	}{
		{"completions", apiCompletions, true},
		{"embeddings", apiEmbeddings, true},
		{"responses", apiResponses, false},
		{"moderations", apiModerations, false},
		{"images/generations", apiImages, true},
		{"audio/speech", apiSpeech, true},
		{"audio/transcriptions", apiTranscriptions, true},
	} {
		h := s.endpoint(e.api)
		t.POST("/v1/"+e.path, h)
		t.POST("/"+e.path, h)
		if e.azure {
			t.POST("/openai/deployments/{model}/"+e.path, h)
		}
	}
	for _, p := range []string{"/v1/responses/{id}", "/responses/{id}"} {
		t.GET(p, s.storedResponse)
		t.DELETE(p, s.storedResponse)
	}
	// Anthropic's API (Claude Code, the Anthropic SDKs).
	t.POST("/v1/messages", s.endpoint(apiMessages))
	t.POST("/v1/messages/count_tokens", s.endpoint(apiCountTokens))
	t.GET("/v1/models", s.listModels)
	t.GET("/models", s.listModels)
	t.GET("/v1/models/{model:*}", s.retrieveModel)
	t.GET("/models/{model:*}", s.retrieveModel)
	for _, p := range []string{"/v1/files", "/v1/files/{path:*}", "/v1/batches", "/v1/batches/{path:*}"} {
		t.ANY(p, s.notSupported)
	}
	t.GET("/health", s.health)
	t.GET("/health/liveliness", s.liveliness)
	t.GET("/health/readiness", s.readiness)
	t.GET("/config/status", s.configStatus)
	t.POST("/config/reload", s.configReload)
	s.mgmtRoutes(t)  // management API: gateway/mgmt_*.go
	s.usageRoutes(t) // the usage log's reports: gateway/usage_api.go
	t.GET("/metrics", s.metrics)
	t.ANY("/debug/pprof/{path:*}", s.pprof)
	r.NotFound = s.notFound
	r.MethodNotAllowed = s.methodNotAllowed
}

// Route is one registered method and path pattern.
type Route struct{ Method, Path string }

// Routes lists every route the server registers, sorted by path and
// method ("*" for any method). The authorization matrix test compares it
// with its rows, so an endpoint without a row fails the test.
func Routes() []Route {
	r := router.New()
	(&Server{}).routes(routeTable{r})
	var out []Route
	for method, paths := range r.List() {
		for _, p := range paths {
			out = append(out, Route{Method: method, Path: p})
		}
	}
	slices.SortFunc(out, func(a, b Route) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return strings.Compare(a.Method, b.Method)
	})
	return out
}
