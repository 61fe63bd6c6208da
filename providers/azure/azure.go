// Package azure is the provider for `azure/<deployment>` deployments:
// Azure OpenAI, addressed by resource URL (api_base), deployment name and
// api_version, authenticated with an api-key header.
package azure

import (
	"net/url"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/providers/registry"
	"github.com/llmgateway/gateway/wire"
)

// spec is the provider's registry entry.
var spec, _ = registry.Lookup("azure")

// New returns the azure provider over the shared client.
func New(client *providers.Client) providers.Provider {
	return providers.NewHTTP(client, prepare)
}

func prepare(call *providers.Call, req *fasthttp.Request) error {
	d := call.Deployment
	base := strings.TrimRight(d.LiteLLMParams.APIBase, "/")
	if base == "" {
		return wire.Errorf(500, wire.TypeInternal,
			"deployment %q has no litellm_params.api_base; set it to https://<resource>.openai.azure.com",
			d.PublicName())
	}
	version := d.LiteLLMParams.APIVersion
	if version == "" {
		version = spec.DefaultAPIVersion
	}
	req.SetRequestURI(base + "/openai/deployments/" + url.PathEscape(d.UpstreamModel) +
		"/chat/completions?api-version=" + url.QueryEscape(version))
	if d.APIKey != "" {
		req.Header.Set("api-key", d.APIKey)
	}
	return nil
}
