package manage

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/llmgateway/gateway/configs"
)

// KeyRequest is the body of /key/generate and /key/update. A nil field was
// not sent.
type KeyRequest struct {
	Key      *string         `json:"key"` // /key/update: the key or its token
	TeamID   *string         `json:"team_id"`
	KeyAlias *string         `json:"key_alias"`
	UserID   *string         `json:"user_id"`
	Models   *[]string       `json:"models"`
	Duration *string         `json:"duration"`
	Metadata *map[string]any `json:"metadata"`
	Blocked  *bool           `json:"blocked"`
	LimitsRequest
	Tags           *[]string                   `json:"tags"`
	AllowedRoutes  *[]string                   `json:"allowed_routes"`
	SoftBudget     Nullable[float64]           `json:"soft_budget"`
	ModelMaxBudget *map[string]ModelBudgetJSON `json:"model_max_budget"`
	ModelRPMLimit  *map[string]int64           `json:"model_rpm_limit"`
	ModelTPMLimit  *map[string]int64           `json:"model_tpm_limit"`
}

// ModelBudgetJSON is one model_max_budget entry as LiteLLM accepts it:
// {"budget_limit": 5, "time_period": "1d"} or a bare number (no reset).
type ModelBudgetJSON struct {
	configs.ModelBudget
}

func (m *ModelBudgetJSON) UnmarshalJSON(b []byte) error {
	var n float64
	if err := json.Unmarshal(b, &n); err == nil {
		m.BudgetLimit, m.TimePeriod = n, ""
		return nil
	}
	var o struct {
		BudgetLimit *float64 `json:"budget_limit"`
		TimePeriod  *string  `json:"time_period"`
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return &FieldError{"model_max_budget", "model_max_budget: each model's value is a number or {\"budget_limit\": 5, \"time_period\": \"1d\"}"}
	}
	if o.BudgetLimit == nil {
		return &FieldError{"model_max_budget", "model_max_budget: an entry has no budget_limit; write {\"budget_limit\": 5, \"time_period\": \"1d\"}"}
	}
	m.BudgetLimit = *o.BudgetLimit
	if o.TimePeriod != nil {
		m.TimePeriod = *o.TimePeriod
	}
	return nil
}

// CustomKeyMinLen is the shortest custom key /key/generate accepts
// ("sk-" included).
const CustomKeyMinLen = 24

// CheckCustomKey checks a custom key value of /key/generate: "sk-", at
// least CustomKeyMinLen characters, printable ASCII without spaces, and
// not an obvious pattern (at least 8 different characters after "sk-").
// Messages never repeat the value.
func CheckCustomKey(v string) *Error {
	if !strings.HasPrefix(v, "sk-") {
		return BadRequest("key", "key must start with \"sk-\" (a LiteLLM virtual key); leave key out for a generated one")
	}
	if len(v) < CustomKeyMinLen || len(v) > 256 {
		return BadRequest("key", "key has %d characters; a custom key needs %d to 256 (\"sk-\" included); leave key out for a generated one", len(v), CustomKeyMinLen)
	}
	distinct := map[rune]bool{}
	for _, c := range v[3:] {
		if c <= ' ' || c > '~' {
			return BadRequest("key", "key may hold only printable ASCII characters without spaces")
		}
		distinct[c] = true
	}
	if len(distinct) < 8 {
		return BadRequest("key", "key is too easy to guess (fewer than 8 different characters after \"sk-\"); use a random value, or leave key out for a generated one")
	}
	return nil
}

// NewSecret returns a new virtual key: "sk-" and 192 random bits.
func NewSecret() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating a key: %w", err)
	}
	return "sk-" + base64.RawURLEncoding.EncodeToString(b), nil
}

// NewKey builds a key from a /key/generate request. It returns the secret,
// shown once, and the key as stored (its sha256 only).
//
// A custom key (req.Key) is checked by CheckCustomKey; whether its value
// is already in use is the caller's check (it needs the snapshot).
func NewKey(req KeyRequest, by string, now time.Time) (string, *configs.Key, *Error) {
	var secret string
	if req.Key != nil && *req.Key != "" {
		if e := CheckCustomKey(*req.Key); e != nil {
			return "", nil, e
		}
		secret = *req.Key
	} else {
		var err error
		if secret, err = NewSecret(); err != nil {
			return "", nil, &Error{Status: 500, Message: err.Error()}
		}
	}
	at := now.UTC().Truncate(time.Second)
	k := &configs.Key{Token: configs.HashKey(secret), KeyName: configs.MaskKey(secret), CreatedAt: &at, CreatedBy: by, UpdatedAt: &at, UpdatedBy: by}
	if e := applyKey(k, req, by, now); e != nil {
		return "", nil, e
	}
	return secret, k, nil
}

// UpdateKey returns a copy of cur with the fields sent in req changed.
func UpdateKey(cur *configs.Key, req KeyRequest, by string, now time.Time) (*configs.Key, *Error) {
	k := cloneKey(cur)
	if e := applyKey(k, req, by, now); e != nil {
		return nil, e
	}
	touchKey(k, by, now)
	return k, nil
}

