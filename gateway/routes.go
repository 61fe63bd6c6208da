package gateway

import (
	"github.com/fasthttp/router"
)

func (s *Server) routes(r *router.Router) {
	r.POST("/v1/chat/completions", s.chatCompletions)
	r.POST("/chat/completions", s.chatCompletions)
	r.POST("/openai/deployments/{model}/chat/completions", s.chatCompletions)
	r.GET("/v1/models", s.listModels)
	r.GET("/models", s.listModels)
	r.GET("/health/liveliness", s.liveliness)
	r.GET("/health/readiness", s.readiness)
	r.GET("/config/status", s.configStatus)
	r.POST("/config/reload", s.configReload)
	s.mgmtRoutes(r) // management API: gateway/mgmt_*.go
	r.GET("/metrics", s.metrics)
	r.ANY("/debug/pprof/{path:*}", s.pprof)
	r.NotFound = s.notFound
	r.MethodNotAllowed = s.methodNotAllowed
}
