// Package azure is the provider for `azure/<deployment>` deployments:
// Azure OpenAI, addressed by resource URL (api_base), deployment name and
// api_version, authenticated with an api-key header.
//
// URLs, for api_base https://R.openai.azure.com and deployment D:
//
//   - chat/completions, completions, embeddings, images/generations,
//     audio/speech, audio/transcriptions: the deployment's path,
//     {api_base}/openai/deployments/D/{endpoint}?api-version={api_version}
//     (api_version defaults to the registry's, 2024-10-21).
//   - responses: the Responses API has no deployment path; the deployment
//     is the body's "model" (the gateway already wrote it there). With an
//     api_version of 2025-03-01-preview or later (the first to have it)
//     it is {api_base}/openai/responses?api-version={api_version}, as
//     LiteLLM sends it; with the default or an older dated version it is
//     Azure's v1 API, {api_base}/openai/v1/responses, which needs no
//     api-version (an older one would answer 404).
//   - a stored response (GET, DELETE): the same path + "/" + its id.
//
// An api_version of "v1", "preview" or "latest" selects Azure's v1 API for
// every endpoint: {api_base}/openai/v1/{endpoint}, with
// ?api-version=preview (or latest) when given, as LiteLLM sends them.
//
// Azure OpenAI has no moderations endpoint.
//
// The key is the deployment's api_key. A deployment without one that is
// the operator's own (configs.Deployment.OperatorCredentials) uses
// AZURE_OPENAI_API_KEY, else AZURE_API_KEY, from the gateway's
// environment, in LiteLLM's order; a team's deployment never reads the
// environment.
package azure

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
var spec, _ = registry.Lookup("azure")

// EnvKeys are the environment variables an operator's deployment without
// an api_key reads, the first set one winning (LiteLLM's names and
// order).
var EnvKeys = []string{"AZURE_OPENAI_API_KEY", "AZURE_API_KEY"}

// responsesSince is the first api_version with the Responses API.
const responsesSince = "2025-03-01"

// getenv reads the environment (a variable for tests).
var getenv = os.Getenv

// New returns the azure provider over the shared client. It serves chat
// (providers.Provider) and every other endpoint of its registry entry
// (providers.Forwarder).
func New(client *providers.Client) providers.Provider {
	return &providers.HTTP{Client: client, Prepare: prepare, Key: key}
}

// key is the deployment's api_key, else the environment's for the
// operator's own deployments.
func key(d *configs.Deployment) string {
	if d.APIKey != "" || !d.OperatorCredentials() {
		return d.APIKey
	}
	for _, name := range EnvKeys {
		if v := getenv(name); v != "" {
			return v
		}
	}
	return ""
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
	ep := call.EndpointOrChat()
	if !spec.Serves(ep) {
		return wire.Errorf(400, wire.TypeInvalidRequest,
			"model %q (an Azure OpenAI deployment) does not serve /v1/%s: Azure OpenAI has no such endpoint",
			d.PublicName(), ep)
	}
	if call.ObjectID != "" && ep != registry.EndpointResponses {
		return wire.Errorf(400, wire.TypeInvalidRequest, "%s has no stored objects to fetch or delete", ep)
	}
	req.SetRequestURI(URL(base, d.UpstreamModel, version, ep, call.ObjectID))
	if k := key(d); k != "" {
		req.Header.Set("api-key", k)
	}
	return nil
}

// URL is the Azure OpenAI URL of endpoint ep (and stored object id, ""
// for none) for a deployment at base (no trailing slash) with api_version
// version (see the package documentation).
func URL(base, deployment, version string, ep registry.Endpoint, id string) string {
	var b strings.Builder
	b.Grow(len(base) + len(deployment) + len(ep) + len(id) + 64)
	b.WriteString(base)
	query := version
	switch {
	case version == "v1" || version == "preview" || version == "latest":
		b.WriteString("/openai/v1/")
		b.WriteString(string(ep))
		if version == "v1" {
			query = ""
		}
	case ep == registry.EndpointResponses && datedFrom(version, responsesSince):
		b.WriteString("/openai/responses")
	case ep == registry.EndpointResponses:
		b.WriteString("/openai/v1/responses")
		query = ""
	default:
		b.WriteString("/openai/deployments/")
		b.WriteString(url.PathEscape(deployment))
		b.WriteByte('/')
		b.WriteString(string(ep))
	}
	if id != "" {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(id))
	}
	if query != "" {
		b.WriteString("?api-version=")
		b.WriteString(url.QueryEscape(query))
	}
	return b.String()
}

// datedFrom reports whether version is a dated api_version
// (YYYY-MM-DD[-preview]) on or after since (YYYY-MM-DD).
func datedFrom(version, since string) bool {
	if len(version) < 10 {
		return false
	}
	for i := range 10 {
		c := version[i]
		if (i == 4 || i == 7) != (c == '-') || (c != '-' && (c < '0' || c > '9')) {
			return false
		}
	}
	return version[:10] >= since
}
