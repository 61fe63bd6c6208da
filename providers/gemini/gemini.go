// Package gemini is the provider of Google's Gemini API: gemini/<model>
// (Google AI Studio, an API key) with New, and any other host of the same
// API (Vertex AI's publishers/google models) with NewWith and a Target
// saying where the API is and how a call authenticates.
//
// Chat (Complete, OpenStream) is translated from OpenAI's chat shape to
// generateContent / streamGenerateContent and back; /v1/embeddings
// (Forward) to batchEmbedContents and back.
package gemini

import (
	"errors"
	"net/url"
	"os"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/providers/registry"
	"github.com/llmgateway/gateway/wire"
)

// EnvAPIKey is the environment variable an operator's gemini deployment
// without an api_key reads (LiteLLM's name).
const EnvAPIKey = "GEMINI_API_KEY"

// DefaultAPIBase is Google AI Studio's Gemini API.
const DefaultAPIBase = "https://generativelanguage.googleapis.com"

// Methods of the Gemini API a Target's URL is asked for.
const (
	MethodGenerate = "generateContent"
	MethodStream   = "streamGenerateContent?alt=sse"
	MethodEmbed    = "batchEmbedContents"
	MethodCount    = "countTokens"
)

// Target is where a Gemini API is and how a call to it authenticates.
type Target struct {
	// URL is the URL of method ("generateContent",
	// "streamGenerateContent?alt=sse", "batchEmbedContents",
	// "countTokens") of d's model.
	URL func(d *configs.Deployment, method string) (string, error)
	// Auth sets the auth header(s) of req for d and returns the secret it
	// sent (scrubbed from errors).
	Auth func(d *configs.Deployment, req *fasthttp.Request) (secret string, err error)
}

// Provider speaks the Gemini API at a Target: a providers.Provider (chat,
// translated) and a providers.Forwarder (embeddings, translated).
type Provider struct {
	t    Target
	http *providers.HTTP
}

var (
	_ providers.Provider  = (*Provider)(nil)
	_ providers.Forwarder = (*Provider)(nil)
)

// NewWith returns a provider speaking the Gemini API at t: chat
// (Complete/OpenStream) and the endpoints it forwards.
func NewWith(client *providers.Client, t Target) providers.Provider {
	p := &Provider{t: t}
	p.http = providers.NewHTTP(client, p.prepare)
	return p
}

// New is NewWith for Google AI Studio:
// https://generativelanguage.googleapis.com/v1beta/models/{model}:{method},
// x-goog-api-key.
func New(client *providers.Client) providers.Provider {
	return NewWith(client, Target{URL: StudioURL, Auth: StudioAuth})
}

// StudioURL is Google AI Studio's URL of method for d's model:
// {api_base}/v1beta/models/{model}:{method}, api_base defaulting to
// https://generativelanguage.googleapis.com (an api_base ending in /v1beta
// or /v1 keeps its version).
func StudioURL(d *configs.Deployment, method string) (string, error) {
	base := strings.TrimRight(d.LiteLLMParams.APIBase, "/")
	if base == "" {
		base = DefaultAPIBase
	}
	if !strings.HasSuffix(base, "/v1beta") && !strings.HasSuffix(base, "/v1") && !strings.HasSuffix(base, "/v1alpha") {
		base += "/v1beta"
	}
	model := strings.TrimPrefix(d.UpstreamModel, "models/")
	if model == "" {
		return "", wire.Errorf(400, wire.TypeInvalidRequest, "deployment %q names no model; set litellm_params.model to gemini/<model>", d.PublicName())
	}
	return base + "/models/" + url.PathEscape(model) + ":" + method, nil
}

// StudioAuth sends x-goog-api-key: d's api_key, or, for the operator's
// deployments only, GEMINI_API_KEY from the gateway's environment.
func StudioAuth(d *configs.Deployment, req *fasthttp.Request) (string, error) {
	key := d.APIKey
	if key == "" {
		if !d.MayUseHostIdentity() {
			return "", wire.Errorf(401, wire.TypeAuth,
				"deployment %q has no api key; set litellm_params.api_key to a Gemini API key (Google AI Studio)", d.PublicName())
		}
		if key = os.Getenv(EnvAPIKey); key == "" {
			return "", wire.Errorf(401, wire.TypeAuth,
				"deployment %q has no api key; set litellm_params.api_key (or %s in the gateway's environment) to a Gemini API key", d.PublicName(), EnvAPIKey)
		}
	}
	req.Header.Set("x-goog-api-key", key)
	return key, nil
}

// methodOf maps the endpoint of an upstream call this package built to
// the Gemini method it calls (see up).
func methodOf(ep registry.Endpoint) string {
	m, _ := strings.CutPrefix(string(ep), methodPrefix)
	return m
}

// methodPrefix marks a Call.Endpoint this package set to a Gemini method.
const methodPrefix = "gemini:"

// prepare points req at the method the call's endpoint names, with the
// target's auth; the secret it sent goes into the call's own copy of the
// deployment, so that providers.HTTP scrubs it from errors.
func (p *Provider) prepare(call *providers.Call, req *fasthttp.Request) error {
	d := call.Deployment
	method := methodOf(call.EndpointOrChat())
	if method == "" {
		return wire.Errorf(404, wire.TypeNotFound, "model %q (a Gemini deployment) does not serve /v1/%s", d.PublicName(), call.EndpointOrChat())
	}
	u, err := p.t.URL(d, method)
	if err != nil {
		return err
	}
	req.SetRequestURI(u)
	secret, err := p.t.Auth(d, req)
	if err != nil {
		var we *wire.Error
		if errors.As(err, &we) {
			return we
		}
		return wire.Errorf(500, wire.TypeInternal, "deployment %q could not authenticate: %s",
			d.PublicName(), providers.Scrub(secret, err.Error()))
	}
	d.APIKey = secret // the call's own copy (up)
	return nil
}

// up is the upstream call for call: a copy calling method, whose
// deployment is a copy prepare may write the secret into.
func up(call *providers.Call, method string, body []byte) *providers.Call {
	c := *call
	if call.Deployment != nil {
		dd := *call.Deployment
		c.Deployment = &dd
	}
	c.Endpoint = registry.Endpoint(methodPrefix + method)
	c.Body = body
	return &c
}
