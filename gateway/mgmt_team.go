package gateway

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/confstore"
	"github.com/llmgateway/gateway/manage"
)

// teamNew serves POST /team/new (master key).
func (s *Server) teamNew(ctx *fasthttp.RequestCtx) {
	c, ok := s.mgmtCaller(ctx)
	if !ok {
		return
	}
	if e := manage.RequireMaster(c, s.opts.Store.Snapshot().Settings, "/team/new"); e != nil {
		writeManage(ctx, e)
		return
	}
	var req manage.TeamRequest
	if !decodeBody(ctx, &req) {
		return
	}
	if e := manage.CheckTeamFields(ctx.PostBody(), "/team/new"); e != nil {
		writeManage(ctx, e)
		return
	}
	t, e := manage.NewTeam(req, c.Name(), time.Now())
	if e != nil {
		writeManage(ctx, e)
		return
	}
	w := confstore.Write{Endpoint: "team/new", Actor: c.Name(), TeamID: t.TeamID, ObjectID: t.TeamID, Summary: "new team " + t.TeamID}
	snap := s.mutate(ctx, w, func(cur *configs.Snapshot, in *confstore.Files) ([]confstore.Change, *manage.Error) {
		if cur.Teams[t.TeamID] != nil {
			return nil, manage.BadRequest("team_id", "Team id = %s already exists. Please use a different team id.", t.TeamID)
		}
		ch, e := manage.NewTeamFile(in, s.opts.Store.TeamsDir(), t)
		return []confstore.Change{ch}, e
	})
	if snap != nil {
		writeJSON(ctx, s.teamObject(snap, snap.Teams[t.TeamID]))
	}
}

// readableTeam returns the team a caller may read (master, or a key of
// that team), answering 400/403/404 otherwise.
func (s *Server) readableTeam(ctx *fasthttp.RequestCtx, c manage.Caller, snap *configs.Snapshot, id, what string) *configs.Team {
	if id == "" {
		writeManage(ctx, manage.BadRequest("team_id", "team_id is missing; send ?team_id=<id>"))
		return nil
	}
	if e := manage.InTeamScope(c, "team_id", id); e != nil {
		writeManage(ctx, e) // another team's id answers as a missing one
		return nil
	}
	t := snap.Teams[id]
	if t == nil {
		writeManage(ctx, manage.TeamNotFound("team_id", id))
	}
	return t
}

// teamInfo serves GET /team/info?team_id= (master, or any key of the team).
func (s *Server) teamInfo(ctx *fasthttp.RequestCtx) {
	c, ok := s.mgmtCaller(ctx)
	if !ok {
		return
	}
	snap := s.opts.Store.Snapshot()
	t := s.readableTeam(ctx, c, snap, string(ctx.QueryArgs().Peek("team_id")), "/team/info")
	if t == nil {
		return
	}
	writeJSON(ctx, map[string]any{
		"team_id":          t.TeamID,
		"team_info":        s.teamObject(snap, t),
		"keys":             s.keyObjects(t, t.Keys),
		"team_memberships": []any{},
	})
}

