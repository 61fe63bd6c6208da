package manage

import (
	"slices"
	"time"

	"github.com/llmgateway/gateway/configs"
)

// Spend is a team's or key's spend in its current budget period (from the
// team actor).
type Spend struct {
	Spend         float64
	BudgetResetAt *time.Time
	// Live is what the team or key uses now against its limits (nil:
	// unknown, e.g. its team actor did not answer).
	Live *LiveUsage
}

// LiveUsage is a team's or a key's use of its limits at the moment it is
// read: calls in flight, and the rpm and tpm used in the current 60 s
// window (counted only where that limit is set: nil otherwise).
type LiveUsage struct {
	ParallelRequests int64  `json:"parallel_requests"`
	RPM              *int64 `json:"rpm_current"`
	TPM              *int64 `json:"tpm_current"`
}

// TeamObject is a team as LiteLLM answers it (/team/new, /team/info's
// team_info, /team/list).
type TeamObject struct {
	TeamID              string            `json:"team_id"`
	TeamAlias           *string           `json:"team_alias"`
	OrganizationID      *string           `json:"organization_id"`
	Admins              []string          `json:"admins"`
	Members             []string          `json:"members"`
	MembersWithRoles    []configs.Member  `json:"members_with_roles"`
	Metadata            map[string]any    `json:"metadata"`
	TPMLimit            *int64            `json:"tpm_limit"`
	RPMLimit            *int64            `json:"rpm_limit"`
	MaxParallelRequests *int64            `json:"max_parallel_requests"`
	MaxBudget           *float64          `json:"max_budget"`
	BudgetDuration      *string           `json:"budget_duration"`
	Models              []string          `json:"models"`
	Blocked             bool              `json:"blocked"`
	Tags                []string          `json:"tags"`
	Guardrails          []string          `json:"guardrails"`
	ModelAliases        map[string]string `json:"model_aliases"`
	Spend               float64           `json:"spend"`
	BudgetResetAt       *time.Time        `json:"budget_reset_at"`
	LiveUsage           *LiveUsage        `json:"live_usage,omitempty"`
	ModelID             *string           `json:"model_id"`
	LiteLLMModelTable   ModelTable        `json:"litellm_model_table"`
	CreatedAt           *time.Time        `json:"created_at"`
	CreatedBy           string            `json:"created_by"`
	UpdatedAt           *time.Time        `json:"updated_at"`
	UpdatedBy           string            `json:"updated_by"`
}

// ModelTable is team_info.litellm_model_table: the team's derived alias
// map (explicit model_aliases plus public name -> internal name of every
// team deployment).
type ModelTable struct {
	ModelAliases map[string]string `json:"model_aliases"`
	CreatedBy    string            `json:"created_by"`
	UpdatedBy    string            `json:"updated_by"`
}

// AliasMap derives a team's alias map. It is never stored, so it cannot go
// stale: a deleted model's name disappears with its deployment.
func AliasMap(t *configs.Team, deps []*configs.Deployment) map[string]string {
	m := map[string]string{}
	for a, target := range t.ModelAliases {
		m[a] = target
	}
	for _, d := range deps {
		pub := d.PublicName()
		if _, ok := m[pub]; !ok && pub != d.ModelName {
			m[pub] = d.ModelName
		}
	}
	return m
}

// TeamView renders a team. resetAt falls back to one budget period from
// now when the team has a budget_duration and the actor reports none.
func TeamView(t *configs.Team, deps []*configs.Deployment, sp Spend, now time.Time) TeamObject {
	o := TeamObject{
		TeamID:              t.TeamID,
		OrganizationID:      t.OrganizationID,
		Admins:              []string{},
		Members:             []string{},
		MembersWithRoles:    orEmpty(t.MembersWithRoles),
		Metadata:            t.Metadata,
		TPMLimit:            t.TPMLimit,
		RPMLimit:            t.RPMLimit,
		MaxParallelRequests: t.MaxParallelRequests,
		MaxBudget:           t.MaxBudget,
		Models:              orEmpty(t.Models),
		Blocked:             t.Blocked,
		Tags:                orEmpty(t.Tags),
		Guardrails:          orEmpty(t.Guardrails),
		ModelAliases:        t.ModelAliases,
		Spend:               sp.Spend,
		BudgetResetAt:       resetAt(t.BudgetDuration, sp.BudgetResetAt, now),
		LiveUsage:           sp.Live,
		LiteLLMModelTable:   ModelTable{ModelAliases: AliasMap(t, deps), CreatedBy: t.CreatedBy, UpdatedBy: t.UpdatedBy},
		CreatedAt:           t.CreatedAt,
		CreatedBy:           t.CreatedBy,
		UpdatedAt:           t.UpdatedAt,
		UpdatedBy:           t.UpdatedBy,
	}
	if t.TeamAlias != "" {
		o.TeamAlias = &t.TeamAlias
	}
	if t.BudgetDuration != "" {
		o.BudgetDuration = &t.BudgetDuration
	}
	if o.Metadata == nil {
		o.Metadata = map[string]any{}
	}
	if o.ModelAliases == nil {
		o.ModelAliases = map[string]string{}
	}
	for _, m := range t.MembersWithRoles {
		if m.Role == "admin" {
			o.Admins = append(o.Admins, m.UserID)
		}
		o.Members = append(o.Members, m.UserID)
	}
	return o
}

