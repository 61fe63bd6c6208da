// Package openai is the provider for `openai/<model>` deployments: OpenAI
// itself or any OpenAI-compatible server (vLLM, Ollama, ...) via api_base.
package openai

import (
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/providers/registry"
)

// spec is the provider's registry entry.
var spec, _ = registry.Lookup("openai")

// New returns the openai provider over the shared client.
func New(client *providers.Client) providers.Provider {
	return providers.NewHTTP(client, prepare)
}

func prepare(call *providers.Call, req *fasthttp.Request) error {
	d := call.Deployment
	base := strings.TrimRight(d.LiteLLMParams.APIBase, "/")
	if base == "" {
		base = spec.DefaultAPIBase
	}
	req.SetRequestURI(base + "/chat/completions")
	if d.APIKey != "" {
		req.Header.Set(fasthttp.HeaderAuthorization, "Bearer "+d.APIKey)
	}
	if org := d.LiteLLMParams.Organization; org != "" {
		req.Header.Set("OpenAI-Organization", org)
	}
	return nil
}
