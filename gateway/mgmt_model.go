package gateway

import (
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/confstore"
	"github.com/llmgateway/gateway/egress"
	"github.com/llmgateway/gateway/manage"
)

func modelPolicy(s configs.Settings) manage.ModelPolicy {
	return manage.ModelPolicy{SaltKey: s.SaltKey, SaltKeyPrevious: s.SaltKeyPrevious, APIBase: egress.New(s.TeamAPIBaseAllow, s.TeamAPIBaseDeny, egress.HostAddrs())}
}

// modelAccess checks the caller may change a model of teamID ("" for a
// global model): the master key, or a key of that same team. For a team
// key, another team's model answers exactly as a missing one (notFound).
func modelAccess(c manage.Caller, s configs.Settings, teamID, what string, notFound *manage.Error) *manage.Error {
	if teamID == "" {
		return manage.RequireMaster(c, s, what+" of a global model (no model_info.team_id)")
	}
	if !c.Master && c.TeamID != teamID {
		return notFound
	}
	return nil
}

// modelRequest authenticates a /model/new or /model/update call and
// decodes and validates its body, answering the error itself.
func (s *Server) modelRequest(ctx *fasthttp.RequestCtx) (manage.Caller, *manage.ParsedModel, bool) {
	c, ok := s.mgmtCaller(ctx)
	if !ok {
		return c, nil, false
	}
	var req manage.ModelRequest
	if !decodeBody(ctx, &req) {
		return c, nil, false
	}
	p, e := manage.ParseModel(req)
	if e != nil {
		writeManage(ctx, e)
		return c, nil, false
	}
	return c, p, true
}

// modelNew serves POST /model/new and /model/add.
func (s *Server) modelNew(ctx *fasthttp.RequestCtx) {
	c, p, ok := s.modelRequest(ctx)
	if !ok {
		return
	}
	teamID := p.Info.TeamID
	if teamID == "" && !c.Master {
		teamID = c.TeamID // a team key adds to its own team
	}
	if e := modelAccess(c, s.opts.Store.Snapshot().Settings, teamID, "/model/new", manage.TeamNotFound("model_info.team_id", teamID)); e != nil {
		writeManage(ctx, e)
		return
	}
	id := p.Info.ID
	if id == "" {
		id = uuid.NewString()
	} else if e := manage.ValidID("model_info.id", id); e != nil {
		writeManage(ctx, e)
		return
	}
	var d *configs.Deployment
	w := confstore.Write{Endpoint: "model/new", Actor: c.Name(), TeamID: teamID, ObjectID: id}
	if p.ModelName != nil {
		w.Summary = "add model " + *p.ModelName
	}
	snap := s.mutate(ctx, w, func(cur *configs.Snapshot, in *confstore.Files) ([]confstore.Change, *manage.Error) {
		if teamID != "" && cur.Teams[teamID] == nil {
			return nil, manage.BadRequest("model_info.team_id", "Team id=%s does not exist; create it with /team/new first", teamID)
		}
		if manage.FindModel(cur, id) != nil {
			return nil, manage.BadRequest("model_info.id", "model id %q already exists; leave model_info.id out to get a new one", id)
		}
		if max := cur.Settings.MaxTeamModels; teamID != "" && max > 0 && len(cur.TeamDeployments[teamID]) >= max {
			return nil, manage.Forbidden("team %q has %d models, the most general_settings.max_team_models allows; delete one with /model/delete, or ask the operator to raise the setting",
				teamID, len(cur.TeamDeployments[teamID]))
		}
		var e *manage.Error
		if d, e = manage.NewDeployment(p, teamID, id, c, modelPolicy(cur.Settings), time.Now()); e != nil {
			return nil, e
		}
		ch, e := manage.NewModelFile(in, s.opts.Store.ModelsDir(), d)
		return []confstore.Change{ch}, e
	})
	if snap != nil {
		writeJSON(ctx, manage.StoredView(d))
	}
}

// visibleModels are the deployments a caller may see: all for the master
// key, the global ones and its team's for a team key.
func visibleModels(c manage.Caller, snap *configs.Snapshot) []*configs.Deployment {
	out := slices.Clone(snap.Global)
	var teams []string
	for id := range snap.TeamDeployments {
		if c.Master || id == c.TeamID {
			teams = append(teams, id)
		}
	}
	slices.Sort(teams)
	for _, id := range teams {
		out = append(out, snap.TeamDeployments[id]...)
	}
	return out
}

