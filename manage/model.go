package manage

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/egress"
	"github.com/llmgateway/gateway/providers/registry"
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
	"timeout", "stream_timeout", "max_retries", "rpm", "tpm", "input_cost_per_token", "output_cost_per_token", "mock_response", "stream_include_usage",
	"weight", "order",
	"aws_access_key_id", "aws_secret_access_key", "aws_session_token", "aws_region_name", "aws_role_name", "aws_session_name",
	"aws_bedrock_runtime_endpoint", "aws_sts_endpoint", "vertex_project", "vertex_location", "vertex_credentials",
	"tenant_id", "client_id", "client_secret", "azure_ad_token", "azure_authority_host"}

// managedInfo are model_info keys the gateway fills itself; a caller
// sending them is ignored.
var managedInfo = []string{"created_at", "created_by", "updated_at", "updated_by", configs.KeySetByField}

// endpointParams are the litellm_params that say where a key goes: changing
// one through /model/update drops the stored secrets (api_key and the
// cloud credentials, configs.SecretParams) the same call does not send
// (keys follow their endpoint).
var endpointParams = []string{"api_base", "api_version", "model", "custom_llm_provider",
	"aws_region_name", "aws_bedrock_runtime_endpoint", "aws_sts_endpoint", "vertex_project", "vertex_location",
	"tenant_id", "azure_authority_host"}

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
	// SaltKeyPrevious opens (never seals) enc: values the master sends
	// while a salt key rotation is under way.
	SaltKeyPrevious string
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
	if e := checkParams(&d.LiteLLMParams, p.Sent, c, pol, configs.Binding{TeamID: teamID, ModelID: id}); e != nil {
		return nil, e
	}
	if e := checkAPIBase(d, p.Sent, pol); e != nil {
		return nil, e
	}
	stamp(&d.ModelInfo, c.Name(), now, true)
	d.ModelInfo.Extra[configs.KeySetByField] = keySetBy(c)
	return d, nil
}

// UpdateDeployment returns cur (as written in its file) with the request
// merged in: litellm_params and model_info keys sent replace theirs, a new
// model_name renames the public name. The id and team never change.
//
// Keys follow their endpoint: a change of api_base, api_version, model or
// custom_llm_provider drops the stored api_key unless the call sends one.
// A team key may change only a deployment whose key a team supplied
// (RequireKeyOwner).
func UpdateDeployment(cur *configs.Deployment, p *ParsedModel, c Caller, pol ModelPolicy, now time.Time) (*configs.Deployment, *Error) {
	if e := RequireKeyOwner(c, cur, "/model/update"); e != nil {
		return nil, e
	}
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
	keyDecided := false
	for _, name := range configs.SecretParams {
		keyDecided = keyDecided || p.Sent[name]
	}
	if endpointChanged(cur.LiteLLMParams, merged) {
		for _, name := range configs.SecretParams {
			if v := merged.StringParam(name); !p.Sent[name] && *v != "" {
				*v = "" // the secret was given for the old endpoint only
				keyDecided = true
			}
		}
	}
	if e := checkParams(&merged, sent, c, pol, configs.Binding{TeamID: cur.ModelInfo.TeamID, ModelID: cur.ModelInfo.ID}); e != nil {
		return nil, e
	}
	d.LiteLLMParams = merged
	if e := checkAPIBase(&d, sent, pol); e != nil {
		return nil, e
	}
	stamp(&d.ModelInfo, c.Name(), now, false)
	if keyDecided || d.ModelInfo.Extra[configs.KeySetByField] == nil {
		d.ModelInfo.Extra[configs.KeySetByField] = keySetBy(c)
	}
	return &d, nil
}

// endpointChanged reports whether merged sends its key somewhere else than
// cur: another api_base, api_version, upstream model or provider.
func endpointChanged(cur, merged configs.LiteLLMParams) bool {
	for _, name := range endpointParams {
		if *cur.StringParam(name) != *merged.StringParam(name) {
			return true
		}
	}
	return false
}

// keySetBy is what model_info.api_key_set_by records for a caller.
func keySetBy(c Caller) string {
	if c.Master {
		return configs.KeySetByMaster
	}
	return configs.KeySetByTeam
}

