package gateway

import (
	"bytes"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/actors"
	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/wire"
)

// presentedKey returns the key a request carries: `Authorization: Bearer`,
// then `api-key` (Azure SDKs), then `x-api-key`.
func presentedKey(ctx *fasthttp.RequestCtx) string {
	h := &ctx.Request.Header
	if v := h.Peek("Authorization"); len(v) > 0 {
		if len(v) > 7 && bytes.EqualFold(v[:7], []byte("bearer ")) {
			return string(bytes.TrimSpace(v[7:]))
		}
		return string(bytes.TrimSpace(v))
	}
	if v := h.Peek("api-key"); len(v) > 0 {
		return string(bytes.TrimSpace(v))
	}
	return string(bytes.TrimSpace(h.Peek("x-api-key")))
}

// authenticate maps the request's key to its route, or answers 401.
func (s *Server) authenticate(ctx *fasthttp.RequestCtx) (*actors.Route, *wire.Error) {
	key := presentedKey(ctx)
	if key == "" {
		return nil, wire.Errorf(401, wire.TypeAuth,
			"no API key: send it as `Authorization: Bearer <key>` (or an `api-key` / `x-api-key` header)")
	}
	if !s.opts.Directory.Ready() {
		return nil, wire.Errorf(503, wire.TypeInternal, "the gateway is starting; retry in a moment")
	}
	r, ok := s.opts.Directory.Authenticate(key)
	if !ok {
		return nil, wire.Errorf(401, wire.TypeAuth,
			"invalid API key: it matches no key of any team; check it, or ask a team admin for a key via /key/generate")
	}
	if r.Key != nil && r.Key.Expires != nil && !time.Now().Before(*r.Key.Expires) {
		return nil, wire.Errorf(401, wire.TypeAuth,
			"API key %s expired at %s; ask a team admin for a new one via /key/generate or /key/regenerate",
			r.Key.KeyName, r.Key.Expires.UTC().Format(time.RFC3339))
	}
	if r.Key != nil && len(r.Key.AllowedRoutes) > 0 && !configs.RouteAllowed(r.Key.AllowedRoutes, string(ctx.Path())) {
		return nil, wire.Errorf(403, wire.TypePermission,
			"key %s may not call route %s: it is not in the key's allowed_routes (%s); ask a team admin to add it via /key/update",
			r.Key.KeyName, configs.NormalizeRoute(string(ctx.Path())), strings.Join(r.Key.AllowedRoutes, ", "))
	}
	if r.Master {
		setLogTeam(ctx, "master")
	} else {
		setLogTeam(ctx, r.TeamID)
	}
	reqInfo(ctx).key = r.Key
	return r, nil
}
