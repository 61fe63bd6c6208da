package configs

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// resolveSettings applies defaults and resolves the master and salt keys.
func (b *builder) resolveSettings(gw *GatewayFile) Settings {
	g, r := &gw.GeneralSettings, &gw.RouterSettings
	gitops := gw.GitOps
	s := Settings{
		TeamAPIBaseAllow: g.TeamAPIBaseAllow,
		TeamAPIBaseDeny:  g.TeamAPIBaseDeny,
		GitOps:           gitops,
	}
	// The salt key first: an enc:v1: master key needs it.
	s.SaltKey = b.settingSecret(g, "salt_key", g.SaltKey, "",
		"the management API refuses raw upstream keys until it is set (os.environ/NAME keys still work)")
	s.MasterKey = b.settingSecret(g, "master_key", g.MasterKey, s.SaltKey,
		"the management API answers 403 to everyone until it is set (team keys still work)")

	timeout := r.Timeout
	if timeout < 0 {
		b.problems.errorf(b.posOf(r, "timeout", Pos{}), "router_settings.timeout is %v; use a positive number of seconds (default %d)", timeout, DefaultTimeout)
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	s.Timeout = time.Duration(timeout * float64(time.Second))

	mb := g.MaxRequestBodyMB
	if mb < 0 {
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
func (b *builder) settingSecret(g *GeneralSettings, name, value, saltKey, consequence string) string {
	at := b.posOf(g, name, Pos{})
	switch {
	case value == "":
		return ""
	case strings.HasPrefix(value, EnvPrefix):
		env := strings.TrimPrefix(value, EnvPrefix)
		v, ok := b.env(env)
		if !ok || v == "" {
			b.problems.warnf(at, "environment variable %s is not set (%s: %s); %s", env, name, value, consequence)
			return ""
		}
		return v
	case strings.HasPrefix(value, EncPrefix):
		if name == "salt_key" {
			b.problems.errorf(at, "salt_key cannot itself be encrypted; use os.environ/GATEWAY_SALT_KEY")
			return ""
		}
		v, err := Decrypt(saltKey, value)
		if err != nil {
			b.problems.errorf(at, "%s cannot be decrypted: %s; set the salt key it was encrypted with or use os.environ/NAME", name, strings.TrimPrefix(err.Error(), "decrypt: "))
			return ""
		}
		return v
	default:
		b.problems.warnf(at, "%s is a plaintext secret in the file; use os.environ/NAME (e.g. os.environ/GATEWAY_%s) instead", name, strings.ToUpper(name))
		return value
	}
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

	for _, n := range []struct {
		name string
		neg  bool
	}{
		{"timeout", p.Timeout != nil && *p.Timeout < 0},
		{"stream_timeout", p.StreamTimeout != nil && *p.StreamTimeout < 0},
		{"max_retries", p.MaxRetries != nil && *p.MaxRetries < 0},
		{"rpm", p.RPM != nil && *p.RPM < 0},
		{"tpm", p.TPM != nil && *p.TPM < 0},
		{"input_cost_per_token", p.InputCostPerToken != nil && *p.InputCostPerToken < 0},
		{"output_cost_per_token", p.OutputCostPerToken != nil && *p.OutputCostPerToken < 0},
	} {
		if n.neg {
			b.problems.errorf(b.posOf(p, n.name, at), "litellm_params.%s is negative; use 0 or a positive number", n.name)
		}
	}
}

// resolveEnv resolves the values of d that depend on the environment and
// the salt key: api_base, api_version and organization (os.environ/NAME)
// and api_key (APIKey). r holds the positions to report at.
func (b *builder) resolveEnv(d *Deployment, r *depRec, saltKey string) {
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
	d.APIKey = b.resolveAPIKey(r.at(r.keyPos), p.APIKey, saltKey)
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
	provider, upstream, found := strings.Cut(p.Model, "/")
	if !found {
		provider, upstream = "openai", p.Model
	}
	if p.CustomLLMProvider != "" {
		provider = p.CustomLLMProvider
		upstream = strings.TrimPrefix(p.Model, provider+"/")
		if !knownProvider(provider) {
			b.problems.errorf(b.posOf(p, "custom_llm_provider", d.Source), "unknown custom_llm_provider %q; known providers: %s",
				provider, strings.Join(KnownProviders, ", "))
		}
	} else if !knownProvider(provider) {
		b.problems.errorf(b.posOf(p, "model", d.Source), "unknown provider %q in model %q; known providers: %s; write model: <provider>/<upstream model>",
			provider, p.Model, strings.Join(KnownProviders, ", "))
	}
	if upstream == "" {
		b.problems.errorf(b.posOf(p, "model", d.Source), "litellm_params.model %q names no upstream model after the provider; write e.g. %s/gpt-4o", p.Model, provider)
	}
	d.Provider, d.UpstreamModel = provider, upstream
}

func knownProvider(p string) bool {
	for _, k := range KnownProviders {
		if k == p {
			return true
		}
	}
	return false
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

// resolveAPIKey resolves litellm_params.api_key: os.environ/NAME from the
// environment, enc:v1: with the salt key, anything else literally (with a
// warning).
func (b *builder) resolveAPIKey(at Pos, value, saltKey string) string {
	switch {
	case value == "":
		return ""
	case strings.HasPrefix(value, EnvPrefix):
		env := strings.TrimPrefix(value, EnvPrefix)
		if env == "" {
			b.problems.errorf(at, "api_key %q names no environment variable; write os.environ/NAME", value)
			return ""
		}
		v, ok := b.env(env)
		if !ok || v == "" {
			b.problems.errorf(at, "environment variable %s is not set (api_key: %s); set it in the gateway's environment or use an enc:v1: value from `gateway encrypt`", env, value)
			return ""
		}
		return v
	case strings.HasPrefix(value, EncPrefix):
		if saltKey == "" {
			b.problems.errorf(at, "api_key is encrypted (enc:v1:) but no salt key is set; set general_settings.salt_key (e.g. GATEWAY_SALT_KEY) to the key it was encrypted with")
			return ""
		}
		v, err := Decrypt(saltKey, value)
		if err != nil {
			b.problems.errorf(at, "api_key cannot be decrypted: %s; set the salt key it was encrypted with, or encrypt it again with `gateway encrypt`",
				strings.TrimPrefix(err.Error(), "decrypt: "))
			return ""
		}
		return v
	default:
		b.problems.warnf(at, "api_key holds a plaintext key; encrypt it with `gateway encrypt` (enc:v1:...) or use os.environ/NAME")
		return value
	}
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
