package manage

import (
	"maps"
	"slices"
	"strings"

	"github.com/llmgateway/gateway/configs"
)

// The authorization matrix of the management API. Anything not granted
// here is a 403; a missing, invalid or expired key is a 401 before any of
// these, and a blocked key or a key of a blocked team a 403 (it can do
// nothing until it is unblocked). For a team key, another team's team,
// key or model answers exactly as a missing one (404). The test that
// keeps this true is cmd/gateway/authz_matrix_e2e_test.go.
//
//	master only:              /team/new /team/update /team/delete /team/block /team/unblock, global models
//	master or any team key:   /team/info, /team/list (own team), team models (own team), /model/info (filtered)
//	master or team-admin key: /team/member_add /team/member_delete, /key/generate /key/list and key changes
//	the key itself:           /key/info of the calling key

const noMasterKey = "; no master key is configured: set GATEWAY_MASTER_KEY (general_settings.master_key: os.environ/GATEWAY_MASTER_KEY) and restart"

// RequireMaster allows only the master key.
func RequireMaster(c Caller, s configs.Settings, what string) *Error {
	if c.Master {
		return nil
	}
	if s.MasterKey == "" {
		return Forbidden("%s needs the master key%s", what, noMasterKey)
	}
	return Forbidden("%s needs the master key; a team key may not do this", what)
}

// RequireTeamKey allows the master key and any key of team teamID.
func RequireTeamKey(c Caller, teamID, what string) *Error {
	if c.Master || (c.TeamID != "" && c.TeamID == teamID) {
		return nil
	}
	return Forbidden("%s: this key belongs to another team; a team key acts for its own team only", what)
}

// RequireTeamAdmin allows the master key and a team-admin key of team.
func RequireTeamAdmin(c Caller, s configs.Settings, team *configs.Team, teamID, what string) *Error {
	if c.Master {
		return nil
	}
	if c.TeamID != teamID {
		return Forbidden("%s: this key belongs to another team; a team key acts for its own team only", what)
	}
	if c.IsTeamAdmin(team) {
		return nil
	}
	msg := "%s needs the master key or a team-admin key (a key whose user_id has role admin in the team's members_with_roles)"
	if s.MasterKey == "" {
		return Forbidden(msg+noMasterKey, what)
	}
	return Forbidden(msg, what)
}

// MasterName is how set_by, created_by and updated_by name the master key.
const MasterName = "master"

// TeamNotFound is the answer for a team that does not exist and, for a
// team key, for another team's id: the two are indistinguishable.
func TeamNotFound(param, id string) *Error {
	return NotFound(param, "team %q does not exist; GET /team/list lists the teams you may see", id)
}

// KeyNotFound is the answer for a key that does not exist and, for a team
// key, for another team's key.
func KeyNotFound() *Error {
	return NotFound("key", "no such key; /key/list lists the keys you may see")
}

// ModelNotFound is the answer for a model id that does not exist and, for
// a team key, for another team's model.
func ModelNotFound(param, id string) *Error {
	return NotFound(param, "model id %q does not exist; GET /model/info lists the models you may see", id)
}

// InTeamScope answers, for a caller that is not the master key, a team id
// other than its own exactly as a missing team (404): whether another
// team exists is not a team key's business.
func InTeamScope(c Caller, param, teamID string) *Error {
	if c.Master || (c.TeamID != "" && c.TeamID == teamID) {
		return nil
	}
	return TeamNotFound(param, teamID)
}

// masterSet reports whether field of l was set by the master key: it has
// a value and set_by names the master, or names no one (a limit in a
// reviewed file counts as the operator's).
func masterSet(setBy map[string]string, field string, hasValue bool) bool {
	if !hasValue {
		return false
	}
	by, ok := setBy[field]
	return !ok || by == "" || by == MasterName
}

