package gateway

import (
	"net/url"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/wire"
)

// probeTimeout bounds each deployment's probe; probeParallel how many run
// at once.
const (
	probeTimeout  = 15 * time.Second
	probeParallel = 16
)

// endpointHealth is one deployment in GET /health's answer (LiteLLM's
// shape; no key, and api_base without its query, which may hold one).
type endpointHealth struct {
	Model     string `json:"model"`
	ModelName string `json:"model_name"`
	ModelID   string `json:"model_id"`
	APIBase   string `json:"api_base,omitempty"`
	TeamID    string `json:"team_id,omitempty"`
	Error     string `json:"error,omitempty"`
}

// health serves GET /health (master key only): it probes every deployment
// concurrently with the smallest call of its kind and answers LiteLLM's
// shape, healthy_endpoints and unhealthy_endpoints.
func (s *Server) health(ctx *fasthttp.RequestCtx) {
	caller, ok := s.mgmtCaller(ctx)
	if !ok {
		return
	}
	if !caller.Master {
		writeError(ctx, wire.Errorf(403, wire.TypePermission, "GET /health probes every deployment; only the master key may call it"))
		return
	}
	if s.opts.Probe == nil {
		writeError(ctx, wire.Errorf(503, wire.TypeInternal, "health probes are not available in this server"))
		return
	}
	snap := s.snapshot()
	var deps []*configs.Deployment
	deps = append(deps, snap.Global...)
	for _, ds := range snap.TeamDeployments {
		deps = append(deps, ds...)
	}
	results := make([]endpointHealth, len(deps))
	errs := make([]error, len(deps))
	sem := make(chan struct{}, probeParallel)
	var wg sync.WaitGroup
	deadline := time.Now().Add(probeTimeout)
	for i, d := range deps {
		results[i] = endpointHealth{Model: d.LiteLLMParams.Model, ModelName: d.PublicName(), ModelID: d.ModelInfo.ID,
			APIBase: withoutQuery(d.LiteLLMParams.APIBase), TeamID: d.ModelInfo.TeamID}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = s.opts.Probe(d, deadline)
		}()
	}
	wg.Wait()
	healthy, unhealthy := []endpointHealth{}, []endpointHealth{}
	for i, r := range results {
		if errs[i] == nil {
			healthy = append(healthy, r)
			continue
		}
		if we, ok := errs[i].(*wire.Error); ok {
			r.Error = we.Message // scrubbed by the provider; no address
		} else {
			r.Error = "the probe failed"
		}
		unhealthy = append(unhealthy, r)
	}
	writeJSON(ctx, map[string]any{"healthy_endpoints": healthy, "unhealthy_endpoints": unhealthy,
		"healthy_count": len(healthy), "unhealthy_count": len(unhealthy)})
}

// withoutQuery drops a URL's query and user info (either may hold a key).
func withoutQuery(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || raw == "" {
		return ""
	}
	u.RawQuery, u.User, u.Fragment = "", nil, ""
	return u.String()
}
