package manage

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/llmgateway/gateway/configs"
)

// TeamRequest is the body of /team/new and /team/update. A nil field was
// not sent.
type TeamRequest struct {
	TeamID           *string           `json:"team_id"`
	TeamAlias        *string           `json:"team_alias"`
	OrganizationID   *string           `json:"organization_id"`
	MembersWithRoles *[]configs.Member `json:"members_with_roles"`
	Admins           []string          `json:"admins"` // deprecated: user ids with role admin
	Users            []string          `json:"users"`  // deprecated: user ids with role user
	Metadata         *map[string]any   `json:"metadata"`
	LimitsRequest
	Models       *[]string          `json:"models"`
	Blocked      *bool              `json:"blocked"`
	Tags         *[]string          `json:"tags"`
	Guardrails   *[]string          `json:"guardrails"`
	ModelAliases *map[string]string `json:"model_aliases"`
	// Fallbacks are the team's own, by its public names, in LiteLLM's
	// shape [{"model": ["fallback", ...]}]; the build checks the names.
	Fallbacks *[]map[string][]string `json:"fallbacks"`
}

// ValidID checks an id the API uses as a file name (team ids, model ids).
func ValidID(param, id string) *Error {
	switch {
	case id == "":
		return BadRequest(param, "%s is empty; omit it to get a generated UUID", param)
	case len(id) > 128:
		return BadRequest(param, "%s is longer than 128 characters", param)
	case strings.HasPrefix(id, "."):
		return BadRequest(param, "%s %q may not start with a dot", param, id)
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_.@", c)) {
			return BadRequest(param, "%s %q may hold only letters, digits and - _ . @ (it names a file); use e.g. a UUID", param, id)
		}
	}
	return nil
}

// NewTeam builds a team from a /team/new request.
func NewTeam(req TeamRequest, by string, now time.Time) (*configs.Team, *Error) {
	t := &configs.Team{TeamID: uuid.NewString()}
	if req.TeamID != nil {
		if err := ValidID("team_id", *req.TeamID); err != nil {
			return nil, err
		}
		t.TeamID = *req.TeamID
	}
	for _, id := range req.Admins {
		t.MembersWithRoles = append(t.MembersWithRoles, configs.Member{UserID: id, Role: "admin"})
	}
	for _, id := range req.Users {
		t.MembersWithRoles = append(t.MembersWithRoles, configs.Member{UserID: id, Role: "user"})
	}
	if err := applyTeam(t, req, by); err != nil {
		return nil, err
	}
	at := now.UTC().Truncate(time.Second)
	t.CreatedAt, t.CreatedBy = &at, by
	t.UpdatedAt, t.UpdatedBy = &at, by
	return t, nil
}

// UpdateTeam returns a copy of cur with the fields sent in req changed.
func UpdateTeam(cur *configs.Team, req TeamRequest, by string, now time.Time) (*configs.Team, *Error) {
	t := CloneTeam(cur)
	for _, id := range req.Admins {
		t.MembersWithRoles = setMember(t.MembersWithRoles, configs.Member{UserID: id, Role: "admin"})
	}
	for _, id := range req.Users {
		t.MembersWithRoles = setMember(t.MembersWithRoles, configs.Member{UserID: id, Role: "user"})
	}
	if err := applyTeam(t, req, by); err != nil {
		return nil, err
	}
	Touch(t, by, now)
	return t, nil
}

// Touch sets updated_at / updated_by.
func Touch(t *configs.Team, by string, now time.Time) {
	at := now.UTC().Truncate(time.Second)
	t.UpdatedAt, t.UpdatedBy = &at, by
	if t.CreatedAt == nil {
		t.CreatedAt = &at
	}
	if t.CreatedBy == "" {
		t.CreatedBy = by
	}
}

