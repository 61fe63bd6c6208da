package manage

import (
	"encoding/json"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/egress"
)

// ModelRequest is the body of /model/new and /model/update.
type ModelRequest struct {
	ModelName     *string         `json:"model_name"`
	LiteLLMParams json.RawMessage `json:"litellm_params"`
	ModelInfo     json.RawMessage `json:"model_info"`
}

// ParsedModel is a ModelRequest decoded and type-checked.
type ParsedModel struct {
	ModelName *string
	// Params are the litellm_params sent; Sent names the keys present.
	Params configs.LiteLLMParams
	Sent   map[string]bool
	// Info is model_info: ID, TeamID, TeamPublicModelName, BaseModel and
	// the other keys in Extra.
	Info     configs.ModelInfo
	InfoSent map[string]bool
}

// AcceptedParams are the litellm_params keys a deployment may hold.
var AcceptedParams = []string{"model", "api_base", "api_version", "api_key", "custom_llm_provider", "organization",
	"timeout", "stream_timeout", "max_retries", "rpm", "tpm", "input_cost_per_token", "output_cost_per_token", "mock_response"}

// managedInfo are model_info keys the gateway fills itself.
var managedInfo = []string{"created_at", "created_by", "updated_at", "updated_by"}

// ParseModel decodes the parts of a model request.
func ParseModel(req ModelRequest) (*ParsedModel, *Error) {
	p := &ParsedModel{ModelName: req.ModelName, Sent: map[string]bool{}, InfoSent: map[string]bool{}}
	if raw := req.LiteLLMParams; len(raw) > 0 && string(raw) != "null" {
		var keys map[string]json.RawMessage
		if e := decodeAt(raw, &keys, "litellm_params."); e != nil {
			return nil, e
		}
		for k := range keys {
			if !slices.Contains(AcceptedParams, k) {
				return nil, BadRequest("litellm_params."+k, "unknown litellm_params key %q; accepted keys: %s", k, strings.Join(AcceptedParams, ", "))
			}
			p.Sent[k] = true
		}
		if e := decodeAt(raw, &p.Params, "litellm_params."); e != nil {
			return nil, e
		}
	}
	if raw := req.ModelInfo; len(raw) > 0 && string(raw) != "null" {
		var m map[string]any
		if e := decodeAt(raw, &m, "model_info."); e != nil {
			return nil, e
		}
		for k, v := range m {
			p.InfoSent[k] = true
			var dst *string
			switch k {
			case "id":
				dst = &p.Info.ID
			case "team_id":
				dst = &p.Info.TeamID
			case "team_public_model_name":
				dst = &p.Info.TeamPublicModelName
			case "base_model":
				dst = &p.Info.BaseModel
			default:
				if !slices.Contains(managedInfo, k) {
					if p.Info.Extra == nil {
						p.Info.Extra = map[string]any{}
					}
					p.Info.Extra[k] = v
				}
				continue
			}
			if v == nil {
				continue
			}
			s, ok := v.(string)
			if !ok {
				return nil, BadRequest("model_info."+k, "field model_info.%s: expected a string", k)
			}
			*dst = s
		}
	}
	return p, nil
}

// ModelPolicy is what a model's validation needs from the settings.
type ModelPolicy struct {
	SaltKey string
	// APIBase is the egress policy for team deployments; nil is the
	// default policy.
	APIBase *egress.Policy
}

// NewDeployment builds the deployment /model/new stores. teamID is the
// owning team ("" for a global model), id the new model id.
func NewDeployment(p *ParsedModel, teamID, id string, c Caller, pol ModelPolicy, now time.Time) (*configs.Deployment, *Error) {
	if p.ModelName == nil || strings.TrimSpace(*p.ModelName) == "" {
		return nil, BadRequest("model_name", "model_name is missing or empty; it is the name clients call the model by")
	}
	if len(p.Sent) == 0 {
		return nil, BadRequest("litellm_params", "litellm_params is missing; send at least {\"model\": \"<provider>/<upstream model>\"}")
	}
	public := strings.TrimSpace(*p.ModelName)
	d := &configs.Deployment{ModelName: public, LiteLLMParams: p.Params}
	d.ModelInfo = configs.ModelInfo{ID: id, BaseModel: p.Info.BaseModel, Extra: maps.Clone(p.Info.Extra)}
	if teamID != "" {
		d.ModelName = "model_name_" + teamID + "_" + id
		d.ModelInfo.TeamID = teamID
		d.ModelInfo.TeamPublicModelName = public
	}
	if e := checkParams(&d.LiteLLMParams, p.Sent, c, pol); e != nil {
		return nil, e
	}
	if e := checkAPIBase(d, p.Sent, pol); e != nil {
		return nil, e
	}
	stamp(&d.ModelInfo, c.Name(), now, true)
	return d, nil
}

