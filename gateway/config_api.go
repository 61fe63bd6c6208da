package gateway

import (
	"encoding/json"

	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/confstore"
	"github.com/llmgateway/gateway/wire"
)

// configAdmin authenticates a /config/* call: the master key only.
func (s *Server) configAdmin(ctx *fasthttp.RequestCtx) bool {
	route, werr := s.authenticate(ctx)
	if werr != nil {
		writeError(ctx, werr)
		return false
	}
	if !route.Master {
		writeError(ctx, wire.Errorf(403, wire.TypePermission, "only the master key may read or reload the configuration"))
		return false
	}
	if s.opts.Store == nil {
		writeError(ctx, wire.Errorf(503, wire.TypeInternal, "this server has no configuration store"))
		return false
	}
	return true
}

// configStatus answers GET /config/status: the outcome of the latest
// reload (ok, errors as path:line:col: message, the live config hash,
// counts, gitops state).
func (s *Server) configStatus(ctx *fasthttp.RequestCtx) {
	if !s.configAdmin(ctx) {
		return
	}
	writeJSON(ctx, s.opts.Store.Status())
}

// reloadAnswer is the body of POST /config/reload.
type reloadAnswer struct {
	Outcome string           `json:"outcome"` // applied, unchanged, rejected, failed
	Message string           `json:"message"`
	Status  confstore.Status `json:"status"`
	// Error is the OpenAI error object when the reload did not make the
	// disk's configuration live.
	Error json.RawMessage `json:"error,omitempty"`
}

// configReload answers POST /config/reload: it rescans at once and says
// what happened. 200 when the disk's configuration is live (applied or
// unchanged); 422 when it is invalid (the last good one keeps serving,
// status.errors says why); 500 when it could not be read or applied.
func (s *Server) configReload(ctx *fasthttp.RequestCtx) {
	if !s.configAdmin(ctx) {
		return
	}
	st, err := s.opts.Store.Rescan("POST /config/reload")
	ans := reloadAnswer{Outcome: st.LastOutcome, Status: s.opts.Store.Status()}
	code := 200
	switch st.LastOutcome {
	case confstore.OutcomeApplied:
		ans.Message = "the configuration on disk was applied"
	case confstore.OutcomeUnchanged:
		ans.Message = "the configuration on disk is the live one; nothing to do"
	case confstore.OutcomeRejected:
		code = 422
		ans.Message = "the configuration on disk is invalid; the last good configuration keeps serving; fix the errors listed in status.errors (gateway check shows them too)"
	default:
		code = 500
		ans.Message = "the configuration could not be reloaded; the last good configuration keeps serving"
	}
	if code != 200 {
		msg := ans.Message
		if err != nil {
			msg = err.Error() + ": " + msg
		}
		typ := wire.TypeInvalidRequest
		if code == 500 {
			typ = wire.TypeInternal
		}
		var env struct {
			Error json.RawMessage `json:"error"`
		}
		_ = json.Unmarshal(wire.Errorf(code, typ, "%s", msg).JSON(), &env)
		ans.Error = env.Error
	}
	b, merr := json.Marshal(ans)
	if merr != nil {
		writeError(ctx, wire.Errorf(500, wire.TypeInternal, "encoding the answer failed: %v", merr))
		return
	}
	ctx.SetStatusCode(code)
	ctx.SetContentType("application/json")
	ctx.SetBody(b)
}
