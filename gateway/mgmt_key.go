package gateway

import (
	"fmt"
	"slices"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/confstore"
	"github.com/llmgateway/gateway/manage"
)

// keyGenerate serves POST /key/generate (master or a team-admin key).
func (s *Server) keyGenerate(ctx *fasthttp.RequestCtx) {
	c, ok := s.mgmtCaller(ctx)
	if !ok {
		return
	}
	var req manage.KeyRequest
	if !decodeBody(ctx, &req) {
		return
	}
	if e := manage.CheckKeyFields(ctx.PostBody(), "/key/generate"); e != nil {
		writeManage(ctx, e)
		return
	}
	if req.TeamID == nil || *req.TeamID == "" {
		writeManage(ctx, manage.BadRequest("team_id", "team_id is missing; every key belongs to a team: send {\"team_id\": \"...\"}"))
		return
	}
	teamID := *req.TeamID
	secret, k, e := manage.NewKey(req, c.Name(), time.Now())
	if e != nil {
		writeManage(ctx, e)
		return
	}
	w := confstore.Write{Endpoint: "key/generate", Actor: c.Name(), TeamID: teamID, ObjectID: k.Token, Summary: "new key " + k.KeyName + " for team " + teamID}
	snap := s.mutate(ctx, w, func(cur *configs.Snapshot, in *confstore.Files) ([]confstore.Change, *manage.Error) {
		t := cur.Teams[teamID]
		if e := manage.InTeamScope(c, "team_id", teamID); e != nil {
			return nil, e // another team's id answers as a missing one
		}
		if t == nil {
			return nil, manage.TeamNotFound("team_id", teamID)
		}
		if e := manage.RequireTeamAdmin(c, cur.Settings, t, teamID, "/key/generate"); e != nil {
			return nil, e
		}
		if e := manage.CheckKeyChange(c, t, nil, req); e != nil {
			return nil, e
		}
		if req.Key != nil && *req.Key != "" && keyInUse(cur, k.Token, *req.Key) {
			// Never say where: another team's key is not the caller's business.
			return nil, manage.BadRequest("key", "this key value is already in use; choose another value, or leave key out for a generated one")
		}
		nt := manage.CloneTeam(t)
		nt.Keys = append(nt.Keys, k)
		manage.Touch(nt, c.Name(), time.Now())
		ch, e := manage.TeamFile(in, t, nt)
		return []confstore.Change{ch}, e
	})
	if snap == nil {
		return
	}
	o := s.keyObjects(snap.Teams[teamID], []*configs.Key{k})[0]
	o.Key = secret
	writeJSON(ctx, o)
}

// keyAccess finds the key named by keyOrToken and checks the caller may
// manage it: master, or a team-admin key of its team (or, when self is
// true, the key itself). For a team key, another team's key answers
// exactly as a missing one.
func keyAccess(c manage.Caller, snap *configs.Snapshot, keyOrToken, what string, self bool) (*configs.Team, *configs.Key, *manage.Error) {
	if keyOrToken == "" {
		return nil, nil, manage.BadRequest("key", "key is missing; send the key (sk-...) or its token")
	}
	t, k := manage.FindKey(snap, keyOrToken)
	if k == nil || (!c.Master && t.TeamID != c.TeamID) {
		return nil, nil, manage.KeyNotFound()
	}
	if c.Master || (self && c.Key != nil && c.Key.Token == k.Token) {
		return t, k, nil
	}
	if e := manage.RequireTeamAdmin(c, snap.Settings, t, t.TeamID, what); e != nil {
		return nil, nil, e
	}
	return t, k, nil
}

// keyInfo serves GET /key/info?key= (the key or its token; without it, the
// calling key).
func (s *Server) keyInfo(ctx *fasthttp.RequestCtx) {
	c, ok := s.mgmtCaller(ctx)
	if !ok {
		return
	}
	q := string(ctx.QueryArgs().Peek("key"))
	if q == "" && c.Key != nil {
		q = c.Key.Token
	}
	t, k, e := keyAccess(c, s.opts.Store.Snapshot(), q, "/key/info", true)
	if e != nil {
		writeManage(ctx, e)
		return
	}
	writeJSON(ctx, map[string]any{"key": k.Token, "info": s.keyObjects(t, []*configs.Key{k})[0]})
}