// UpdateDeployment returns cur (as written in its file) with the request
// merged in: litellm_params and model_info keys sent replace theirs, a new
// model_name renames the public name. The id and team never change.
func UpdateDeployment(cur *configs.Deployment, p *ParsedModel, c Caller, pol ModelPolicy, now time.Time) (*configs.Deployment, *Error) {
	d := *cur
	d.ModelInfo.Extra = maps.Clone(cur.ModelInfo.Extra)
	if p.InfoSent["team_id"] && p.Info.TeamID != cur.ModelInfo.TeamID {
		return nil, BadRequest("model_info.team_id", "model_info.team_id cannot change; delete the model and add it to the other team")
	}
	if p.ModelName != nil {
		name := strings.TrimSpace(*p.ModelName)
		if name == "" {
			return nil, BadRequest("model_name", "model_name is empty; it is the name clients call the model by")
		}
		if d.ModelInfo.TeamID != "" {
			d.ModelInfo.TeamPublicModelName = name
		} else {
			d.ModelName = name
		}
	}
	if p.InfoSent["team_public_model_name"] && d.ModelInfo.TeamID != "" && p.Info.TeamPublicModelName != "" {
		d.ModelInfo.TeamPublicModelName = p.Info.TeamPublicModelName
	}
	if p.InfoSent["base_model"] {
		d.ModelInfo.BaseModel = p.Info.BaseModel
	}
	for k, v := range p.Info.Extra {
		if d.ModelInfo.Extra == nil {
			d.ModelInfo.Extra = map[string]any{}
		}
		if v == nil {
			delete(d.ModelInfo.Extra, k)
		} else {
			d.ModelInfo.Extra[k] = v
		}
	}
	merged, sent := mergeParams(cur.LiteLLMParams, p)
	if e := checkParams(&merged, sent, c, pol); e != nil {
		return nil, e
	}
	d.LiteLLMParams = merged
	if e := checkAPIBase(&d, sent, pol); e != nil {
		return nil, e
	}
	stamp(&d.ModelInfo, c.Name(), now, false)
	return &d, nil
}

// mergeParams overlays the params sent on cur. It returns the merged
// params and which of them need checking: the ones sent.
func mergeParams(cur configs.LiteLLMParams, p *ParsedModel) (configs.LiteLLMParams, map[string]bool) {
	var curMap, newMap map[string]any
	b, _ := json.Marshal(cur)
	_ = json.Unmarshal(b, &curMap)
	b, _ = json.Marshal(p.Params)
	_ = json.Unmarshal(b, &newMap)
	for k := range p.Sent {
		if v, ok := newMap[k]; ok {
			curMap[k] = v
		} else {
			delete(curMap, k) // sent as null or "": removed
		}
	}
	var out configs.LiteLLMParams
	b, _ = json.Marshal(curMap)
	_ = json.Unmarshal(b, &out)
	sent := maps.Clone(p.Sent)
	if !p.Sent["api_key"] {
		delete(sent, "api_key") // keep the stored value as it is
	}
	return out, sent
}

func stamp(info *configs.ModelInfo, by string, now time.Time, created bool) {
	if info.Extra == nil {
		info.Extra = map[string]any{}
	}
	at := now.UTC().Truncate(time.Second).Format(time.RFC3339)
	if created || info.Extra["created_at"] == nil {
		info.Extra["created_at"], info.Extra["created_by"] = at, by
	}
	info.Extra["updated_at"], info.Extra["updated_by"] = at, by
}

// checkParams validates litellm_params and stores a raw api_key only
// encrypted.
func checkParams(lp *configs.LiteLLMParams, sent map[string]bool, c Caller, pol ModelPolicy) *Error {
	if strings.TrimSpace(lp.Model) == "" {
		return BadRequest("litellm_params.model", "litellm_params.model is missing; write <provider>/<upstream model>, e.g. openai/gpt-4o or azure/my-deployment")
	}
	provider, upstream, found := strings.Cut(lp.Model, "/")
	if !found {
		provider, upstream = "openai", lp.Model
	}
	if lp.CustomLLMProvider != "" {
		provider = lp.CustomLLMProvider
		upstream = strings.TrimPrefix(lp.Model, provider+"/")
		if !slices.Contains(configs.KnownProviders, provider) {
			return BadRequest("litellm_params.custom_llm_provider", "unknown custom_llm_provider %q; known providers: %s", provider, strings.Join(configs.KnownProviders, ", "))
		}
	} else if !slices.Contains(configs.KnownProviders, provider) {
		return BadRequest("litellm_params.model", "unknown provider %q in litellm_params.model %q; known providers: %s; write <provider>/<upstream model>",
			provider, lp.Model, strings.Join(configs.KnownProviders, ", "))
	}
	if upstream == "" {
		return BadRequest("litellm_params.model", "litellm_params.model %q names no upstream model after the provider; write e.g. %s/gpt-4o", lp.Model, provider)
	}
	if sent["api_base"] && lp.APIBase != "" {
		if strings.HasPrefix(lp.APIBase, configs.EnvPrefix) {
			if !c.Master {
				return Forbidden("litellm_params.api_base from os.environ/ is only for the master key; a team key must send the URL")
			}
		} else {
			u, err := url.Parse(lp.APIBase)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return BadRequest("litellm_params.api_base", "litellm_params.api_base %q is not an http(s) URL; use e.g. https://example.openai.azure.com", lp.APIBase)
			}
		}
	}
	if sent["api_key"] && lp.APIKey != "" {
		switch key := lp.APIKey; {
		case strings.HasPrefix(key, configs.EnvPrefix):
			if strings.TrimPrefix(key, configs.EnvPrefix) == "" {
				return BadRequest("litellm_params.api_key", "litellm_params.api_key %q names no environment variable; write os.environ/NAME", key)
			}
		case strings.HasPrefix(key, configs.EncPrefix):
			// already encrypted (e.g. with `gateway encrypt`); the loader checks it opens
		default:
			if pol.SaltKey == "" {
				return BadRequest("litellm_params.api_key", "a raw litellm_params.api_key cannot be stored: no salt key is configured; set GATEWAY_SALT_KEY (general_settings.salt_key) or pass the key as os.environ/NAME")
			}
			enc, err := configs.Encrypt(pol.SaltKey, key)
			if err != nil {
				return &Error{Status: 500, Message: "encrypting api_key failed: " + err.Error()}
			}
			lp.APIKey = enc
		}
	}
	return nil
}
