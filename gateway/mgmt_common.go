package gateway

import (
	"errors"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/actors"
	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/confstore"
	"github.com/llmgateway/gateway/manage"
	"github.com/llmgateway/gateway/wire"
)

// mgmtRoutes registers the management API (LiteLLM's paths).
func (s *Server) mgmtRoutes(r routeTable) {
	r.POST("/team/new", s.teamNew)
	r.GET("/team/info", s.teamInfo)
	r.GET("/team/list", s.teamList)
	r.POST("/team/update", s.teamUpdate)
	r.POST("/team/delete", s.teamDelete)
	r.POST("/team/member_add", s.teamMemberAdd)
	r.POST("/team/member_delete", s.teamMemberDelete)
	r.POST("/team/block", s.teamBlock(true))
	r.POST("/team/unblock", s.teamBlock(false))

	r.POST("/model/new", s.modelNew)
	r.POST("/model/add", s.modelNew)
	r.GET("/model/info", s.modelInfo)
	r.GET("/v1/model/info", s.modelInfo)
	r.POST("/model/update", s.modelUpdate)
	r.POST("/model/delete", s.modelDelete)

	r.POST("/key/generate", s.keyGenerate)
	r.GET("/key/info", s.keyInfo)
	r.GET("/key/list", s.keyList)
	r.POST("/key/update", s.keyUpdate)
	r.POST("/key/regenerate", s.keyRegenerate)
	r.POST("/key/{key}/regenerate", s.keyRegenerate)
	r.POST("/key/block", s.keyBlock(true))
	r.POST("/key/unblock", s.keyBlock(false))
	r.POST("/key/delete", s.keyDelete)
}

// mgmtCaller authenticates a management call.
func (s *Server) mgmtCaller(ctx *fasthttp.RequestCtx) (manage.Caller, bool) {
	if s.opts.Store != nil && s.opts.Store.Snapshot().Settings.MasterKey == "" {
		// Fail closed: without a master key nobody manages anything.
		writeError(ctx, wire.Errorf(403, wire.TypePermission,
			"the management API is disabled because no master key is configured; set GATEWAY_MASTER_KEY "+
				"(general_settings.master_key: os.environ/GATEWAY_MASTER_KEY) and restart the gateway"))
		return manage.Caller{}, false
	}
	route, werr := s.authenticate(ctx)
	if werr != nil {
		writeError(ctx, werr)
		return manage.Caller{}, false
	}
	if s.opts.Store == nil {
		writeError(ctx, wire.Errorf(503, wire.TypeInternal, "the management API is not available in this server"))
		return manage.Caller{}, false
	}
	if werr := blockedRoute(s.snapshot(), route); werr != nil {
		writeError(ctx, werr)
		return manage.Caller{}, false
	}
	return manage.Caller{Master: route.Master, TeamID: route.TeamID, Key: route.Key}, true
}

// blockedRoute refuses a blocked key or a key of a blocked team: a
// blocked credential can do nothing (no management call, no model list)
// until it is unblocked.
func blockedRoute(snap *configs.Snapshot, route *actors.Route) *wire.Error {
	if route == nil || route.Master {
		return nil
	}
	if snap != nil {
		if t := snap.Teams[route.TeamID]; t != nil && t.Blocked {
			return wire.Errorf(403, wire.TypePermission, "Team=%s is blocked: its keys can do nothing until the master key unblocks it (/team/unblock)", route.TeamID)
		}
	}
	if route.Key != nil && route.Key.Blocked {
		return wire.Errorf(403, wire.TypePermission, "API key %s is blocked: it can do nothing until it is unblocked (/key/unblock, by the master key or, if a team admin blocked it, a team admin)", route.Key.KeyName)
	}
	return nil
}

// writeManage writes a manage.Error in the OpenAI envelope.
func writeManage(ctx *fasthttp.RequestCtx, e *manage.Error) {
	typ := wire.TypeInvalidRequest
	switch e.Status {
	case 401:
		typ = wire.TypeAuth
	case 403:
		typ = wire.TypePermission
	case 404:
		typ = wire.TypeNotFound
	case 500, 503:
		typ = wire.TypeInternal
	}
	writeError(ctx, &wire.Error{Status: e.Status, Type: typ, Message: e.Message, Param: e.Param})
}