// Regenerate returns a new secret for cur and the key with its new token;
// the old value stops working. The key stays the same key: its spend id
// (key_id, set to the first token on the first regenerate) keeps its
// spend, budget period and counters, and its limits and set_by stay.
func Regenerate(cur *configs.Key, by string, now time.Time) (string, *configs.Key, *Error) {
	secret, err := NewSecret()
	if err != nil {
		return "", nil, &Error{Status: 500, Message: err.Error()}
	}
	k := cloneKey(cur)
	k.KeyID = cur.SpendID()
	k.Token, k.KeyName = configs.HashKey(secret), configs.MaskKey(secret)
	touchKey(k, by, now)
	return secret, k, nil
}

func touchKey(k *configs.Key, by string, now time.Time) {
	at := now.UTC().Truncate(time.Second)
	k.UpdatedAt, k.UpdatedBy = &at, by
}

func applyKey(k *configs.Key, req KeyRequest, by string, now time.Time) *Error {
	if req.KeyAlias != nil {
		if strings.TrimSpace(*req.KeyAlias) == "" {
			return BadRequest("key_alias", "key_alias is empty; name the key or leave the field out")
		}
		k.KeyAlias = *req.KeyAlias
	}
	if req.UserID != nil {
		k.UserID = *req.UserID
	}
	if req.Models != nil {
		if e := nonEmpty("models", *req.Models); e != nil {
			return e
		}
		k.Models = slices.Clone(*req.Models)
		setBy(&k.SetBy, "models", by)
		if len(k.Models) == 0 {
			setBy(&k.SetBy, "models", "")
		}
	}
	if req.Duration != nil {
		if *req.Duration == "" {
			k.Expires = nil
		} else {
			exp, err := configs.AddBudgetDuration(now.UTC().Truncate(time.Second), *req.Duration)
			if err != nil {
				return BadRequest("duration", "duration %q is not a positive number followed by s, m, h, d or w (e.g. 30s 30m 30h 30d 2w); leave it out for a key that never expires", *req.Duration)
			}
			k.Expires = &exp
		}
		setBy(&k.SetBy, "expires", by)
		if k.Expires == nil {
			setBy(&k.SetBy, "expires", "")
		}
	}
	if req.Metadata != nil {
		k.Metadata = maps.Clone(*req.Metadata)
	}
	if req.Blocked != nil {
		k.Blocked = *req.Blocked
		if k.Blocked {
			setBy(&k.SetBy, "blocked", by)
		} else {
			setBy(&k.SetBy, "blocked", "")
		}
	}
	if req.Tags != nil {
		k.Tags = slices.Clone(*req.Tags)
		if len(k.Tags) == 0 {
			k.Tags = nil
		}
	}
	if req.AllowedRoutes != nil {
		k.AllowedRoutes = slices.Clone(*req.AllowedRoutes)
		if len(k.AllowedRoutes) == 0 {
			k.AllowedRoutes = nil
		}
		setBy(&k.SetBy, "allowed_routes", by)
		if k.AllowedRoutes == nil {
			setBy(&k.SetBy, "allowed_routes", "")
		}
	}
	switch b := req.SoftBudget; {
	case !b.Set:
	case b.Null:
		k.SoftBudget = nil
		setBy(&k.SetBy, "soft_budget", "")
	default:
		v := b.V
		k.SoftBudget = &v
		setBy(&k.SetBy, "soft_budget", by)
	}
	if req.ModelMaxBudget != nil {
		k.ModelMaxBudget = nil
		for m, b := range *req.ModelMaxBudget {
			if k.ModelMaxBudget == nil {
				k.ModelMaxBudget = map[string]*configs.ModelBudget{}
			}
			mb := b.ModelBudget
			k.ModelMaxBudget[m] = &mb
		}
		setBy(&k.SetBy, "model_max_budget", by)
		if k.ModelMaxBudget == nil {
			setBy(&k.SetBy, "model_max_budget", "")
		}
	}
	for _, f := range []struct {
		name string
		v    *map[string]int64
		dst  *map[string]int64
	}{{"model_rpm_limit", req.ModelRPMLimit, &k.ModelRPMLimit}, {"model_tpm_limit", req.ModelTPMLimit, &k.ModelTPMLimit}} {
		if f.v == nil {
			continue
		}
		*f.dst = maps.Clone(*f.v)
		if len(*f.dst) == 0 {
			*f.dst = nil
		}
		setBy(&k.SetBy, f.name, by)
		if *f.dst == nil {
			setBy(&k.SetBy, f.name, "")
		}
	}
	return req.LimitsRequest.apply(&k.Limits, by)
}

// FindKey finds a key by its value ("sk-...") or its token (sha256 hex).
func FindKey(snap *configs.Snapshot, keyOrToken string) (*configs.Team, *configs.Key) {
	token := strings.ToLower(strings.TrimSpace(keyOrToken))
	if !isToken(token) {
		token = configs.HashKey(strings.TrimSpace(keyOrToken))
	}
	for _, t := range snap.Teams {
		for _, k := range t.Keys {
			if k.Token == token {
				return t, k
			}
		}
	}
	return nil, nil
}

func isToken(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// ReplaceKey returns a copy of team with the key whose token is old
// replaced by k (or removed when k is nil).
func ReplaceKey(team *configs.Team, old string, k *configs.Key, by string, now time.Time) *configs.Team {
	t := CloneTeam(team)
	out := t.Keys[:0]
	for _, cur := range t.Keys {
		switch {
		case cur.Token != old:
			out = append(out, cur)
		case k != nil:
			out = append(out, k)
		}
	}
	t.Keys = out
	if len(t.Keys) == 0 {
		t.Keys = nil
	}
	Touch(t, by, now)
	return t
}
