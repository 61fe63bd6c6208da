package configs

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/llmgateway/gateway/egress"
	"github.com/llmgateway/gateway/providers/registry"
)

// resolveSettings applies defaults and resolves the master and salt keys.
func (b *builder) resolveSettings(gw *GatewayFile) Settings {
	g := &gw.GeneralSettings
	gitops := gw.GitOps
	s := Settings{
		TeamAPIBaseAllow: g.TeamAPIBaseAllow,
		TeamAPIBaseDeny:  g.TeamAPIBaseDeny,
		GitOps:           gitops,
	}
	for _, l := range []struct {
		field string
		list  []string
	}{{"team_api_base_allow", g.TeamAPIBaseAllow}, {"team_api_base_deny", g.TeamAPIBaseDeny}} {
		for i, e := range l.list {
			if err := egress.ParseEntry(e); err != nil {
				b.problems.errorf(b.posOf(g, l.field, Pos{}), "general_settings.%s[%d]: %v", l.field, i, err)
			}
		}
	}
	s.Router = DefaultRouter() // build resolves it after assemble: routersettings.go
	// The salt key first: an enc:v1: master key needs it.
	s.SaltKey = b.settingSecret(g, "salt_key", g.SaltKey, SaltKeys{},
		"the management API refuses raw upstream keys until it is set (the master key may still send os.environ/NAME)")
	s.SaltKeyPrevious = b.previousSaltKey(g, s.SaltKey)
	s.MasterKey = b.settingSecret(g, "master_key", g.MasterKey, s.SaltKeys(),
		"the management API answers 403 to everyone until it is set (team keys still work)")
	s.MetricsKey = b.settingSecret(g, "metrics_key", g.MetricsKey, s.SaltKeys(),
		"GET /metrics shows its per-team series to the master key only")

	b.usageSettings(g, &s)

	timeout, timeoutAt, timeoutName := b.requestTimeout(gw) // routersettings.go
	if why := CheckFinite(timeout, MaxTimeoutSeconds); why != "" {
		b.problems.errorf(timeoutAt, "%s %s; use a number of seconds up to %d (default %d)", timeoutName, why, MaxTimeoutSeconds, DefaultTimeout)
		timeout = DefaultTimeout
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	s.Timeout = time.Duration(timeout * float64(time.Second))

	mb := g.MaxRequestBodyMB
	if math.IsNaN(mb) || math.IsInf(mb, 0) || mb > 1<<20 {
		b.problems.errorf(b.posOf(g, "max_request_size_mb", Pos{}), "general_settings.max_request_size_mb is %v; use a finite number of MiB (default %d)", mb, DefaultMaxRequestMB)
		mb = DefaultMaxRequestMB
	} else if mb < 0 {
		b.problems.errorf(b.posOf(g, "max_request_size_mb", Pos{}), "general_settings.max_request_size_mb is %v; use a positive number of MiB (default %d)", mb, DefaultMaxRequestMB)
	}
	if mb <= 0 {
		mb = DefaultMaxRequestMB
	}
	s.MaxRequestBody = int(mb * (1 << 20))

	interval := g.RescanInterval
	if interval == "" {
		interval = DefaultRescanInterval
	}
	d, err := time.ParseDuration(interval)
	if err != nil || d <= 0 {
		b.problems.errorf(b.posOf(g, "rescan_interval", Pos{}), "general_settings.rescan_interval %q is not a positive Go duration; use e.g. 30s or 5m", interval)
		d, _ = time.ParseDuration(DefaultRescanInterval)
	}
	s.RescanInterval = d
	s.MaxConfigFileBytes = b.maxConfigFileBytes(g)

	s.MaxTeamModels = g.MaxTeamModels
	if s.MaxTeamModels < 0 {
		b.problems.errorf(b.posOf(g, "max_team_models", Pos{}), "general_settings.max_team_models is %d; use a positive number (default %d)", s.MaxTeamModels, DefaultMaxTeamModels)
	}
	if s.MaxTeamModels <= 0 {
		s.MaxTeamModels = DefaultMaxTeamModels
	}

	if s.GitOps.AuthorName == "" {
		s.GitOps.AuthorName = DefaultAuthorName
	}
	if s.GitOps.AuthorEmail == "" {
		s.GitOps.AuthorEmail = DefaultAuthorEmail
	}
	if s.GitOps.Remote == "" {
		s.GitOps.Remote = DefaultRemote
	}
	return s
}

// settingSecret resolves general_settings.master_key or salt_key. Both fail
// closed: an unset variable gives "" and a warning, never an error.
func (b *builder) settingSecret(g *GeneralSettings, name, value string, salt SaltKeys, consequence string) string {
	at := b.posOf(g, name, Pos{})
	switch {
	case value == "":
		if v, from := b.liteLLMSecret(name, ""); v != "" {
			b.problems.warnf(at, "general_settings.%s is not set; using %s from the environment (LiteLLM's variable)", name, from)
			return v
		}
		return ""
	case strings.HasPrefix(value, EnvPrefix):
		env := strings.TrimPrefix(value, EnvPrefix)
		v, ok := b.env(env)
		if !ok || v == "" {
			if v, from := b.liteLLMSecret(name, env); v != "" {
				b.problems.warnf(at, "environment variable %s is not set (%s: %s); using %s instead (LiteLLM's variable)", env, name, value, from)
				return v
			}
			b.problems.warnf(at, "environment variable %s is not set (%s: %s); %s", env, name, value, consequence)
			return ""
		}
		return v
	case strings.HasPrefix(value, EncAnyPrefix):
		if name == "salt_key" {
			b.problems.errorf(at, "salt_key cannot itself be encrypted; use os.environ/GATEWAY_SALT_KEY")
			return ""
		}
		v, _, err := salt.Open(Binding{}, value)
		if err != nil {
			b.problems.errorf(at, "%s cannot be decrypted: %s; set the salt key it was encrypted with or use os.environ/NAME", name, strings.TrimPrefix(err.Error(), "decrypt: "))
			return ""
		}
		return v
	default:
		env := "GATEWAY_" + strings.ToUpper(name)
		if name == "database_url" {
			env = "DATABASE_URL" // LiteLLM's name
		}
		b.problems.warnf(at, "%s is a plaintext secret in the file; use os.environ/NAME (e.g. os.environ/%s) instead", name, env)
		return value
	}
}

// LiteLLM's variables for the master and salt keys, read when the
// settings name no key or the variable they name is unset, so a LiteLLM
// deployment's environment works as it is.
const (
	LiteLLMMasterKeyEnv = "LITELLM_MASTER_KEY"
	LiteLLMSaltKeyEnv   = "LITELLM_SALT_KEY"
)

// liteLLMSecret is LiteLLM's variable for the setting name (master_key,
// salt_key) and its value, unless it is the variable already read
// (named).
func (b *builder) liteLLMSecret(name, named string) (string, string) {
	env := map[string]string{"master_key": LiteLLMMasterKeyEnv, "salt_key": LiteLLMSaltKeyEnv}[name]
	if env == "" || env == named {
		return "", ""
	}
	if v, ok := b.env(env); ok && v != "" {
		return v, env
	}
	return "", ""
}

// DefaultSaltKeyPreviousEnv is the variable read for the previous salt key
// when general_settings.salt_key_previous is absent.
const DefaultSaltKeyPreviousEnv = "GATEWAY_SALT_KEY_PREVIOUS"

// previousSaltKey resolves general_settings.salt_key_previous (absent:
// GATEWAY_SALT_KEY_PREVIOUS). Unset is the normal state, not a warning;
// set, it is a warning until the rotation is finished.
func (b *builder) previousSaltKey(g *GeneralSettings, current string) string {
	at := b.posOf(g, "salt_key_previous", Pos{})
	env, value := DefaultSaltKeyPreviousEnv, g.SaltKeyPrevious
	if value != "" {
		name, ok := strings.CutPrefix(value, EnvPrefix)
		if !ok || name == "" {
			b.problems.errorf(at, "salt_key_previous must be os.environ/NAME (e.g. os.environ/%s), never the key itself", DefaultSaltKeyPreviousEnv)
			return ""
		}
		env = name
	}
	v, _ := b.env(env)
	if v == "" || v == current {
		return ""
	}
	if current == "" {
		b.problems.errorf(at, "%s is set but the salt key is not; the previous salt key only decrypts alongside a current one (set GATEWAY_SALT_KEY to the new key)", env)
		return ""
	}
	b.problems.warnf(at, "%s is set: values encrypted with the previous salt key still decrypt while a rotation is under way; run `gateway rotate-salt`, commit, then unset %s", env, env)
	return v
}

// SaltKeys are the settings' current and previous salt keys.
func (s Settings) SaltKeys() SaltKeys {
	return SaltKeys{Current: s.SaltKey, Previous: s.SaltKeyPrevious}
}

// resolveOwn checks what of one deployment depends on nothing but its
// file and fills in Provider, UpstreamModel and (if absent) model_info.id.
// It runs once per file content (see decodeOne), with the file's
// positions in b.pos.
func (b *builder) resolveOwn(d *Deployment) {
	p := &d.LiteLLMParams
	at := d.Source
	if d.ModelName == "" && !b.has(d, "model_name") {
		b.problems.errorf(at, "model_name is missing; add model_name: <the name clients call this model by>")
	}
	if d.ModelInfo.ID == "" {
		d.ModelInfo.ID = DeploymentID(d)
	}
	if d.ModelInfo.TeamPublicModelName != "" && d.ModelInfo.TeamID == "" {
		b.problems.errorf(b.posOf(&d.ModelInfo, "team_public_model_name", at),
			"team_public_model_name is set but model_info.team_id is not; add the team_id of the team that owns this model, or remove team_public_model_name for a global model")
	}
	b.resolveProvider(d)
	b.checkKeySetBy(d)

	b.checkDeploymentNumbers(p, at) // validate.go
}

// resolveEnv resolves the values of d that depend on the environment and
// the salt key: api_base, api_version and organization (os.environ/NAME)
// and api_key (APIKey). r holds the positions to report at.
func (b *builder) resolveEnv(d *Deployment, r *depRec, salt SaltKeys) {
	p := &d.LiteLLMParams
	if p.APIBase != "" {
		base := b.resolveParamEnv(r.at(r.apiBasePos), "api_base", p.APIBase)
		u, err := url.Parse(base)
		if base != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
			b.problems.errorf(r.at(r.apiBasePos), "api_base %q is not an http(s) URL; use e.g. https://example.openai.azure.com", base)
		}
		p.APIBase = base
	}
	if p.APIVersion != "" {
		p.APIVersion = b.resolveParamEnv(r.at(r.apiVersionPos), "api_version", p.APIVersion)
	}
	if p.Organization != "" {
		p.Organization = b.resolveParamEnv(r.at(r.organizationPos), "organization", p.Organization)
	}
	d.APIKey = b.resolveSecret(r.at(r.keyPos), "api_key", p.APIKey, salt, r)
	for _, name := range cloudEnvParams {
		v := p.StringParam(name)
		if *v == "" {
			continue
		}
		at := r.at(r.cloudPos[name])
		*v = b.resolveParamEnv(at, name, *v)
		if slices.Contains(EndpointParams, name) && *v != "" {
			if u, err := url.Parse(*v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				b.problems.errorf(at, "%s %q is not an http(s) URL; write e.g. https://host.example.com", name, *v)
			}
		}
	}
	for _, name := range SecretParams[1:] {
		if v := *p.StringParam(name); v != "" {
			*d.Credentials.credential(name) = b.resolveSecret(r.at(r.cloudPos[name]), name, v, salt, r)
		}
	}
	b.checkCredentialSets(d, r)
	if f := d.Credentials.VertexCredentials; IsCredentialFile(f) && d.KeySetBy() == KeySetByTeam && !strings.HasPrefix(p.VertexCredentials, EnvPrefix) {
		b.problems.errorf(r.at(r.cloudPos["vertex_credentials"]),
			"vertex_credentials is a file path but a team set this deployment's credentials (model_info.%s: team); a team sends the service account's JSON key itself, a path reads the gateway's disk and is for the operator's deployments only",
			KeySetByField)
	}
}