// decodeBody decodes the JSON body into v, answering 400 on failure.
func decodeBody(ctx *fasthttp.RequestCtx, v any) bool {
	if e := manage.Decode(ctx.PostBody(), v); e != nil {
		writeManage(ctx, e)
		return false
	}
	return true
}

// mutateFunc computes the files a write changes from the live snapshot.
type mutateFunc func(cur *configs.Snapshot, in *confstore.Files) ([]confstore.Change, *manage.Error)

// mutate runs one management write through the store: validated, durable
// and applied before it returns. On failure it answers and returns nil.
func (s *Server) mutate(ctx *fasthttp.RequestCtx, w confstore.Write, fn mutateFunc) *configs.Snapshot {
	var merr *manage.Error
	snap, err := s.opts.Store.Mutate(w, func(cur *configs.Snapshot, in *confstore.Files) ([]confstore.Change, error) {
		changes, e := fn(cur, in)
		if e != nil {
			merr = e
			return nil, e
		}
		return changes, nil
	})
	var invalid *confstore.InvalidError
	var changed *confstore.ChangedError
	switch {
	case err == nil:
		return snap
	case merr != nil:
		writeManage(ctx, merr)
	case errors.As(err, &changed):
		writeManage(ctx, manage.StoreError(err))
	case errors.As(err, &invalid):
		var msgs []string
		param := ""
		for _, p := range invalid.Problems {
			if !p.Warning {
				msgs = append(msgs, p.Message)
				param = p.Field
			}
		}
		e := wire.BadRequest("the change was refused because the configuration would be invalid: %s", strings.Join(msgs, "; "))
		if len(msgs) == 1 && param != "" {
			e.Param = param // the value at fault, named as in the request
		}
		writeError(ctx, e)
	default:
		writeError(ctx, wire.Errorf(500, wire.TypeInternal, "writing the configuration failed, nothing was changed: %v", err))
	}
	return nil
}

// spend asks a team's actor for its spend; zeros when it cannot answer.
func (s *Server) spend(teamID string, tokens []string) *actors.SpendInfo {
	none := &actors.SpendInfo{Keys: map[string]actors.KeySpend{}}
	pid, ok := s.opts.Directory.Team(teamID)
	if !ok || s.opts.Root == nil {
		return none
	}
	v, err := s.opts.Root.RequestFuture(pid, &actors.GetSpend{KeyTokens: tokens}, 2*time.Second).Result()
	info, ok := v.(*actors.SpendInfo)
	if err != nil || !ok || info == nil {
		return none
	}
	if info.Keys == nil {
		info.Keys = map[string]actors.KeySpend{}
	}
	return info
}

func (s *Server) teamObject(snap *configs.Snapshot, t *configs.Team) manage.TeamObject {
	sp := s.spend(t.TeamID, nil)
	return manage.TeamView(t, snap.TeamDeployments[t.TeamID], manage.Spend{Spend: sp.TeamSpend, BudgetResetAt: sp.BudgetResetAt, Live: liveOf(sp.Team)}, time.Now())
}

func (s *Server) keyObjects(t *configs.Team, keys []*configs.Key) []manage.KeyObject {
	tokens := make([]string, len(keys))
	for i, k := range keys {
		tokens[i] = k.Token
	}
	sp := s.spend(t.TeamID, tokens)
	out := make([]manage.KeyObject, 0, len(keys))
	for _, k := range keys {
		ks := sp.Keys[k.Token]
		out = append(out, manage.KeyView(t.TeamID, k, manage.Spend{Spend: ks.Spend, BudgetResetAt: ks.BudgetResetAt, Live: liveOf(ks.Live)}, time.Now()))
	}
	return out
}

// liveOf renders a team's or a key's live use of its limits.
func liveOf(l actors.Live) *manage.LiveUsage {
	out := &manage.LiveUsage{ParallelRequests: l.InFlight}
	if l.RPM >= 0 {
		out.RPM = &l.RPM
	}
	if l.TPM >= 0 {
		out.TPM = &l.TPM
	}
	return out
}
