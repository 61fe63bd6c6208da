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
// Authentication (ResolveAuth, auth.go), first match winning: the
// deployment's api_key (api-key header); its azure_ad_token
// (Authorization: Bearer); tenant_id + client_id + client_secret
// (Microsoft Entra ID client credentials at azure_authority_host, default
// https://login.microsoftonline.com, the token cached and renewed before
// it expires: entra.go). Only the operator's own deployments
// (configs.Deployment.MayUseHostIdentity) may then fall back to the
// gateway's environment: AZURE_OPENAI_API_KEY, else AZURE_API_KEY (in
// LiteLLM's order), else the service principal of AZURE_TENANT_ID +
// AZURE_CLIENT_ID + AZURE_CLIENT_SECRET, else the host's managed identity
// (AZURE_CLIENT_ID selecting a user-assigned one). A team's deployment
// without credentials of its own is refused with a 401 naming the params
// to set; its token requests go through the same api_base policy as its
// calls.
//
// The package also serves `azure_ai/<model>` (NewAI, ai.go): Azure AI
// Foundry's model inference and serverless endpoints.
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
	a := &authenticator{tokens: NewTokens(client), envKeys: EnvKeys, provider: "Azure OpenAI"}
	return &providers.HTTP{Client: client, Prepare: a.prepare(prepareAzure), Key: a.key}
}

// authenticator adds a provider's auth headers to its requests.
type authenticator struct {
	tokens   *Tokens
	envKeys  []string
	provider string
	// bearerKey reports whether an api key goes in Authorization: Bearer
	// rather than api-key (azure_ai's serverless endpoints); nil: never.
	bearerKey func(req *fasthttp.Request) bool
}

// key is what a call to d sends as its credential (the api key or the
// token), for scrubbing upstream errors; it never asks for a token.
func (a *authenticator) key(d *configs.Deployment) string {
	au, err := ResolveAuth(d, a.envKeys, a.provider)
	if err != nil {
		return ""
	}
	switch au.Method {
	case MethodAPIKey, MethodStaticToken:
		return au.Key
	}
	return a.tokens.Current(d, &au)
}

// prepare is setURL (which sets the request's URI) followed by the auth
// header: api-key, or Authorization: Bearer with a static or Entra ID
// token.
func (a *authenticator) prepare(setURL providers.Prepare) providers.Prepare {
	return func(call *providers.Call, req *fasthttp.Request) error {
		if err := setURL(call, req); err != nil {
			return err
		}
		d := call.Deployment
		au, err := ResolveAuth(d, a.envKeys, a.provider)
		if err != nil {
			return err
		}
		switch au.Method {
		case MethodAPIKey:
			if a.bearerKey != nil && a.bearerKey(req) {
				req.Header.Set(fasthttp.HeaderAuthorization, "Bearer "+au.Key)
			} else {
				req.Header.Set("api-key", au.Key)
			}
		case MethodStaticToken:
			req.Header.Set(fasthttp.HeaderAuthorization, "Bearer "+au.Key)
		default:
			tok, err := a.tokens.Token(d, &au, call.Deadline)
			if err != nil {
				return err
			}
			req.Header.Set(fasthttp.HeaderAuthorization, "Bearer "+tok)
		}
		return nil
	}
}

// prepareAzure sets the Azure OpenAI URL of the call.
func prepareAzure(call *providers.Call, req *fasthttp.Request) error {
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