func resetAt(duration string, reported *time.Time, now time.Time) *time.Time {
	if reported != nil || duration == "" {
		return reported
	}
	at, err := configs.AddBudgetDuration(now.UTC().Truncate(time.Second), duration)
	if err != nil {
		return nil
	}
	return &at
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return slices.Clone(s)
}

// KeyObject is a virtual key as LiteLLM answers it. Key (the secret) is
// set only by /key/generate and /key/regenerate, which show it once.
type KeyObject struct {
	Key                 string         `json:"key,omitempty"`
	Token               string         `json:"token"`
	KeyName             string         `json:"key_name"`
	KeyAlias            *string        `json:"key_alias"`
	TeamID              string         `json:"team_id"`
	UserID              *string        `json:"user_id"`
	Models              []string       `json:"models"`
	Expires             *time.Time     `json:"expires"`
	Blocked             bool           `json:"blocked"`
	Metadata            map[string]any `json:"metadata"`
	TPMLimit            *int64         `json:"tpm_limit"`
	RPMLimit            *int64         `json:"rpm_limit"`
	MaxParallelRequests *int64         `json:"max_parallel_requests"`
	MaxBudget           *float64       `json:"max_budget"`
	BudgetDuration      *string        `json:"budget_duration"`
	Tags                []string       `json:"tags"`
	AllowedRoutes       []string       `json:"allowed_routes"`
	SoftBudget          *float64       `json:"soft_budget"`
	// ModelMaxBudget is always in LiteLLM's object shape
	// {"model": {"budget_limit": 5, "time_period": "1d"}}.
	ModelMaxBudget map[string]*configs.ModelBudget `json:"model_max_budget"`
	ModelRPMLimit  map[string]int64                `json:"model_rpm_limit"`
	ModelTPMLimit  map[string]int64                `json:"model_tpm_limit"`
	// SetBy says who set each limit ("master" or a team key): what the
	// master set changes only with the master key.
	SetBy         map[string]string `json:"set_by,omitempty"`
	Spend         float64           `json:"spend"`
	BudgetResetAt *time.Time        `json:"budget_reset_at"`
	LiveUsage     *LiveUsage        `json:"live_usage,omitempty"`
	CreatedAt     *time.Time        `json:"created_at"`
	CreatedBy     string            `json:"created_by"`
	UpdatedAt     *time.Time        `json:"updated_at"`
	UpdatedBy     string            `json:"updated_by"`
}

// KeyView renders a key (never its secret).
func KeyView(teamID string, k *configs.Key, sp Spend, now time.Time) KeyObject {
	o := KeyObject{
		Token:               k.Token,
		KeyName:             k.KeyName,
		TeamID:              teamID,
		Models:              orEmpty(k.Models),
		Expires:             k.Expires,
		Blocked:             k.Blocked,
		Metadata:            k.Metadata,
		TPMLimit:            k.TPMLimit,
		RPMLimit:            k.RPMLimit,
		MaxParallelRequests: k.MaxParallelRequests,
		MaxBudget:           k.MaxBudget,
		Tags:                orEmpty(k.Tags),
		AllowedRoutes:       orEmpty(k.AllowedRoutes),
		SoftBudget:          k.SoftBudget,
		ModelMaxBudget:      k.ModelMaxBudget,
		ModelRPMLimit:       k.ModelRPMLimit,
		ModelTPMLimit:       k.ModelTPMLimit,
		SetBy:               k.SetBy,
		Spend:               sp.Spend,
		BudgetResetAt:       resetAt(k.BudgetDuration, sp.BudgetResetAt, now),
		LiveUsage:           sp.Live,
		CreatedAt:           k.CreatedAt,
		CreatedBy:           k.CreatedBy,
		UpdatedAt:           k.UpdatedAt,
		UpdatedBy:           k.UpdatedBy,
	}
	if k.KeyAlias != "" {
		o.KeyAlias = &k.KeyAlias
	}
	if k.UserID != "" {
		o.UserID = &k.UserID
	}
	if k.BudgetDuration != "" {
		o.BudgetDuration = &k.BudgetDuration
	}
	if o.Metadata == nil {
		o.Metadata = map[string]any{}
	}
	if o.ModelMaxBudget == nil {
		o.ModelMaxBudget = map[string]*configs.ModelBudget{}
	}
	if o.ModelRPMLimit == nil {
		o.ModelRPMLimit = map[string]int64{}
	}
	if o.ModelTPMLimit == nil {
		o.ModelTPMLimit = map[string]int64{}
	}
	return o
}
