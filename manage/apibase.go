package manage

import (
	"strings"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/egress"
)

// checkAPIBase is the API-time api_base check (see package egress): a team
// deployment whose api_base (or another endpoint param: configs.
// EndpointParams, such as aws_bedrock_runtime_endpoint or
// azure_authority_host) was sent must pass the egress policy as written,
// whoever the caller (the dial would refuse it anyway); the master's
// global deployments are not restricted. DNS is not consulted here: the
// gateway's dialer checks the resolved addresses on every new connection
// (token endpoints named inside a credential, such as a service account's
// token_uri, are checked there only).
func checkAPIBase(d *configs.Deployment, sent map[string]bool, pol ModelPolicy) *Error {
	if d.ModelInfo.TeamID == "" {
		return nil
	}
	for _, name := range configs.EndpointParams {
		base := *d.LiteLLMParams.StringParam(name)
		if !sent[name] || base == "" || strings.HasPrefix(base, configs.EnvPrefix) {
			continue
		}
		p := pol.APIBase
		if p == nil {
			p = egress.New(nil, nil, egress.HostAddrs())
		}
		den := p.CheckURL(base)
		if den == nil {
			continue
		}
		hint := "ask the operator to name it in " + egress.AllowSetting
		if strings.Contains(den.Why, egress.DenySetting) {
			hint = "ask the operator (" + egress.DenySetting + ")"
		}
		what := "api_base"
		if name != "api_base" {
			what = name + " (an endpoint, checked like api_base)"
		}
		return &Error{Status: 403, Param: "litellm_params." + name, Message: "litellm_params." + what + " host " + den.Host +
			" is not allowed for team deployments (" + den.Why + "); " + hint + ", or use a public endpoint"}
	}
	return nil
}
