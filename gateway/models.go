package gateway

import (
	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/actors"
	"github.com/llmgateway/gateway/wire"
)

type modelObject struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

type modelList struct {
	Object string        `json:"object"`
	Data   []modelObject `json:"data"`
}

// listModels serves GET /v1/models: the names the caller may call.
func (s *Server) listModels(ctx *fasthttp.RequestCtx) {
	route, werr := s.authenticate(ctx)
	if werr == nil {
		werr = blockedRoute(s.snapshot(), route)
	}
	if werr != nil {
		writeError(ctx, werr)
		return
	}
	v, err := s.opts.Root.RequestFuture(route.PID, &actors.ListModels{}, s.opts.CallTimeout).Result()
	list, ok := v.(*actors.ModelList)
	if err != nil || !ok {
		writeError(ctx, wire.Errorf(503, wire.TypeInternal, "the team's actor did not answer; retry"))
		return
	}
	out := modelList{Object: "list", Data: make([]modelObject, 0, len(list.Models))}
	for _, m := range list.Models {
		out.Data = append(out.Data, modelObject{ID: m.Name, Object: "model", Created: m.Created, OwnedBy: m.Owner})
	}
	writeJSON(ctx, out)
}
