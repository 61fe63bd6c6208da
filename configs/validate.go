package configs

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// checkTeam validates one team on its own: id, members, limits and keys.
func (b *builder) checkTeam(t *Team) {
	switch {
	case t.TeamID == "" && b.has(t, "team_id"):
		// its type error is reported already
	case t.TeamID == "":
		b.problems.errorf(t.Source, "team_id is missing; add team_id: <id> (the management API uses a UUID)")
	case strings.ContainsAny(t.TeamID, `/\`) || strings.HasPrefix(t.TeamID, ".") || strings.TrimSpace(t.TeamID) != t.TeamID:
		b.problems.errorf(b.posOf(t, "team_id", t.Source), "team_id %q cannot be used as a file name (no slashes, no leading dot or spaces); use e.g. a UUID", t.TeamID)
	}
	for i := range t.MembersWithRoles {
		m := &t.MembersWithRoles[i]
		if !b.has(m, "") {
			continue // not a mapping: its type error is reported already
		}
		at := b.posOf(m, "", t.Source)
		if m.UserID == "" {
			b.problems.errorf(at, "members_with_roles[%d] has no user_id; add user_id: <user id>", i)
		}
		if m.Role != "admin" && m.Role != "user" {
			b.problems.errorf(b.posOf(m, "role", at), "members_with_roles[%d].role is %q; use admin or user", i, m.Role)
		}
	}
	b.checkLimits(t, &t.Limits, "", t.Source)
	spendIDs := make(map[string]int, len(t.Keys))
	for i, k := range t.Keys {
		if id := k.SpendID(); id != "" {
			if first, dup := spendIDs[id]; dup && (k.KeyID != "" || t.Keys[first].KeyID != "") {
				b.problems.errorf(b.posOf(k, "key_id", k.Source), "keys[%d] and keys[%d] share the spend record %q (key_id or token); give each key its own key_id, or remove key_id", first, i, id[:min(8, len(id))]+"...")
			} else if !dup {
				spendIDs[id] = i
			}
		}
		prefix := fmt.Sprintf("keys[%d].", i)
		if k.Token == "" && !b.has(k, "token") {
			b.problems.errorf(k.Source, "%stoken is missing; add token: <sha256 hex of the key> (`gateway hash-key` or the /key/generate API computes it)", prefix)
		} else if !isHexSHA256(k.Token) {
			b.problems.errorf(b.posOf(k, "token", k.Source), "%stoken is not 64 lowercase hex characters; store the sha256 of the whole key (\"sk-\" included), never the key itself", prefix)
		}
		b.checkLimits(k, &k.Limits, prefix, k.Source)
		b.checkKeyFields(k, prefix)
	}
	if why := CheckTags(t.Tags); why != "" {
		b.problems.fieldErrorf(b.posOf(t, "tags", t.Source), "tags", "tags%s; use at most %d non-empty tags of at most %d characters", spaced(why), MaxTags, MaxTagLen)
	}
	if _, why := MetadataTags(t.Metadata); why != "" {
		b.problems.fieldErrorf(b.posOf(t, "metadata", t.Source), "metadata", "metadata.tags%s; use a list of at most %d non-empty strings of at most %d characters", spaced(why), MaxTags, MaxTagLen)
	}
	if len(t.Guardrails) > 0 {
		// Kept loadable (a LiteLLM team file may carry them), but said
		// loudly: the gateway runs no guardrails. The API refuses them.
		b.problems.warnf(b.posOf(t, "guardrails", t.Source), "guardrails are not supported by this gateway and are NOT applied to this team's calls; remove them")
	}
}

func isHexSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Bounds of the numbers a file or a caller may set. Every price, limit
// and budget is finite and within these, so spend arithmetic can never
// overflow to Inf or become NaN.
const (
	// MaxPricePerToken is the highest input/output_cost_per_token, in
	// USD: no model costs a dollar a token.
	MaxPricePerToken = 1.0
	// MaxBudgetUSD is the highest max_budget.
	MaxBudgetUSD = 1e12
	// MaxTimeoutSeconds is the longest timeout / stream_timeout (a day).
	MaxTimeoutSeconds = 86400
)

// LimitNames are the limits of a team or key.
var LimitNames = []string{"tpm_limit", "rpm_limit", "max_parallel_requests", "max_budget", "budget_duration"}

// SetByNames are the fields set_by records: the limits, and a key's
// blocked, expires and models.
var SetByNames = append(slices.Clone(LimitNames), "blocked", "expires", "models",
	"allowed_routes", "soft_budget", "model_max_budget", "model_rpm_limit", "model_tpm_limit")

// CheckFinite returns the problem with a number from a file or a caller,
// or "": NaN and infinities are refused, and so are values outside
// [0, max].
func CheckFinite(v, max float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "is not a finite number"
	case v < 0:
		return "is negative"
	case v > max:
		return fmt.Sprintf("is %v, above the highest accepted value %v", v, max)
	}
	return ""
}

// checkLimits validates the limits inlined into owner (a team or a key).
func (b *builder) checkLimits(owner any, l *Limits, prefix string, fallback Pos) {
	neg := func(name string, isNeg bool) {
		if isNeg {
			b.problems.fieldErrorf(b.posOf(owner, name, fallback), name, "%s%s is negative; use a positive number, or remove it (null in the API) for no limit", prefix, name)
		}
	}
	neg("tpm_limit", l.TPMLimit != nil && *l.TPMLimit < 0)
	neg("rpm_limit", l.RPMLimit != nil && *l.RPMLimit < 0)
	neg("max_parallel_requests", l.MaxParallelRequests != nil && *l.MaxParallelRequests < 0)
	if l.MaxBudget != nil {
		if why := CheckFinite(*l.MaxBudget, MaxBudgetUSD); why != "" {
			b.problems.fieldErrorf(b.posOf(owner, "max_budget", fallback), "max_budget", "%smax_budget %s; use a number of USD from 0 to %g, or remove it (null in the API) for no budget", prefix, why, float64(MaxBudgetUSD))
		}
	}
	if l.BudgetDuration != "" {
		if _, _, err := ParseBudgetDuration(l.BudgetDuration); err != nil {
			b.problems.fieldErrorf(b.posOf(owner, "budget_duration", fallback), "budget_duration", "%s%v", prefix, err)
		}
	}
	for name := range l.SetBy {
		if !slices.Contains(SetByNames, name) {
			b.problems.warnf(b.posOf(owner, "set_by", fallback), "%sset_by names %q, which is not a limit (%s); the entry is ignored", prefix, name, strings.Join(SetByNames, ", "))
		}
	}
}

// checkDeploymentNumbers refuses litellm_params numbers that are negative,
// not finite or absurd: prices above MaxPricePerToken, timeouts above a
// day.
func (b *builder) checkDeploymentNumbers(p *LiteLLMParams, at Pos) {
	for _, n := range []struct {
		name string
		neg  bool
	}{
		{"max_retries", p.MaxRetries != nil && *p.MaxRetries < 0},
		{"rpm", p.RPM != nil && *p.RPM < 0},
		{"tpm", p.TPM != nil && *p.TPM < 0},
	} {
		if n.neg {
			b.problems.fieldErrorf(b.posOf(p, n.name, at), "litellm_params."+n.name, "litellm_params.%s is negative; use 0 or a positive number", n.name)
		}
	}
	if p.MaxRetries != nil && *p.MaxRetries > MaxRetries {
		b.problems.fieldErrorf(b.posOf(p, "max_retries", at), "litellm_params.max_retries", "litellm_params.max_retries is %d, above the highest accepted value %d; use a whole number from 0 to %d", *p.MaxRetries, MaxRetries, MaxRetries)
	}
	if p.Weight != nil {
		w := *p.Weight
		if why := CheckFinite(w, MaxDeploymentWeight); why != "" || w == 0 {
			if why == "" {
				why = "is 0"
			}
			b.problems.fieldErrorf(b.posOf(p, "weight", at), "litellm_params.weight", "litellm_params.weight %s; use a positive number up to %g (the deployment's share relative to its group's others), or remove it", why, float64(MaxDeploymentWeight))
		}
	}
	if p.Order != nil && *p.Order < 1 {
		b.problems.fieldErrorf(b.posOf(p, "order", at), "litellm_params.order", "litellm_params.order is %d; use a whole number from 1 (tried first), or remove it (tried after every ordered deployment)", *p.Order)
	}
	for _, n := range []struct {
		name, unit string
		v          *float64
		max        float64
	}{
		{"timeout", "seconds", p.Timeout, MaxTimeoutSeconds},
		{"stream_timeout", "seconds", p.StreamTimeout, MaxTimeoutSeconds},
		{"input_cost_per_token", "USD per token", p.InputCostPerToken, MaxPricePerToken},
		{"output_cost_per_token", "USD per token", p.OutputCostPerToken, MaxPricePerToken},
	} {
		if n.v == nil {
			continue
		}
		if why := CheckFinite(*n.v, n.max); why != "" {
			b.problems.fieldErrorf(b.posOf(p, n.name, at), "litellm_params."+n.name, "litellm_params.%s %s; use a number of %s from 0 to %g", n.name, why, n.unit, n.max)
		}
	}
}

// checkTeamModels warns about a team with more deployments than
// general_settings.max_team_models (the management API refuses more).
func (b *builder) checkTeamModels(snap *Snapshot) {
	max := snap.Settings.MaxTeamModels
	if max <= 0 {
		return
	}
	for id, deps := range snap.TeamDeployments {
		if len(deps) > max {
			b.problems.warnf(deps[max].Source, "team %q has %d deployments, more than general_settings.max_team_models (%d); /model/new refuses more until some are deleted or the setting is raised", id, len(deps), max)
		}
	}
}

// assemble fills the snapshot's teams and deployments and runs the
// cross-file checks: unique team ids, key tokens and deployment ids, team
// deployments of existing teams, and model_aliases that resolve. It is
// linear in the number of teams, keys and deployments.
func (b *builder) assemble(snap *Snapshot, teams []*teamRec, deployments []*depRec) {
	type keyOwner struct {
		team *Team
		at   Pos
	}
	tokens := make(map[string]keyOwner, len(teams))
	byID := make(map[string]*teamRec, len(teams))
	for _, r := range teams {
		t := r.t
		if t.TeamID == "" {
			continue
		}
		if first, dup := byID[t.TeamID]; dup {
			b.problems.errorf(r.idPos, "team_id %q is already defined at %s; give each team its own id (one team per file)",
				t.TeamID, first.idPos)
			continue
		}
		byID[t.TeamID] = r
		snap.Teams[t.TeamID] = t
		for i, k := range t.Keys {
			if k.Token == "" {
				continue
			}
			if first, dup := tokens[k.Token]; dup {
				b.problems.errorf(r.tokenPos[i], "key token %s... is already used by team %q at %s; every key must be unique (generate a new key)",
					k.Token[:min(8, len(k.Token))], first.team.TeamID, first.at)
				continue
			}
			tokens[k.Token] = keyOwner{t, r.tokenPos[i]}
		}
	}

	ids := make(map[string]*Deployment, len(deployments))
	internal := make(map[string]*Deployment, len(deployments)) // team deployments by model_name
	for _, r := range deployments {
		d := r.d
		if first, dup := ids[d.ModelInfo.ID]; dup {
			if r.idExplicit {
				b.problems.errorf(r.at(r.idPos), "deployment id %q is already used at %s; give each deployment its own model_info.id",
					d.ModelInfo.ID, first.Source)
			} else {
				b.problems.errorf(d.Source, "deployment is identical to the one at %s (same model_name and litellm_params, so the same generated id %s); remove one or set model_info.id",
					first.Source, d.ModelInfo.ID)
			}
			continue
		}
		ids[d.ModelInfo.ID] = d
		team := d.ModelInfo.TeamID
		if team == "" {
			snap.Global = append(snap.Global, d)
			continue
		}
		if _, ok := snap.Teams[team]; !ok {
			b.problems.errorf(r.at(r.teamIDPos), "model_info.team_id %q does not match any team; create the team in teams.d/ or fix the id", team)
		}
		if first, dup := internal[d.ModelName]; dup && d.ModelName != "" {
			b.problems.errorf(r.at(r.modelNamePos), "model_name %q is already used by the team deployment at %s; a team deployment's model_name is its internal name and must be unique (share team_public_model_name to load-balance)",
				d.ModelName, first.Source)
		} else {
			internal[d.ModelName] = d
		}
		snap.TeamDeployments[team] = append(snap.TeamDeployments[team], d)
	}

	var global map[string]bool
	for _, r := range teams {
		t := r.t
		if len(t.ModelAliases) == 0 || snap.Teams[t.TeamID] != t {
			continue
		}
		if global == nil {
			global = make(map[string]bool, len(snap.Global))
			for _, d := range snap.Global {
				global[d.ModelName] = true
			}
		}
		names := map[string]bool{}
		for _, d := range snap.TeamDeployments[t.TeamID] {
			names[d.PublicName()] = true
			names[d.ModelName] = true
		}
		known := func(name string) bool { return names[name] || global[name] }
		aliases := make([]string, 0, len(t.ModelAliases))
		for a := range t.ModelAliases {
			aliases = append(aliases, a)
		}
		slices.Sort(aliases)
		for _, a := range aliases {
			target := t.ModelAliases[a]
			if !known(target) {
				b.problems.errorf(r.aliasPos[a], "model_aliases: %q points at %q, which is neither a model of team %q nor a global model; add that model or fix the alias",
					a, target, t.TeamID)
			}
		}
	}
}