// keyList serves GET /key/list: every key for the master key, its team's
// for a team-admin key. ?team_id= filters, ?return_full_object=true
// answers objects instead of tokens.
func (s *Server) keyList(ctx *fasthttp.RequestCtx) {
	c, ok := s.mgmtCaller(ctx)
	if !ok {
		return
	}
	snap := s.opts.Store.Snapshot()
	filter := string(ctx.QueryArgs().Peek("team_id"))
	if !c.Master {
		if filter == "" {
			filter = c.TeamID
		}
		if e := manage.InTeamScope(c, "team_id", filter); e != nil {
			writeManage(ctx, e) // another team's id answers as a missing one
			return
		}
		if e := manage.RequireTeamAdmin(c, snap.Settings, snap.Teams[c.TeamID], filter, "/key/list"); e != nil {
			writeManage(ctx, e)
			return
		}
	}
	var ids []string
	for id := range snap.Teams {
		if filter == "" || id == filter {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	full := string(ctx.QueryArgs().Peek("return_full_object")) == "true"
	keys := []any{}
	for _, id := range ids {
		t := snap.Teams[id]
		if full {
			for _, o := range s.keyObjects(t, t.Keys) {
				keys = append(keys, o)
			}
			continue
		}
		for _, k := range t.Keys {
			keys = append(keys, k.Token)
		}
	}
	writeJSON(ctx, map[string]any{"keys": keys, "total_count": len(keys), "current_page": 1, "total_pages": 1})
}

// changeKey runs a write that replaces (or with a nil result removes) one
// key, authorized as keyAccess, and answers the key.
func (s *Server) changeKey(ctx *fasthttp.RequestCtx, c manage.Caller, endpoint, keyOrToken string,
	change func(t *configs.Team, k *configs.Key) (string, *configs.Key, *manage.Error)) {
	var secret string
	var teamID string
	var nk *configs.Key
	w := confstore.Write{Endpoint: endpoint, Actor: c.Name()}
	if t, k := manage.FindKey(s.opts.Store.Snapshot(), keyOrToken); k != nil {
		w.TeamID, w.ObjectID = t.TeamID, k.Token
	}
	snap := s.mutate(ctx, w, func(cur *configs.Snapshot, in *confstore.Files) ([]confstore.Change, *manage.Error) {
		t, k, e := keyAccess(c, cur, keyOrToken, "/"+endpoint, false)
		if e != nil {
			return nil, e
		}
		secret, nk, e = change(t, k)
		if e != nil {
			return nil, e
		}
		teamID = t.TeamID
		ch, e := manage.TeamFile(in, t, manage.ReplaceKey(t, k.Token, nk, c.Name(), time.Now()))
		return []confstore.Change{ch}, e
	})
	if snap == nil {
		return
	}
	o := s.keyObjects(snap.Teams[teamID], []*configs.Key{nk})[0]
	o.Key = secret
	writeJSON(ctx, o)
}

// keyUpdate serves POST /key/update: only the fields sent change.
func (s *Server) keyUpdate(ctx *fasthttp.RequestCtx) {
	c, ok := s.mgmtCaller(ctx)
	if !ok {
		return
	}
	var req manage.KeyRequest
	if !decodeBody(ctx, &req) {
		return
	}
	if e := manage.CheckKeyFields(ctx.PostBody(), "/key/update"); e != nil {
		writeManage(ctx, e)
		return
	}
	q := ""
	if req.Key != nil {
		q = *req.Key
	}
	s.changeKey(ctx, c, "key/update", q, func(t *configs.Team, k *configs.Key) (string, *configs.Key, *manage.Error) {
		if req.TeamID != nil && *req.TeamID != t.TeamID {
			return "", nil, manage.BadRequest("team_id", "a key cannot move to another team; generate a new key there")
		}
		if e := manage.CheckKeyChange(c, t, k, req); e != nil {
			return "", nil, e
		}
		nk, e := manage.UpdateKey(k, req, c.Name(), time.Now())
		return "", nk, e
	})
}

// keyRegenerate serves POST /key/regenerate {"key"} and
// /key/{key}/regenerate: a new value for the same key; the old one stops
// working.
func (s *Server) keyRegenerate(ctx *fasthttp.RequestCtx) {
	c, ok := s.mgmtCaller(ctx)
	if !ok {
		return
	}
	q, _ := ctx.UserValue("key").(string)
	if q == "" {
		var req struct {
			Key string `json:"key"`
		}
		if !decodeBody(ctx, &req) {
			return
		}
		q = req.Key
	}
	s.changeKey(ctx, c, "key/regenerate", q, func(_ *configs.Team, k *configs.Key) (string, *configs.Key, *manage.Error) {
		return manage.Regenerate(k, c.Name(), time.Now())
	})
}

// keyBlock serves POST /key/block and /key/unblock {"key"}.
func (s *Server) keyBlock(blocked bool) fasthttp.RequestHandler {
	endpoint := "key/block"
	if !blocked {
		endpoint = "key/unblock"
	}
	return func(ctx *fasthttp.RequestCtx) {
		c, ok := s.mgmtCaller(ctx)
		if !ok {
			return
		}
		var req struct {
			Key string `json:"key"`
		}
		if !decodeBody(ctx, &req) {
			return
		}
		s.changeKey(ctx, c, endpoint, req.Key, func(t *configs.Team, k *configs.Key) (string, *configs.Key, *manage.Error) {
			kr := manage.KeyRequest{Blocked: &blocked}
			if e := manage.CheckKeyChange(c, t, k, kr); e != nil {
				return "", nil, e
			}
			nk, e := manage.UpdateKey(k, kr, c.Name(), time.Now())
			return "", nk, e
		})
	}
}

// keyDelete serves POST /key/delete {"keys": [...]}: one unknown or
// forbidden key deletes nothing.
func (s *Server) keyDelete(ctx *fasthttp.RequestCtx) {
	c, ok := s.mgmtCaller(ctx)
	if !ok {
		return
	}
	var req struct {
		Keys []string `json:"keys"`
	}
	if !decodeBody(ctx, &req) {
		return
	}
	if len(req.Keys) == 0 {
		writeManage(ctx, manage.BadRequest("keys", "keys is missing or empty; send {\"keys\": [\"sk-...\" or token]}"))
		return
	}
	w := confstore.Write{Endpoint: "key/delete", Actor: c.Name(), Summary: fmt.Sprintf("delete %d keys", len(req.Keys))}
	if t, k := manage.FindKey(s.opts.Store.Snapshot(), req.Keys[0]); k != nil {
		w.TeamID, w.ObjectID = t.TeamID, k.Token
	}
	snap := s.mutate(ctx, w, func(cur *configs.Snapshot, in *confstore.Files) ([]confstore.Change, *manage.Error) {
		teams := map[string]*configs.Team{} // the edited copies
		var order []*configs.Team
		for _, q := range req.Keys {
			t, k, e := keyAccess(c, cur, q, "/key/delete", false)
			if e != nil {
				return nil, e
			}
			nt := teams[t.TeamID]
			if nt == nil {
				nt = manage.CloneTeam(t)
				teams[t.TeamID] = nt
				order = append(order, t)
			}
			teams[t.TeamID] = manage.ReplaceKey(nt, k.Token, nil, c.Name(), time.Now())
		}
		var changes []confstore.Change
		for _, t := range order {
			ch, e := manage.TeamFile(in, t, teams[t.TeamID])
			if e != nil {
				return nil, e
			}
			changes = append(changes, ch)
		}
		return changes, nil
	})
	if snap != nil {
		writeJSON(ctx, map[string]any{"deleted_keys": req.Keys})
	}
}

// keyInUse reports whether a custom key value (its sha256 token) is taken:
// a key of any team (by token or spend id), the master key or the metrics
// key.
func keyInUse(snap *configs.Snapshot, token, secret string) bool {
	if (snap.Settings.MasterKey != "" && secret == snap.Settings.MasterKey) ||
		(snap.Settings.MetricsKey != "" && secret == snap.Settings.MetricsKey) {
		return true
	}
	for _, t := range snap.Teams {
		for _, k := range t.Keys {
			if k.Token == token || k.KeyID == token {
				return true
			}
		}
	}
	return false
}