// CheckKeyChange enforces the limit rules of a key write by a caller that
// is not the master key: what the master set on the key (limits, blocked,
// expires, models) changes only with the master key, and a key gets at
// most its team's own limits. cur is nil for a new key.
func CheckKeyChange(c Caller, team *configs.Team, cur *configs.Key, req KeyRequest) *Error {
	if c.Master {
		return nil
	}
	var old configs.Key
	if cur != nil {
		old = *cur
	}
	refuse := func(field string) *Error {
		return Forbidden("%s of this key was set by the master key; only the master key may change it", field)
	}
	ints := []struct {
		name string
		v    Nullable[int64]
		cur  *int64
		team *int64
	}{
		{"tpm_limit", req.TPMLimit, old.TPMLimit, team.TPMLimit},
		{"rpm_limit", req.RPMLimit, old.RPMLimit, team.RPMLimit},
		{"max_parallel_requests", req.MaxParallel, old.MaxParallelRequests, team.MaxParallelRequests},
	}
	for _, f := range ints {
		if !f.v.Set {
			continue
		}
		same := (f.v.Null && f.cur == nil) || (!f.v.Null && f.cur != nil && *f.cur == f.v.V)
		if !same && masterSet(old.SetBy, f.name, f.cur != nil) {
			return refuse(f.name)
		}
		if !f.v.Null && f.team != nil && f.v.V > *f.team {
			return Forbidden("%s %d is above the team's own %s (%d); a team key may give a key at most the team's limits (ask the master key for more)", f.name, f.v.V, f.name, *f.team)
		}
	}
	if b := req.MaxBudget; b.Set {
		same := (b.Null && old.MaxBudget == nil) || (!b.Null && old.MaxBudget != nil && *old.MaxBudget == b.V)
		if !same && masterSet(old.SetBy, "max_budget", old.MaxBudget != nil) {
			return refuse("max_budget")
		}
		if !b.Null && team.MaxBudget != nil && b.V > *team.MaxBudget {
			return Forbidden("max_budget %v is above the team's own max_budget (%v); a team key may give a key at most the team's limits (ask the master key for more)", b.V, *team.MaxBudget)
		}
	}
	if d := req.BudgetDuration; d.Set && d.V != old.BudgetDuration {
		if masterSet(old.SetBy, "budget_duration", old.BudgetDuration != "") {
			return refuse("budget_duration")
		}
		// A budget's period is part of it: a shorter one would reset the
		// master's max_budget early.
		if masterSet(old.SetBy, "max_budget", old.MaxBudget != nil) {
			return Forbidden("the max_budget of this key was set by the master key, and budget_duration decides when it resets; only the master key may change it")
		}
	}
	if req.Blocked != nil && *req.Blocked != old.Blocked && masterSet(old.SetBy, "blocked", old.Blocked) {
		return Forbidden("this key was blocked by the master key; only the master key may unblock it")
	}
	if req.Duration != nil && masterSet(old.SetBy, "expires", old.Expires != nil) {
		return refuse("the expiry (duration)")
	}
	if req.Models != nil && !slices.Equal(*req.Models, old.Models) && masterSet(old.SetBy, "models", len(old.Models) > 0) {
		return refuse("models")
	}
	if req.AllowedRoutes != nil && !slices.Equal(*req.AllowedRoutes, old.AllowedRoutes) && masterSet(old.SetBy, "allowed_routes", len(old.AllowedRoutes) > 0) {
		return refuse("allowed_routes")
	}
	if b := req.SoftBudget; b.Set {
		same := (b.Null && old.SoftBudget == nil) || (!b.Null && old.SoftBudget != nil && *old.SoftBudget == b.V)
		if !same && masterSet(old.SetBy, "soft_budget", old.SoftBudget != nil) {
			return refuse("soft_budget")
		}
	}
	if req.ModelMaxBudget != nil {
		nm := map[string]configs.ModelBudget{}
		for m, b := range *req.ModelMaxBudget {
			nm[m] = b.ModelBudget
			if team.MaxBudget != nil && b.BudgetLimit > *team.MaxBudget {
				return Forbidden("model_max_budget.%s.budget_limit %v is above the team's own max_budget (%v); a team key may give a key at most the team's limits (ask the master key for more)", m, b.BudgetLimit, *team.MaxBudget)
			}
		}
		om := map[string]configs.ModelBudget{}
		for m, b := range old.ModelMaxBudget {
			if b != nil {
				om[m] = *b
			}
		}
		if !maps.Equal(nm, om) && masterSet(old.SetBy, "model_max_budget", len(old.ModelMaxBudget) > 0) {
			return refuse("model_max_budget")
		}
	}
	for _, f := range []struct {
		name string
		v    *map[string]int64
		cur  map[string]int64
		team *int64
	}{{"model_rpm_limit", req.ModelRPMLimit, old.ModelRPMLimit, team.RPMLimit}, {"model_tpm_limit", req.ModelTPMLimit, old.ModelTPMLimit, team.TPMLimit}} {
		if f.v == nil {
			continue
		}
		if !maps.Equal(*f.v, f.cur) && masterSet(old.SetBy, f.name, len(f.cur) > 0) {
			return refuse(f.name)
		}
		for m, n := range *f.v {
			if f.team != nil && n > *f.team {
				return Forbidden("%s.%s %d is above the team's own %s (%d); a team key may give a key at most the team's limits (ask the master key for more)", f.name, m, n, strings.TrimPrefix(f.name, "model_"), *f.team)
			}
		}
	}
	return nil
}