func applyTeam(t *configs.Team, req TeamRequest, by string) *Error {
	if req.TeamAlias != nil {
		if strings.TrimSpace(*req.TeamAlias) == "" {
			return BadRequest("team_alias", "team_alias is empty; give the team a name or leave the field out")
		}
		t.TeamAlias = *req.TeamAlias
	}
	if req.OrganizationID != nil {
		t.OrganizationID = req.OrganizationID
	}
	if req.MembersWithRoles != nil {
		for i, m := range *req.MembersWithRoles {
			if err := checkMember(m, "members_with_roles", i); err != nil {
				return err
			}
		}
		t.MembersWithRoles = slices.Clone(*req.MembersWithRoles)
	}
	if req.Metadata != nil {
		t.Metadata = maps.Clone(*req.Metadata)
	}
	if err := req.LimitsRequest.apply(&t.Limits, by); err != nil {
		return err
	}
	if req.Models != nil {
		if err := nonEmpty("models", *req.Models); err != nil {
			return err
		}
		t.Models = slices.Clone(*req.Models)
	}
	if req.Blocked != nil {
		t.Blocked = *req.Blocked
		if t.Blocked {
			setBy(&t.SetBy, "blocked", by)
		} else {
			setBy(&t.SetBy, "blocked", "")
		}
	}
	if req.Tags != nil {
		t.Tags = slices.Clone(*req.Tags)
		if len(t.Tags) == 0 {
			t.Tags = nil
		}
	}
	if req.Guardrails != nil {
		// Only an empty list gets here (CheckTeamFields refuses others):
		// it clears guardrails a file had.
		t.Guardrails = nil
	}
	if req.ModelAliases != nil {
		for a, target := range *req.ModelAliases {
			if strings.TrimSpace(a) == "" || strings.TrimSpace(target) == "" {
				return BadRequest("model_aliases", "model_aliases has an empty name or target; write {\"alias\": \"model name\"}")
			}
		}
		t.ModelAliases = maps.Clone(*req.ModelAliases)
	}
	if req.Fallbacks != nil {
		t.Fallbacks = nil
		for _, m := range *req.Fallbacks {
			c := map[string][]string{}
			for k, v := range m {
				c[k] = slices.Clone(v)
			}
			t.Fallbacks = append(t.Fallbacks, c)
		}
	}
	return nil
}

func checkMember(m configs.Member, field string, i int) *Error {
	if strings.TrimSpace(m.UserID) == "" {
		return BadRequest(field, "%s[%d].user_id is empty; give the member's user_id", field, i)
	}
	if m.Role != "admin" && m.Role != "user" {
		return BadRequest(field, "%s[%d].role is %q; use admin or user", field, i, m.Role)
	}
	return nil
}

func nonEmpty(field string, names []string) *Error {
	for i, n := range names {
		if strings.TrimSpace(n) == "" {
			return BadRequest(field, "%s[%d] is an empty name", field, i)
		}
	}
	return nil
}

// applyLimits sets the limits sent (a nil pointer was not sent).
// LimitsRequest are the limit fields of a team or key request. Each is
// left out (unchanged), null (removed: no limit) or a value.
type LimitsRequest struct {
	TPMLimit       Nullable[int64]   `json:"tpm_limit"`
	RPMLimit       Nullable[int64]   `json:"rpm_limit"`
	MaxParallel    Nullable[int64]   `json:"max_parallel_requests"`
	MaxBudget      Nullable[float64] `json:"max_budget"`
	BudgetDuration Nullable[string]  `json:"budget_duration"`
}

// Nullable is a request field that tells apart left out (Set false),
// null (Null) and a value (V).
type Nullable[T any] struct {
	Set, Null bool
	V         T
}

func (n *Nullable[T]) UnmarshalJSON(b []byte) error {
	n.Set = true
	if string(b) == "null" {
		n.Null = true
		return nil
	}
	return json.Unmarshal(b, &n.V)
}

// apply sets the limits the request names on l and records in
// l.SetBy who set each (by), or drops the entry of a limit removed. The
// numbers themselves are checked where every write goes through: the
// configuration's validation (configs.checkLimits), which names the
// field in the 400.
func (r LimitsRequest) apply(l *configs.Limits, by string) *Error {
	for _, f := range []struct {
		name string
		v    Nullable[int64]
		dst  **int64
	}{{"tpm_limit", r.TPMLimit, &l.TPMLimit}, {"rpm_limit", r.RPMLimit, &l.RPMLimit}, {"max_parallel_requests", r.MaxParallel, &l.MaxParallelRequests}} {
		switch {
		case !f.v.Set:
		case f.v.Null:
			*f.dst = nil
			setBy(&l.SetBy, f.name, "")
		default:
			v := f.v.V
			*f.dst = &v
			setBy(&l.SetBy, f.name, by)
		}
	}
	switch b := r.MaxBudget; {
	case !b.Set:
	case b.Null:
		l.MaxBudget = nil
		setBy(&l.SetBy, "max_budget", "")
	default:
		v := b.V
		l.MaxBudget = &v
		setBy(&l.SetBy, "max_budget", by)
	}
	if d := r.BudgetDuration; d.Set {
		l.BudgetDuration = d.V // null: "" (the budget never resets)
		if d.V == "" {
			setBy(&l.SetBy, "budget_duration", "")
		} else {
			setBy(&l.SetBy, "budget_duration", by)
		}
	}
	return nil
}

