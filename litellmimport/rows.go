package litellmimport

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"
)

// The columns of LiteLLM's rows the import reads (schema.prisma). A row
// is decoded leniently: a column of an unexpected type is reported and
// left out, never a panic.

type ltTeam struct {
	TeamID           string          `json:"team_id"`
	TeamAlias        *string         `json:"team_alias"`
	OrganizationID   *string         `json:"organization_id"`
	Admins           []string        `json:"admins"`
	Members          []string        `json:"members"`
	MembersWithRoles json.RawMessage `json:"members_with_roles"`
	Metadata         json.RawMessage `json:"metadata"`
	MaxBudget        *float64        `json:"max_budget"`
	Models           []string        `json:"models"`
	MaxParallel      *int64          `json:"max_parallel_requests"`
	TPMLimit         *int64          `json:"tpm_limit"`
	RPMLimit         *int64          `json:"rpm_limit"`
	BudgetDuration   *string         `json:"budget_duration"`
	Blocked          *bool           `json:"blocked"`
	ModelID          *int64          `json:"model_id"`
	CreatedAt        *string         `json:"created_at"`
}

var teamCarried = []string{"team_id", "team_alias", "organization_id", "admins", "members", "members_with_roles", "metadata",
	"max_budget", "models", "max_parallel_requests", "tpm_limit", "rpm_limit", "budget_duration", "blocked", "model_id", "created_at"}

type ltKey struct {
	Token          string          `json:"token"`
	KeyName        *string         `json:"key_name"`
	KeyAlias       *string         `json:"key_alias"`
	Expires        *string         `json:"expires"`
	Models         []string        `json:"models"`
	UserID         *string         `json:"user_id"`
	TeamID         *string         `json:"team_id"`
	MaxParallel    *int64          `json:"max_parallel_requests"`
	TPMLimit       *int64          `json:"tpm_limit"`
	RPMLimit       *int64          `json:"rpm_limit"`
	Metadata       json.RawMessage `json:"metadata"`
	Blocked        *bool           `json:"blocked"`
	MaxBudget      *float64        `json:"max_budget"`
	BudgetDuration *string         `json:"budget_duration"`
	AllowedRoutes  []string        `json:"allowed_routes"`
	CreatedAt      *string         `json:"created_at"`
}

var keyCarried = []string{"token", "key_name", "key_alias", "expires", "models", "user_id", "team_id", "max_parallel_requests",
	"tpm_limit", "rpm_limit", "metadata", "blocked", "max_budget", "budget_duration", "allowed_routes", "created_at"}

type ltModel struct {
	ModelID       string          `json:"model_id"`
	ModelName     string          `json:"model_name"`
	LiteLLMParams json.RawMessage `json:"litellm_params"`
	ModelInfo     json.RawMessage `json:"model_info"`
	Blocked       *bool           `json:"blocked"`
}

var modelCarried = []string{"model_id", "model_name", "litellm_params", "model_info", "blocked"}

// quiet are bookkeeping columns whose loss needs no mention.
var quiet = []string{"created_at", "updated_at", "created_by", "updated_by", "budget_reset_at", "last_active",
	"soft_budget_cooldown", "rotation_count", "last_rotation_at", "key_rotation_at", "auto_rotate"}

// decodeRow decodes row into dst field by field: the columns whose value
// does not fit are returned (and left zero), the others are set.
func decodeRow(row json.RawMessage, dst any) (cols map[string]json.RawMessage, bad []string, err error) {
	if err := json.Unmarshal(row, &cols); err != nil || cols == nil {
		return nil, nil, fmt.Errorf("the row is not a JSON object")
	}
	if err := json.Unmarshal(row, dst); err == nil {
		return cols, nil, nil
	}
	// Some column has another type: decode the others alone.
	good := map[string]json.RawMessage{}
	for name, v := range cols {
		one, _ := json.Marshal(map[string]json.RawMessage{name: v})
		if err := json.Unmarshal(one, dst); err != nil {
			bad = append(bad, name)
			continue
		}
		good[name] = v
	}
	// The failed first pass may have set part of a bad column (a pointer
	// allocated before the type error): start again from zero.
	reflect.ValueOf(dst).Elem().SetZero()
	all, _ := json.Marshal(good)
	if err := json.Unmarshal(all, dst); err != nil {
		return nil, nil, fmt.Errorf("the row cannot be decoded")
	}
	slices.Sort(bad)
	return cols, bad, nil
}

// uncarried names the columns of a row that hold something and are
// neither carried nor bookkeeping.
func uncarried(cols map[string]json.RawMessage, carried []string) []string {
	var out []string
	for name, v := range cols {
		if slices.Contains(carried, name) || slices.Contains(quiet, name) || isEmpty(v) {
			continue
		}
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// isEmpty: null, false, 0, "", [] or {} (also as a JSON string holding
// "{}" or "[]", as Prisma sometimes stores Json).
func isEmpty(v json.RawMessage) bool {
	s := string(bytes.TrimSpace(v))
	switch s {
	case "", "null", "false", "0", "0.0", `""`, "[]", "{}", `"{}"`, `"[]"`:
		return true
	}
	var x any
	if json.Unmarshal(v, &x) == nil {
		switch x := x.(type) {
		case map[string]any:
			return len(x) == 0
		case []any:
			return len(x) == 0
		case float64:
			return x == 0
		}
	}
	return false
}

// object decodes a Json column holding an object, or a JSON string that
// holds one (LiteLLM stores some as serialized text). ok is false for
// anything else; a null or empty value is (nil, true).
func object(v json.RawMessage) (map[string]any, bool) {
	if isEmpty(v) {
		return nil, true
	}
	var m map[string]any
	if json.Unmarshal(v, &m) == nil && m != nil {
		return m, true
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		if json.Unmarshal([]byte(s), &m) == nil && m != nil {
			return m, true
		}
	}
	return nil, false
}

// parseTime reads a timestamp as row_to_json writes it (timestamp(3)
// without time zone, which Prisma stores in UTC, or with one).
func parseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{"2006-01-02T15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999Z07", "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC().Truncate(time.Second), true
		}
	}
	return time.Time{}, false
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