// modelInfo serves GET /model/info and /v1/model/info (?litellm_model_id=
// for one model).
func (s *Server) modelInfo(ctx *fasthttp.RequestCtx) {
	c, ok := s.mgmtCaller(ctx)
	if !ok {
		return
	}
	id := string(ctx.QueryArgs().Peek("litellm_model_id"))
	data := []manage.ModelObject{}
	for _, d := range visibleModels(c, s.opts.Store.Snapshot()) {
		if id == "" || d.ModelInfo.ID == id {
			data = append(data, manage.ModelView(d, manage.Owns(c, d)))
		}
	}
	if id != "" && len(data) == 0 {
		writeManage(ctx, manage.ModelNotFound("litellm_model_id", id))
		return
	}
	writeJSON(ctx, map[string]any{"data": data})
}

// modelUpdate serves POST /model/update: model_info.id names the model;
// litellm_params and model_info are merged, model_name renames.
func (s *Server) modelUpdate(ctx *fasthttp.RequestCtx) {
	c, p, ok := s.modelRequest(ctx)
	if !ok {
		return
	}
	id := p.Info.ID
	if id == "" {
		writeManage(ctx, manage.BadRequest("model_info.id", "model_info.id is missing; send the id of the model to update (GET /model/info lists them)"))
		return
	}
	var nd *configs.Deployment
	w := confstore.Write{Endpoint: "model/update", Actor: c.Name(), ObjectID: id}
	if d := manage.FindModel(s.opts.Store.Snapshot(), id); d != nil {
		w.TeamID = d.ModelInfo.TeamID
	}
	snap := s.mutate(ctx, w, func(cur *configs.Snapshot, in *confstore.Files) ([]confstore.Change, *manage.Error) {
		d := manage.FindModel(cur, id)
		notFound := manage.ModelNotFound("model_info.id", id)
		if d == nil {
			return nil, notFound
		}
		if e := modelAccess(c, cur.Settings, d.ModelInfo.TeamID, "/model/update", notFound); e != nil {
			return nil, e
		}
		written, e := manage.WrittenDeployment(in, d)
		if e != nil {
			return nil, e
		}
		if nd, e = manage.UpdateDeployment(written, p, c, modelPolicy(cur.Settings), time.Now()); e != nil {
			return nil, e
		}
		ch, e := manage.ModelFile(in, d.Source.File, id, nd)
		return []confstore.Change{ch}, e
	})
	if snap != nil {
		writeJSON(ctx, manage.StoredView(nd))
	}
}

// modelDelete serves POST /model/delete {"id"}: the model's file goes (or
// its entry, in a shared file), and with it its name everywhere.
func (s *Server) modelDelete(ctx *fasthttp.RequestCtx) {
	c, ok := s.mgmtCaller(ctx)
	if !ok {
		return
	}
	var req struct {
		ID string `json:"id"`
	}
	if !decodeBody(ctx, &req) {
		return
	}
	if req.ID == "" {
		writeManage(ctx, manage.BadRequest("id", "id is missing; send {\"id\": \"<model id>\"} (GET /model/info lists them)"))
		return
	}
	w := confstore.Write{Endpoint: "model/delete", Actor: c.Name(), ObjectID: req.ID}
	if d := manage.FindModel(s.opts.Store.Snapshot(), req.ID); d != nil {
		w.TeamID = d.ModelInfo.TeamID
	}
	snap := s.mutate(ctx, w, func(cur *configs.Snapshot, in *confstore.Files) ([]confstore.Change, *manage.Error) {
		d := manage.FindModel(cur, req.ID)
		notFound := manage.ModelNotFound("id", req.ID)
		if d == nil {
			return nil, notFound
		}
		if e := modelAccess(c, cur.Settings, d.ModelInfo.TeamID, "/model/delete", notFound); e != nil {
			return nil, e
		}
		if e := manage.RequireKeyOwner(c, d, "/model/delete"); e != nil {
			return nil, e
		}
		return manage.RemoveModels(cur, in, []*configs.Deployment{d})
	})
	if snap != nil {
		writeJSON(ctx, map[string]any{"message": "Model: " + req.ID + " deleted successfully"})
	}
}
