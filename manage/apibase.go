package manage

import (
	"strings"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/egress"
)

// checkAPIBase is the API-time api_base check (see package egress): a team
// deployment whose api_base was sent must pass the egress policy as
// written, whoever the caller (the dial would refuse it anyway); the
// master's global deployments are not restricted. DNS is not consulted
// here: the gateway's dialer checks the resolved addresses on every new
// connection.
func checkAPIBase(d *configs.Deployment, sent map[string]bool, pol ModelPolicy) *Error {
	base := d.LiteLLMParams.APIBase
	if !sent["api_base"] || base == "" || d.ModelInfo.TeamID == "" || strings.HasPrefix(base, configs.EnvPrefix) {
		return nil
	}
	p := pol.APIBase
	if p == nil {
		p = egress.New(nil, nil, egress.HostAddrs())
	}
	den := p.CheckURL(base)
	if den == nil {
		return nil
	}
	hint := "ask the operator to name it in " + egress.AllowSetting
	if strings.Contains(den.Why, egress.DenySetting) {
		hint = "ask the operator (" + egress.DenySetting + ")"
	}
	return &Error{Status: 403, Param: "litellm_params.api_base", Message: "litellm_params.api_base host " + den.Host +
		" is not allowed for team deployments (" + den.Why + "); " + hint + ", or use a public endpoint"}
}