// setBy records (by != "") or forgets who set field.
func setBy(m *map[string]string, field, by string) {
	if by == "" {
		delete(*m, field)
		if len(*m) == 0 {
			*m = nil
		}
		return
	}
	if *m == nil {
		*m = map[string]string{}
	}
	(*m)[field] = by
}

func setMember(ms []configs.Member, m configs.Member) []configs.Member {
	for i := range ms {
		if ms[i].UserID == m.UserID {
			ms[i].Role = m.Role
			return ms
		}
	}
	return append(ms, m)
}

// AddMembers adds members (or changes their role) for /team/member_add.
func AddMembers(cur *configs.Team, members []configs.Member, by string, now time.Time) (*configs.Team, *Error) {
	if len(members) == 0 {
		return nil, BadRequest("member", "member is missing; send \"member\": {\"user_id\": \"...\", \"role\": \"user\"}")
	}
	t := CloneTeam(cur)
	for i, m := range members {
		if m.Role == "" {
			m.Role = "user"
		}
		if err := checkMember(m, "member", i); err != nil {
			return nil, err
		}
		t.MembersWithRoles = setMember(t.MembersWithRoles, m)
	}
	Touch(t, by, now)
	return t, nil
}

// RemoveMember removes a member for /team/member_delete.
func RemoveMember(cur *configs.Team, userID string, by string, now time.Time) (*configs.Team, *Error) {
	if userID == "" {
		return nil, BadRequest("user_id", "user_id is missing; send {\"team_id\": \"...\", \"user_id\": \"...\"}")
	}
	t := CloneTeam(cur)
	n := len(t.MembersWithRoles)
	t.MembersWithRoles = slices.DeleteFunc(t.MembersWithRoles, func(m configs.Member) bool { return m.UserID == userID })
	if len(t.MembersWithRoles) == n {
		return nil, NotFound("user_id", "user %q is not a member of team %q", userID, t.TeamID)
	}
	Touch(t, by, now)
	return t, nil
}

// CloneTeam deep-copies a team (snapshots are immutable).
func CloneTeam(cur *configs.Team) *configs.Team {
	t := *cur
	t.MembersWithRoles = slices.Clone(cur.MembersWithRoles)
	t.Metadata = maps.Clone(cur.Metadata)
	t.Models = slices.Clone(cur.Models)
	t.Tags = slices.Clone(cur.Tags)
	t.Guardrails = slices.Clone(cur.Guardrails)
	t.ModelAliases = maps.Clone(cur.ModelAliases)
	t.Fallbacks = nil
	for _, m := range cur.Fallbacks {
		c := map[string][]string{}
		for k, v := range m {
			c[k] = slices.Clone(v)
		}
		t.Fallbacks = append(t.Fallbacks, c)
	}
	t.SetBy = maps.Clone(cur.SetBy)
	t.Keys = make([]*configs.Key, len(cur.Keys))
	for i, k := range cur.Keys {
		t.Keys[i] = cloneKey(k)
	}
	if t.Keys == nil || len(t.Keys) == 0 {
		t.Keys = nil
	}
	return &t
}

func cloneKey(k *configs.Key) *configs.Key {
	c := *k
	c.Models = slices.Clone(k.Models)
	c.Metadata = maps.Clone(k.Metadata)
	c.SetBy = maps.Clone(k.SetBy)
	c.Tags = slices.Clone(k.Tags)
	c.AllowedRoutes = slices.Clone(k.AllowedRoutes)
	c.ModelRPMLimit = maps.Clone(k.ModelRPMLimit)
	c.ModelTPMLimit = maps.Clone(k.ModelTPMLimit)
	if k.SoftBudget != nil {
		v := *k.SoftBudget
		c.SoftBudget = &v
	}
	if k.ModelMaxBudget != nil {
		c.ModelMaxBudget = make(map[string]*configs.ModelBudget, len(k.ModelMaxBudget))
		for m, b := range k.ModelMaxBudget {
			if b != nil {
				v := *b
				b = &v
			}
			c.ModelMaxBudget[m] = b
		}
	}
	return &c
}