// RequireKeyOwner allows the master key, and a team key only for a
// deployment whose upstream credentials a team supplied (model_info.
// api_key_set_by: team, and a key that neither reads the environment nor
// is an unbound enc:v1: value; see configs.Deployment.
// OperatorCredentials). d is the deployment as written or as live (the
// loader remembers which values read the environment before resolving
// them). A team key can thus
// never point the operator's key at another endpoint, make it cheaper,
// or remove it.
func RequireKeyOwner(c Caller, d *configs.Deployment, what string) *Error {
	if c.Master || !d.OperatorCredentials() {
		return nil
	}
	return Forbidden("%s: the upstream key of model %q was set by the operator (the master key or a reviewed file), so only the master key may change or delete it; "+
		"ask an operator, or add your own model with /model/new and your own raw api_key", what, d.ModelInfo.ID)
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
	for _, name := range configs.SecretParams {
		if !p.Sent[name] {
			delete(sent, name) // keep the stored value as it is
		}
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
// encrypted, bound to the deployment (bind).
//
// Operator secrets stay the operator's: only the master key may send a
// value that reads the gateway's environment (os.environ/NAME, in any
// litellm_params string: the api_key, but also api_base, api_version or
// organization, which reach the upstream too) or an already encrypted
// enc: api_key (which would decrypt with the operator's salt key). A team
// key sends its raw key; the gateway encrypts it for the team's own
// deployment.
func checkParams(lp *configs.LiteLLMParams, sent map[string]bool, c Caller, pol ModelPolicy, bind configs.Binding) *Error {
	if !c.Master {
		if e := refuseOperatorValues(lp, sent); e != nil {
			return e
		}
	}
	if strings.TrimSpace(lp.Model) == "" {
		return BadRequest("litellm_params.model", "litellm_params.model is missing; write <provider>/<upstream model>, e.g. openai/gpt-4o or azure/my-deployment")
	}
	provider, upstream := registry.ParseModel(lp.Model, lp.CustomLLMProvider)
	if _, known := registry.Lookup(provider); !known && lp.CustomLLMProvider != "" {
		return BadRequest("litellm_params.custom_llm_provider", "unknown custom_llm_provider %q; known providers: %s", provider, registry.Names())
	} else if !known {
		return BadRequest("litellm_params.model", "unknown provider %q in litellm_params.model %q; known providers: %s; write <provider>/<upstream model>",
			provider, lp.Model, registry.Names())
	}
	if upstream == "" {
		return BadRequest("litellm_params.model", "litellm_params.model %q names no upstream model after the provider; write e.g. %s/gpt-4o", lp.Model, provider)
	}
	for _, name := range configs.EndpointParams {
		v := *lp.StringParam(name)
		if !sent[name] || v == "" || strings.HasPrefix(v, configs.EnvPrefix) {
			continue
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return BadRequest("litellm_params."+name, "litellm_params.%s %q is not an http(s) URL; use e.g. https://example.openai.azure.com", name, v)
		}
	}
	for _, name := range configs.SecretParams {
		if v := lp.StringParam(name); sent[name] && *v != "" {
			if e := storeSecret(name, v, c, pol, bind); e != nil {
				return e
			}
		}
	}
	return nil
}

// storeSecret checks the secret param name's value *v as sent and
// replaces a raw value by its encryption bound to the deployment (bind).
func storeSecret(name string, v *string, c Caller, pol ModelPolicy, bind configs.Binding) *Error {
	param := "litellm_params." + name
	switch key := *v; {
	case strings.HasPrefix(key, configs.EnvPrefix):
		if strings.TrimPrefix(key, configs.EnvPrefix) == "" {
			return BadRequest(param, "%s %q names no environment variable; write os.environ/NAME", param, key)
		}
	case strings.HasPrefix(key, configs.EncBoundPrefix):
		// The master's value from `gateway encrypt --team --model`: it
		// must be for this deployment (the loader would refuse it too).
		keys := configs.SaltKeys{Current: pol.SaltKey, Previous: pol.SaltKeyPrevious}
		if _, _, err := keys.Open(bind, key); err != nil {
			return BadRequest(param, "%s is an enc:v2: value that does not decrypt for this deployment (%s): %s; "+
				"send the raw value, or encrypt it with `gateway encrypt --team %s --model %s`",
				param, bind, strings.TrimPrefix(err.Error(), "decrypt: "), teamFlag(bind.TeamID), bind.ModelID)
		}
	case strings.HasPrefix(key, configs.EncPrefix):
		// legacy unbound value of the master's; the loader checks it opens
	case strings.HasPrefix(key, configs.EncAnyPrefix):
		return BadRequest(param, "%s starts with %q but is neither enc:v1: nor enc:v2:; send the raw value", param, configs.EncAnyPrefix)
	default:
		if name == "vertex_credentials" {
			if e := checkServiceAccount(key, c); e != nil {
				return e
			}
		}
		if pol.SaltKey == "" {
			if c.Master {
				return BadRequest(param, "a raw %s cannot be stored: no salt key is configured; set GATEWAY_SALT_KEY (general_settings.salt_key) or pass the value as os.environ/NAME", param)
			}
			return BadRequest(param, "a raw %s cannot be stored: the gateway has no salt key configured (GATEWAY_SALT_KEY); ask an operator to set it", param)
		}
		enc, err := configs.EncryptBound(pol.SaltKey, bind, key)
		if err != nil {
			return &Error{Status: 500, Message: "encrypting " + name + " failed: " + err.Error()}
		}
		*v = enc
	}
	return nil
}

// checkServiceAccount checks a raw vertex_credentials: a team sends a
// service account's JSON key (type service_account); a file path, or
// another credential type (authorized_user, external_account: those make
// Google's library call URLs or run programs the JSON names), is only for
// the master key. The message never quotes the value.
func checkServiceAccount(v string, c Caller) *Error {
	const param = "litellm_params.vertex_credentials"
	if configs.IsCredentialFile(v) {
		if c.Master {
			return nil // a path on the gateway's disk, read at call time
		}
		return &Error{Status: 403, Param: param, Message: param + " is not a JSON object: a file path reads the gateway's disk and is only for the master key; send the service account's JSON key itself"}
	}
	var sa struct {
		Type        string `json:"type"`
		ClientEmail string `json:"client_email"`
		PrivateKey  string `json:"private_key"`
	}
	if err := json.Unmarshal([]byte(v), &sa); err != nil {
		return BadRequest(param, "%s is not valid JSON; send the service account key file's content as a string", param)
	}
	if sa.Type != "service_account" && !c.Master {
		return &Error{Status: 403, Param: param, Message: fmt.Sprintf("%s has type %q; a team sends a service account key (type service_account); other credential types are only for the master key", param, sa.Type)}
	}
	if sa.Type == "service_account" && (sa.ClientEmail == "" || sa.PrivateKey == "") {
		return BadRequest(param, "%s is a service account key without client_email or private_key; send the whole JSON key file Google issued", param)
	}
	return nil
}

// refuseOperatorValues is the 403 for a team key that sends a value only
// the operator may use: os.environ/ in any litellm_params string, or an
// enc: api_key.
func refuseOperatorValues(lp *configs.LiteLLMParams, sent map[string]bool) *Error {
	for _, name := range AcceptedParams {
		v := lp.StringParam(name)
		if v == nil || !sent[name] {
			continue
		}
		if strings.HasPrefix(strings.TrimSpace(*v), configs.EnvPrefix) {
			return &Error{Status: 403, Param: "litellm_params." + name, Message: "litellm_params." + name +
				" from os.environ/ is only for the master key: it would read the gateway's own environment. A team key must send the value itself" +
				keyHint(name)}
		}
		if configs.IsSecretParam(name) && strings.HasPrefix(strings.TrimSpace(*v), configs.EncAnyPrefix) {
			return &Error{Status: 403, Param: "litellm_params." + name, Message: "litellm_params." + name + ": an already encrypted enc: value is only for the master key; " +
				"send the raw " + rawWhat(name) + " (the gateway encrypts it for this model), or ask an operator to add the model"}
		}
	}
	return nil
}

// rawWhat names what a team sends for the secret param name.
func rawWhat(name string) string {
	if name == "api_key" {
		return "upstream key"
	}
	return "value"
}

func keyHint(name string) string {
	if configs.IsSecretParam(name) {
		return " (the raw value; the gateway stores it encrypted), or ask an operator to add the model"
	}
	return ", or ask an operator to add the model"
}

// teamFlag is a team id as `gateway encrypt --team` takes it.
func teamFlag(team string) string {
	if team == "" {
		return `""`
	}
	return team
}
