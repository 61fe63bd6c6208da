package configs

import (
	"fmt"
	"strings"
)

// Who set a deployment's upstream credentials (its api_key, or the absence
// of one) is recorded in model_info.api_key_set_by. The gateway writes it
// on every API write that decides the key; callers cannot set it.
const (
	// KeySetByField is the model_info key that records it.
	KeySetByField = "api_key_set_by"
	// KeySetByMaster: the master key wrote the deployment's credentials.
	KeySetByMaster = "master"
	// KeySetByTeam: a team key supplied them (a raw key, stored enc:v2:).
	KeySetByTeam = "team"
)

// KeySetBy returns model_info.api_key_set_by ("" when absent: a reviewed
// file or a write of an older gateway).
func (d *Deployment) KeySetBy() string {
	s, _ := d.ModelInfo.Extra[KeySetByField].(string)
	return s
}

// OperatorCredentials reports whether the deployment's credentials are the
// operator's: everything except a key a team supplied through the API.
// That is, model_info.api_key_set_by is not "team" (the master key or a
// reviewed file wrote it), or the api_key as written is an unbound enc:v1:
// value (which the gateway never writes for a team, and which may have
// been copied from anywhere), or a litellm_params value that reaches the
// upstream (api_key, api_base, api_version, organization, the cloud
// credentials and endpoints) reads the gateway's environment (os.environ/)
// or, for vertex_credentials, a file of the gateway's disk.
//
// It is the rule two places follow:
//   - only the master key may change or delete a deployment whose
//     credentials are the operator's (manage.RequireKeyOwner);
//   - a provider default that reads the host's environment or identity (a
//     default key variable such as OPENAI_API_KEY, a cloud credential
//     chain) may apply to a deployment only when OperatorCredentials is
//     true. The anthropic provider's ANTHROPIC_API_KEY is one; any other
//     must ask this method first.
func (d *Deployment) OperatorCredentials() bool {
	if d.KeySetBy() != KeySetByTeam {
		return true
	}
	return d.envRefs || readsOperatorValues(&d.LiteLLMParams)
}

// readsOperatorValues reports values, as written, that only the operator
// may use: an unbound enc:v1: api_key, or os.environ/ in a value that
// reaches the upstream.
func readsOperatorValues(p *LiteLLMParams) bool {
	for _, name := range SecretParams {
		if strings.HasPrefix(*p.StringParam(name), EncPrefix) {
			return true
		}
	}
	for _, name := range append(append([]string{"api_base", "api_version", "organization"}, SecretParams...), cloudEnvParams...) {
		if strings.HasPrefix(*p.StringParam(name), EnvPrefix) {
			return true
		}
	}
	// A service account key read from a file of the gateway's disk.
	v := p.VertexCredentials
	return IsCredentialFile(v) && !strings.HasPrefix(v, EncAnyPrefix) && !strings.HasPrefix(v, EnvPrefix)
}

// checkKeySetBy reports a model_info.api_key_set_by other than "master"
// or "team".
func (b *builder) checkKeySetBy(d *Deployment) {
	v, ok := d.ModelInfo.Extra[KeySetByField]
	if !ok {
		return
	}
	if s, _ := v.(string); s != KeySetByMaster && s != KeySetByTeam {
		b.problems.errorf(b.posOf(&d.ModelInfo, "", d.Source),
			"model_info.%s is %s; it is written by the gateway and is %q or %q (remove it: a reviewed file's key counts as the operator's)",
			KeySetByField, fmt.Sprint(v), KeySetByMaster, KeySetByTeam)
	}
}