// resolveProvider sets Provider and UpstreamModel from litellm_params.model
// ("provider/upstream") and custom_llm_provider, which wins when set.
func (b *builder) resolveProvider(d *Deployment) {
	p := &d.LiteLLMParams
	if p.Model == "" {
		if b.has(p, "model") || (b.has(d, "litellm_params") && !b.has(p, "")) {
			return // its type error is reported already
		}
		b.problems.errorf(b.posOf(p, "", d.Source), "litellm_params.model is missing; add model: <provider>/<upstream model>, e.g. azure/my-deployment or openai/gpt-4o")
		return
	}
	provider, upstream := registry.ParseModel(p.Model, p.CustomLLMProvider)
	if _, known := registry.Lookup(provider); !known && p.CustomLLMProvider != "" {
		b.problems.errorf(b.posOf(p, "custom_llm_provider", d.Source), "unknown custom_llm_provider %q; known providers: %s",
			provider, registry.Names())
	} else if !known {
		b.problems.errorf(b.posOf(p, "model", d.Source), "unknown provider %q in model %q; known providers: %s; write model: <provider>/<upstream model>",
			provider, p.Model, registry.Names())
	}
	if upstream == "" {
		b.problems.errorf(b.posOf(p, "model", d.Source), "litellm_params.model %q names no upstream model after the provider; write e.g. %s/gpt-4o", p.Model, provider)
	}
	if spec, known := registry.Lookup(provider); known {
		for _, param := range registry.ProviderParams {
			set := p.StreamIncludeUsage != nil
			if param != "stream_include_usage" {
				set = *p.StringParam(param) != ""
			}
			if set && !spec.Reads(param) {
				b.problems.warnf(b.posOf(p, param, d.Source), "litellm_params.%s is not read by provider %s; remove it", param, provider)
			}
		}
	}
	d.Provider, d.UpstreamModel = provider, upstream
}

