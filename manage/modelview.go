package manage

import (
	"encoding/json"
	"net/url"
	"strings"

	"github.com/llmgateway/gateway/configs"
)

// ModelObject is one entry of /model/info's data.
type ModelObject struct {
	ModelName     string         `json:"model_name"`
	LiteLLMParams map[string]any `json:"litellm_params"`
	ModelInfo     map[string]any `json:"model_info"`
}

// StoredModel is /model/new's and /model/update's answer: the stored
// deployment with its secrets masked.
type StoredModel struct {
	ModelID       string         `json:"model_id"`
	ModelName     string         `json:"model_name"`
	LiteLLMParams map[string]any `json:"litellm_params"`
	ModelInfo     map[string]any `json:"model_info"`
	CreatedAt     any            `json:"created_at"`
	CreatedBy     any            `json:"created_by"`
	UpdatedAt     any            `json:"updated_at"`
	UpdatedBy     any            `json:"updated_by"`
}

// ModelView renders a deployment for /model/info: model_name is the name
// a client calls (the public name for team models); api_key is left out
// and other secret-looking values are masked. A caller that does not own
// the deployment (a team key looking at a global model) also sees the
// values of api_base's query string masked (?api-key=****): operators
// put keys there.
func ModelView(d *configs.Deployment, owner bool) ModelObject {
	params := paramsMap(d.LiteLLMParams)
	for _, name := range configs.SecretParams {
		delete(params, name)
	}
	if base, ok := params["api_base"].(string); ok && !owner {
		params["api_base"] = maskQuery(base)
	}
	return ModelObject{ModelName: d.PublicName(), LiteLLMParams: params, ModelInfo: infoMap(d.ModelInfo)}
}

// Owns reports whether c owns d: the master key owns every deployment, a
// team key its team's.
func Owns(c Caller, d *configs.Deployment) bool {
	return c.Master || (c.TeamID != "" && d.ModelInfo.TeamID == c.TeamID)
}

// maskQuery masks every value of base's query string and its fragment;
// an api_base that does not parse is masked whole after its scheme and
// host, when there is a query at all.
func maskQuery(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		if i := strings.IndexAny(base, "?#"); i >= 0 {
			return base[:i] + "?****"
		}
		return base
	}
	if u.RawQuery == "" && u.Fragment == "" && !u.ForceQuery {
		return base
	}
	if u.RawQuery != "" {
		parts := strings.Split(u.RawQuery, "&")
		for i, p := range parts {
			name, _, hasValue := strings.Cut(p, "=")
			if hasValue {
				parts[i] = name + "=****"
			} else {
				parts[i] = "****" // a bare value: it may be the secret
			}
		}
		u.RawQuery = strings.Join(parts, "&")
	}
	if u.Fragment != "" {
		u.Fragment, u.RawFragment = "****", ""
	}
	return u.String()
}

// StoredView renders the stored deployment; an api_key and the other
// secret params show only as a reference (os.environ/NAME, a credential
// file's path) or masked.
func StoredView(d *configs.Deployment) StoredModel {
	params := paramsMap(d.LiteLLMParams)
	for _, name := range configs.SecretParams {
		k := *d.LiteLLMParams.StringParam(name) // as stored, before paramsMap masked it
		if k == "" {
			continue
		}
		params[name] = k
		switch {
		case strings.HasPrefix(k, configs.EnvPrefix):
		case strings.HasPrefix(k, configs.EncPrefix), strings.HasPrefix(k, configs.EncBoundPrefix):
			params[name] = k[:len(configs.EncPrefix)] + "****"
		case name == "vertex_credentials" && configs.IsCredentialFile(k):
			// a path on the gateway's disk: a reference, not the secret
		default:
			params[name] = configs.MaskSecret(k)
		}
	}
	info := infoMap(d.ModelInfo)
	return StoredModel{ModelID: d.ModelInfo.ID, ModelName: d.ModelName, LiteLLMParams: params, ModelInfo: info,
		CreatedAt: info["created_at"], CreatedBy: info["created_by"], UpdatedAt: info["updated_at"], UpdatedBy: info["updated_by"]}
}

func paramsMap(p configs.LiteLLMParams) map[string]any {
	m := map[string]any{}
	b, _ := json.Marshal(p)
	_ = json.Unmarshal(b, &m)
	if base, ok := m["api_base"].(string); ok {
		m["api_base"] = stripUserinfo(base)
	}
	maskSecrets(m)
	return m
}

func infoMap(mi configs.ModelInfo) map[string]any {
	m := map[string]any{} // a deep copy: the snapshot's maps stay untouched
	b, _ := json.Marshal(mi.Extra)
	_ = json.Unmarshal(b, &m)
	if m == nil {
		m = map[string]any{}
	}
	maskSecrets(m)
	m["id"] = mi.ID
	m["team_id"] = nilIfEmpty(mi.TeamID)
	m["team_public_model_name"] = nilIfEmpty(mi.TeamPublicModelName)
	if mi.BaseModel != "" {
		m["base_model"] = mi.BaseModel
	}
	return m
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// secretLooking reports a key whose value is likely a credential.
func secretLooking(key string) bool {
	k := strings.ToLower(key)
	if strings.Contains(k, "per_token") || strings.HasSuffix(k, "_tokens") {
		return false
	}
	for _, w := range []string{"key", "secret", "password", "passwd", "token", "credential", "authorization"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// maskSecrets masks, in place and recursively, string values under
// secret-looking keys and values that look like keys or encrypted values.
func maskSecrets(m map[string]any) {
	for k, v := range m {
		switch x := v.(type) {
		case string:
			if strings.HasPrefix(x, configs.EnvPrefix) || k == configs.KeySetByField {
				continue // a reference, or who set the key: not a secret
			}
			if secretLooking(k) || strings.HasPrefix(x, configs.EncAnyPrefix) || strings.HasPrefix(x, "sk-") {
				m[k] = configs.MaskSecret(x)
			}
		case map[string]any:
			maskSecrets(x)
		}
	}
}

func stripUserinfo(base string) string {
	u, err := url.Parse(base)
	if err != nil || u.User == nil {
		return base
	}
	u.User = url.User("****")
	return u.String()
}