// teamList serves GET /team/list: all teams for the master key, its own
// for a team key.
func (s *Server) teamList(ctx *fasthttp.RequestCtx) {
	c, ok := s.mgmtCaller(ctx)
	if !ok {
		return
	}
	snap := s.opts.Store.Snapshot()
	var ids []string
	for id := range snap.Teams {
		if c.Master || id == c.TeamID {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	type listed struct {
		manage.TeamObject
		Keys []manage.KeyObject `json:"keys"`
	}
	out := make([]listed, 0, len(ids))
	for _, id := range ids {
		t := snap.Teams[id]
		out = append(out, listed{s.teamObject(snap, t), s.keyObjects(t, t.Keys)})
	}
	writeJSON(ctx, out)
}

// changeTeam runs a write that replaces one existing team, authorized by
// allow, and answers with the result of answer.
func (s *Server) changeTeam(ctx *fasthttp.RequestCtx, c manage.Caller, endpoint, teamID string,
	allow func(cur *configs.Snapshot, t *configs.Team) *manage.Error,
	change func(t *configs.Team) (*configs.Team, *manage.Error),
	answer func(snap *configs.Snapshot, t *configs.Team) any) {
	if teamID == "" {
		writeManage(ctx, manage.BadRequest("team_id", "team_id is missing; send {\"team_id\": \"...\"}"))
		return
	}
	w := confstore.Write{Endpoint: endpoint, Actor: c.Name(), TeamID: teamID, ObjectID: teamID, Summary: endpoint + " " + teamID}
	snap := s.mutate(ctx, w, func(cur *configs.Snapshot, in *confstore.Files) ([]confstore.Change, *manage.Error) {
		t := cur.Teams[teamID]
		if e := allow(cur, t); e != nil {
			return nil, e
		}
		if t == nil {
			return nil, manage.TeamNotFound("team_id", teamID)
		}
		nt, e := change(t)
		if e != nil {
			return nil, e
		}
		ch, e := manage.TeamFile(in, t, nt)
		return []confstore.Change{ch}, e
	})
	if snap != nil {
		writeJSON(ctx, answer(snap, snap.Teams[teamID]))
	}
}

func (s *Server) masterOnly(c manage.Caller, what string) func(*configs.Snapshot, *configs.Team) *manage.Error {
	return func(cur *configs.Snapshot, _ *configs.Team) *manage.Error {
		return manage.RequireMaster(c, cur.Settings, what)
	}
}

func (s *Server) teamAdminOnly(c manage.Caller, teamID, what string) func(*configs.Snapshot, *configs.Team) *manage.Error {
	return func(cur *configs.Snapshot, t *configs.Team) *manage.Error {
		if e := manage.InTeamScope(c, "team_id", teamID); e != nil {
			return e // another team's id answers as a missing one
		}
		if t == nil {
			return nil // 404 follows
		}
		return manage.RequireTeamAdmin(c, cur.Settings, t, teamID, what)
	}
}

func (s *Server) teamAnswer(snap *configs.Snapshot, t *configs.Team) any {
	return s.teamObject(snap, t)
}

// teamUpdate serves POST /team/update (master): only the fields sent change.
func (s *Server) teamUpdate(ctx *fasthttp.RequestCtx) {
	c, ok := s.mgmtCaller(ctx)
	if !ok {
		return
	}
	if e := manage.RequireMaster(c, s.opts.Store.Snapshot().Settings, "/team/update"); e != nil {
		writeManage(ctx, e)
		return
	}
	var req manage.TeamRequest
	if !decodeBody(ctx, &req) {
		return
	}
	if e := manage.CheckTeamFields(ctx.PostBody(), "/team/update"); e != nil {
		writeManage(ctx, e)
		return
	}
	id := ""
	if req.TeamID != nil {
		id = *req.TeamID
	}
	s.changeTeam(ctx, c, "team/update", id, s.masterOnly(c, "/team/update"),
		func(t *configs.Team) (*configs.Team, *manage.Error) {
			return manage.UpdateTeam(t, req, c.Name(), time.Now())
		},
		func(snap *configs.Snapshot, t *configs.Team) any {
			return map[string]any{"team_id": t.TeamID, "data": s.teamObject(snap, t)}
		})
}

// teamBlock serves POST /team/block and /team/unblock (master).
func (s *Server) teamBlock(blocked bool) fasthttp.RequestHandler {
	what := "/team/block"
	if !blocked {
		what = "/team/unblock"
	}
	return func(ctx *fasthttp.RequestCtx) {
		c, ok := s.mgmtCaller(ctx)
		if !ok {
			return
		}
		if e := manage.RequireMaster(c, s.opts.Store.Snapshot().Settings, what); e != nil {
			writeManage(ctx, e)
			return
		}
		var req struct {
			TeamID string `json:"team_id"`
		}
		if !decodeBody(ctx, &req) {
			return
		}
		s.changeTeam(ctx, c, what[1:], req.TeamID, s.masterOnly(c, what),
			func(t *configs.Team) (*configs.Team, *manage.Error) {
				return manage.UpdateTeam(t, manage.TeamRequest{Blocked: &blocked}, c.Name(), time.Now())
			}, s.teamAnswer)
	}
}

// teamMemberAdd serves POST /team/member_add (master or team admin):
// {"team_id", "member": {"user_id", "role"} or a list of them}.
func (s *Server) teamMemberAdd(ctx *fasthttp.RequestCtx) {
	c, ok := s.mgmtCaller(ctx)
	if !ok {
		return
	}
	var req struct {
		TeamID string          `json:"team_id"`
		Member json.RawMessage `json:"member"`
	}
	if !decodeBody(ctx, &req) {
		return
	}
	var members []configs.Member
	if len(req.Member) > 0 && req.Member[0] == '[' {
		if e := manage.DecodeValue(req.Member, &members); e != nil {
			writeManage(ctx, manage.BadRequest("member", "member: %s", e.Message))
			return
		}
	} else if len(req.Member) > 0 && string(req.Member) != "null" {
		var m configs.Member
		if e := manage.Decode(req.Member, &m); e != nil {
			writeManage(ctx, manage.BadRequest("member", "member: %s", e.Message))
			return
		}
		members = []configs.Member{m}
	}
	s.changeTeam(ctx, c, "team/member_add", req.TeamID, s.teamAdminOnly(c, req.TeamID, "/team/member_add"),
		func(t *configs.Team) (*configs.Team, *manage.Error) {
			return manage.AddMembers(t, members, c.Name(), time.Now())
		}, s.teamAnswer)
}

// teamMemberDelete serves POST /team/member_delete (master or team admin).
func (s *Server) teamMemberDelete(ctx *fasthttp.RequestCtx) {
	c, ok := s.mgmtCaller(ctx)
	if !ok {
		return
	}
	var req struct {
		TeamID string `json:"team_id"`
		UserID string `json:"user_id"`
	}
	if !decodeBody(ctx, &req) {
		return
	}
	s.changeTeam(ctx, c, "team/member_delete", req.TeamID, s.teamAdminOnly(c, req.TeamID, "/team/member_delete"),
		func(t *configs.Team) (*configs.Team, *manage.Error) {
			return manage.RemoveMember(t, req.UserID, c.Name(), time.Now())
		}, s.teamAnswer)
}

// teamDelete serves POST /team/delete {"team_ids": [...]} (master): it
// removes each team's file, its model files and so its keys. One unknown
// id deletes nothing.
func (s *Server) teamDelete(ctx *fasthttp.RequestCtx) {
	c, ok := s.mgmtCaller(ctx)
	if !ok {
		return
	}
	if e := manage.RequireMaster(c, s.opts.Store.Snapshot().Settings, "/team/delete"); e != nil {
		writeManage(ctx, e)
		return
	}
	var req struct {
		TeamIDs []string `json:"team_ids"`
	}
	if !decodeBody(ctx, &req) {
		return
	}
	if len(req.TeamIDs) == 0 {
		writeManage(ctx, manage.BadRequest("team_ids", "team_ids is missing or empty; send {\"team_ids\": [\"...\"]}"))
		return
	}
	w := confstore.Write{Endpoint: "team/delete", Actor: c.Name(), TeamID: req.TeamIDs[0], ObjectID: fmt.Sprint(req.TeamIDs), Summary: fmt.Sprintf("delete teams %v", req.TeamIDs)}
	snap := s.mutate(ctx, w, func(cur *configs.Snapshot, in *confstore.Files) ([]confstore.Change, *manage.Error) {
		var changes []confstore.Change
		var deps []*configs.Deployment
		for _, id := range req.TeamIDs {
			t := cur.Teams[id]
			if t == nil {
				return nil, manage.NotFound("team_ids", "team %q does not exist; nothing was deleted", id)
			}
			changes = append(changes, confstore.Change{Path: t.Source.File})
			deps = append(deps, cur.TeamDeployments[id]...)
		}
		more, e := manage.RemoveModels(cur, in, deps)
		return append(changes, more...), e
	})
	if snap != nil {
		writeJSON(ctx, map[string]any{"deleted_teams": req.TeamIDs})
	}
}
