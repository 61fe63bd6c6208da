package gateway

import (
	"strings"

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

// listModels serves GET /v1/models: the names the caller may call (its
// team's and its key's allowlists applied).
func (s *Server) listModels(ctx *fasthttp.RequestCtx) {
	models, ok := s.callableModels(ctx)
	if !ok {
		return
	}
	out := modelList{Object: "list", Data: make([]modelObject, 0, len(models))}
	for _, m := range models {
		out.Data = append(out.Data, modelObject{ID: m.Name, Object: "model", Created: m.Created, OwnedBy: m.Owner})
	}
	writeJSON(ctx, out)
}

// retrieveModel serves GET /v1/models/{model} (client.models.retrieve()):
// the model object of a name the caller may call, else 404 — another
// team's model answers exactly as a name that does not exist.
func (s *Server) retrieveModel(ctx *fasthttp.RequestCtx) {
	models, ok := s.callableModels(ctx)
	if !ok {
		return
	}
	name, _ := ctx.UserValue("model").(string)
	for _, m := range models {
		if m.Name == name {
			writeJSON(ctx, modelObject{ID: m.Name, Object: "model", Created: m.Created, OwnedBy: m.Owner})
			return
		}
	}
	writeError(ctx, &wire.Error{Status: 404, Type: wire.TypeInvalidRequest, Param: "model",
		Message: "The model `" + name + "` does not exist or you do not have access to it; GET /v1/models lists the models this key may call"})
}

// callableModels authenticates the caller and asks its team's actor for
// the names it may call; on a failure it has answered.
func (s *Server) callableModels(ctx *fasthttp.RequestCtx) ([]actors.ModelEntry, bool) {
	route, werr := s.authenticate(ctx)
	if werr == nil {
		werr = blockedRoute(s.snapshot(), route)
	}
	if werr != nil {
		writeError(ctx, werr)
		return nil, false
	}
	v, err := s.opts.Root.RequestFuture(route.PID, &actors.ListModels{Key: route.Key}, s.opts.CallTimeout).Result()
	list, ok := v.(*actors.ModelList)
	if err != nil || !ok {
		writeError(ctx, wire.Errorf(503, wire.TypeInternal, "the team's actor did not answer; retry"))
		return nil, false
	}
	return list.Models, true
}

// notSupported answers the OpenAI endpoints the gateway does not serve yet
// (files, batches) with a 501 that says so, not a bare 404: a client
// learns the gateway is reachable and the feature is missing.
func (s *Server) notSupported(ctx *fasthttp.RequestCtx) {
	route, werr := s.authenticate(ctx)
	if werr == nil {
		werr = blockedRoute(s.snapshot(), route)
	}
	if werr == nil {
		what := "/v1/files"
		if strings.HasPrefix(string(ctx.Path()), "/v1/batches") {
			what = "/v1/batches"
		}
		werr = wire.Errorf(501, wire.TypeInvalidRequest, "%s is not supported by this gateway yet; call the upstream's own API for files and batches", what)
	}
	writeError(ctx, werr)
}
