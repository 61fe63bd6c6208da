// Package openai is the provider for `openai/<model>` deployments: OpenAI
// itself or any OpenAI-compatible server (vLLM, Ollama, ...) via api_base.
//
// Every endpoint of the registry entry is api_base + "/" + the endpoint
// (https://api.openai.com/v1/embeddings, ...); a stored response is
// api_base + "/responses/" + its id (GET and DELETE).
//
// The key is the deployment's api_key. A deployment of OpenAI itself (no
// api_base, or the default one) without a key that is the operator's own
// (configs.Deployment.OperatorCredentials) uses OPENAI_API_KEY from the
// gateway's environment, as LiteLLM does. A team's deployment never reads
// the environment, and neither does one with another api_base (vLLM,
// another vendor): unlike LiteLLM, the gateway does not send OpenAI's key
// to another server; such a deployment names its key
// (api_key: os.environ/VAR).
package openai

import (
	"net/url"
	"os"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/providers/registry"
	"github.com/llmgateway/gateway/wire"
)

// spec is the provider's registry entry.
var spec, _ = registry.Lookup("openai")

// EnvKey is the environment variable an operator's deployment without an
// api_key reads (LiteLLM's name).
const EnvKey = "OPENAI_API_KEY"

// getenv reads the environment (a variable for tests).
var getenv = os.Getenv

// New returns the openai provider over the shared client. It serves chat
// (providers.Provider) and every other endpoint of its registry entry
// (providers.Forwarder).
func New(client *providers.Client) providers.Provider {
	return NewFor(client, spec)
}

// NewFor returns the provider of an OpenAI-compatible host declared in
// the registry (Family "openai": groq, mistral, ollama, ...): OpenAI's
// wire with the entry's default api_base, key variable and endpoints.
func NewFor(client *providers.Client, s registry.Spec) providers.Provider {
	h := host{spec: s}
	return &providers.HTTP{Client: client, Prepare: h.prepare, Key: h.key}
}

// host is one OpenAI-compatible provider.
type host struct{ spec registry.Spec }

// key is the deployment's api_key, else the entry's key variable for the
// operator's own deployments of the host itself (its default api_base):
// a key is never sent to another server than the one it is for.
func (h host) key(d *configs.Deployment) string {
	if d.APIKey != "" || !d.OperatorCredentials() || h.spec.EnvKey == "" {
		return d.APIKey
	}
	if base := strings.TrimRight(d.LiteLLMParams.APIBase, "/"); base != "" && base != h.spec.DefaultAPIBase {
		return ""
	}
	return getenv(h.spec.EnvKey)
}

func (h host) prepare(call *providers.Call, req *fasthttp.Request) error {
	d := call.Deployment
	spec := h.spec
	base := strings.TrimRight(d.LiteLLMParams.APIBase, "/")
	if base == "" {
		base = spec.DefaultAPIBase
	}
	if base == "" {
		return wire.Errorf(500, wire.TypeInternal,
			"deployment %q (%s) has no litellm_params.api_base; set it to the server's OpenAI-compatible base URL", d.PublicName(), spec.Name)
	}
	ep := call.EndpointOrChat()
	switch {
	case call.ObjectID != "":
		if ep != registry.EndpointResponses {
			return wire.Errorf(400, wire.TypeInvalidRequest, "%s has no stored objects to fetch or delete", ep)
		}
		req.SetRequestURI(base + "/responses/" + url.PathEscape(call.ObjectID))
	case spec.Serves(ep):
		req.SetRequestURI(base + "/" + string(ep))
	default:
		return wire.Errorf(400, wire.TypeInvalidRequest, "model %q (a %s deployment) does not serve /v1/%s",
			d.PublicName(), spec.Name, ep)
	}
	if k := h.key(d); k != "" {
		req.Header.Set(fasthttp.HeaderAuthorization, "Bearer "+k)
	}
	if org := d.LiteLLMParams.Organization; org != "" {
		req.Header.Set("OpenAI-Organization", org)
	}
	return nil
}
