package manage

import (
	"bytes"
	"encoding/json"
	"slices"
	"sort"
	"strings"
)

// Every field the key and team endpoints accept either has an effect or is
// refused with a 400 that names it: nothing a client sends is dropped
// silently. The lists below are the whole contract, and
// cmd/gateway/keyfields_e2e_test.go sends each field of each list.

// KeyFields are the fields /key/generate and /key/update accept and
// enforce ("key" is the custom key value in /key/generate and the key to
// change in /key/update).
var KeyFields = []string{
	"key", "team_id", "key_alias", "user_id", "models", "duration", "metadata", "blocked",
	"tpm_limit", "rpm_limit", "max_parallel_requests", "max_budget", "budget_duration",
	"tags", "allowed_routes", "soft_budget", "model_max_budget", "model_rpm_limit", "model_tpm_limit",
}

// TeamFields are the fields /team/new and /team/update accept and enforce.
var TeamFields = []string{
	"team_id", "team_alias", "organization_id", "members_with_roles", "admins", "users", "metadata",
	"tpm_limit", "rpm_limit", "max_parallel_requests", "max_budget", "budget_duration",
	"models", "blocked", "tags", "model_aliases", "fallbacks",
}

// unsupported says why a LiteLLM field is refused. An empty value (null,
// [], {}, "", false, 0) is accepted as "not set": LiteLLM's UI and SDKs
// send the fields they do not use that way.
var unsupported = map[string]string{
	"guardrails":                   "this gateway runs no guardrails, so a key or team with guardrails would call without them",
	"permissions":                  "per-key permissions are not enforced by this gateway",
	"enforced_params":              "enforced_params (required request parameters) are not enforced by this gateway",
	"config":                       "a per-key config is not supported by this gateway",
	"aliases":                      "key model aliases are not supported; use the team's model_aliases",
	"prompts":                      "prompt management is not supported by this gateway",
	"object_permission":            "object permissions (MCP servers, vector stores) are not supported by this gateway",
	"allowed_cache_controls":       "cache controls are not supported by this gateway",
	"allowed_passthrough_routes":   "pass-through routes are not supported by this gateway",
	"allowed_vector_store_indexes": "vector stores are not supported by this gateway",
	"disable_global_guardrails":    "this gateway runs no guardrails",
	"router_settings":              "per-key or per-team router_settings are not supported; use the team's fallbacks",
	"access_group_ids":             "access groups are not supported by this gateway",
	"budget_id":                    "budget tables are not supported; set max_budget and budget_duration",
	"spend":                        "spend is counted by the gateway and cannot be set",
	"send_invite_email":            "this gateway sends no e-mail",
	"key_type":                     "key types are not supported; use allowed_routes to limit what a key may call",
	"rpm_limit_type":               "rpm_limit is always enforced (guaranteed throughput)",
	"tpm_limit_type":               "tpm_limit is always enforced (guaranteed throughput)",
	"auto_rotate":                  "automatic key rotation is not supported; use /key/regenerate",
	"rotation_interval":            "automatic key rotation is not supported; use /key/regenerate",
	"temp_budget_increase":         "temporary budget increases are not supported; change max_budget",
	"temp_budget_expiry":           "temporary budget increases are not supported; change max_budget",
	"organization_id":              "keys belong to teams; organizations are set on the team",
	"soft_budget_cooldown":         "not supported",
	"team_member_permissions":      "team member permissions are not supported by this gateway",
	"team_member_budget":           "per-member budgets are not supported; give each member a key with max_budget",
	"team_member_rpm_limit":        "per-member limits are not supported; give each member a key with rpm_limit",
	"team_member_tpm_limit":        "per-member limits are not supported; give each member a key with tpm_limit",
	"team_member_key_duration":     "per-member key durations are not supported; set duration on /key/generate",
	"secret_manager_settings":      "per-team secret managers are not supported",
	"members":                      "use members_with_roles",
	"policies":                     "policies are not supported by this gateway",
}

// teamUnsupported are the fields refused on teams only (keys enforce
// them).
var teamUnsupported = map[string]string{
	"model_rpm_limit":  "per-model limits are enforced on keys only; set model_rpm_limit on the team's keys",
	"model_tpm_limit":  "per-model limits are enforced on keys only; set model_tpm_limit on the team's keys",
	"model_max_budget": "per-model budgets are enforced on keys only; set model_max_budget on the team's keys",
	"soft_budget":      "soft budgets are enforced on keys only",
	"allowed_routes":   "allowed_routes are enforced on keys only",
}

// CheckKeyFields refuses, with a 400 naming it, a field of a /key/generate
// or /key/update body that the gateway would not enforce.
func CheckKeyFields(body []byte, endpoint string) *Error {
	return checkFields(body, endpoint, KeyFields, nil)
}

// CheckTeamFields is CheckKeyFields for /team/new and /team/update. A
// team's guardrails are refused unless empty.
func CheckTeamFields(body []byte, endpoint string) *Error {
	return checkFields(body, endpoint, TeamFields, teamUnsupported)
}

func checkFields(body []byte, endpoint string, accepted []string, extra map[string]string) *Error {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return nil // Decode reports the body's problem
	}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		if slices.Contains(accepted, name) {
			continue
		}
		why, known := extra[name]
		if !known {
			why, known = unsupported[name]
		}
		if known {
			if emptyJSON(m[name]) {
				continue
			}
			return BadRequest(name, "%s: %s; remove the field (or send it empty)", name, why)
		}
		return BadRequest(name, "%s is not a field of %s; the fields are %s", name, endpoint, strings.Join(accepted, ", "))
	}
	return nil
}

// emptyJSON reports whether raw is null, [], {}, "", false or 0.
func emptyJSON(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	switch string(raw) {
	case "null", "[]", "{}", `""`, "false", "0", "0.0":
		return true
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return false
	}
	switch x := v.(type) {
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}