// resolveParamEnv resolves an os.environ/NAME value of a non-secret
// litellm_params field (api_base, api_version, organization), as LiteLLM
// does; other values are returned as they are.
func (b *builder) resolveParamEnv(at Pos, name, value string) string {
	env, ok := strings.CutPrefix(value, EnvPrefix)
	if !ok {
		return value
	}
	v, set := b.env(env)
	if !set || v == "" {
		b.problems.errorf(at,
			"environment variable %s is not set (%s: %s); set it in the gateway's environment or write the value in the file", env, name, value)
		return ""
	}
	return v
}

// resolveSecret resolves a secret litellm_params field (api_key, or one of
// SecretParams), named name: os.environ/NAME from the environment, enc:v2:
// with the salt keys and the deployment's binding (its team and
// model_info.id), enc:v1: with the salt keys alone, anything
// else literally (with a warning).
func (b *builder) resolveSecret(at Pos, name, value string, salt SaltKeys, r *depRec) string {
	switch {
	case value == "":
		return ""
	case strings.HasPrefix(value, EnvPrefix):
		env := strings.TrimPrefix(value, EnvPrefix)
		if env == "" {
			b.problems.errorf(at, "%s %q names no environment variable; write os.environ/NAME", name, value)
			return ""
		}
		v, ok := b.env(env)
		if !ok || v == "" {
			b.problems.errorf(at, "environment variable %s is not set (%s: %s); set it in the gateway's environment or use an enc:v2: value from `gateway encrypt`", env, name, value)
			return ""
		}
		return v
	case strings.HasPrefix(value, EncPrefix), strings.HasPrefix(value, EncBoundPrefix):
		version := value[:len(EncPrefix)]
		if salt.Current == "" {
			b.problems.errorf(at, "%s is encrypted (%s) but no salt key is set; set general_settings.salt_key (e.g. GATEWAY_SALT_KEY) to the key it was encrypted with", name, version)
			return ""
		}
		bind := Binding{TeamID: r.d.ModelInfo.TeamID, ModelID: r.d.ModelInfo.ID}
		if version == EncBoundPrefix && !r.idExplicit {
			b.problems.errorf(at, "%s is an enc:v2: value, bound to its deployment's model_info.id, but this deployment has no model_info.id written; add the id it was encrypted for (`gateway encrypt --team ID --model ID`)", name)
			return ""
		}
		v, _, err := salt.Open(bind, value)
		if err != nil {
			model := bind.ModelID
			if !r.idExplicit {
				model = "ID` and write that model_info.id"
			} else {
				model += "`"
			}
			hint := fmt.Sprintf("set the salt key it was encrypted with (GATEWAY_SALT_KEY, or GATEWAY_SALT_KEY_PREVIOUS during a rotation), or encrypt it again with `gateway encrypt --team %s --model %s",
				teamArg(bind.TeamID), model)
			if version == EncBoundPrefix {
				hint = fmt.Sprintf("an enc:v2: value opens only for the team and deployment it was encrypted for (here %s) and with its salt key (GATEWAY_SALT_KEY, or GATEWAY_SALT_KEY_PREVIOUS during a rotation); "+
					"send the raw key again with /model/update, or run `gateway encrypt --team %s --model %s`", bind, teamArg(bind.TeamID), bind.ModelID)
			}
			b.problems.errorf(at, "%s cannot be decrypted: %s; %s", name, strings.TrimPrefix(err.Error(), "decrypt: "), hint)
			return ""
		}
		return v
	case strings.HasPrefix(value, EncAnyPrefix):
		b.problems.errorf(at, "%s starts with %q but is neither enc:v1: nor enc:v2:; use a value from `gateway encrypt` or os.environ/NAME", name, EncAnyPrefix)
		return ""
	default:
		b.problems.warnf(at, "%s holds a plaintext key; encrypt it with `gateway encrypt --team ID --model ID` (enc:v2:...) or use os.environ/NAME", name)
		return value
	}
}

// teamArg is a team id as `gateway encrypt --team` takes it ("" for a
// global model).
func teamArg(team string) string {
	if team == "" {
		return `""`
	}
	return team
}

// DeploymentID returns the deterministic id of a deployment without
// model_info.id: a UUID-shaped prefix of the sha256 of its model_name and
// its litellm_params as written (before any resolution). It is stable
// across restarts.
func DeploymentID(d *Deployment) string {
	canon, err := json.Marshal(struct {
		ModelName     string        `json:"model_name"`
		LiteLLMParams LiteLLMParams `json:"litellm_params"`
	}{d.ModelName, d.LiteLLMParams})
	if err != nil { // cannot happen for these types
		canon = fmt.Appendf(nil, "%s\x00%+v", d.ModelName, d.LiteLLMParams)
	}
	sum := sha256.Sum256(canon)
	h := hex.EncodeToString(sum[:16])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
