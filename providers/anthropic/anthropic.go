package anthropic

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/providers/registry"
	"github.com/llmgateway/gateway/wire"
)

// spec is the provider's registry entry.
var spec, _ = registry.Lookup("anthropic")

// EnvAPIKey is the environment variable read for an operator deployment
// without an api_key.
const EnvAPIKey = "ANTHROPIC_API_KEY"

// Provider is the anthropic provider: a providers.Provider (chat,
// translated) and a providers.Forwarder (messages and
// messages/count_tokens, native).
type Provider struct {
	http *providers.HTTP
}

var (
	_ providers.Provider  = (*Provider)(nil)
	_ providers.Forwarder = (*Provider)(nil)
)

// New returns the anthropic provider over the shared client.
func New(client *providers.Client) providers.Provider {
	return &Provider{http: providers.NewHTTP(client, prepare)}
}

// prepare points req at {api_base}/v1/messages (chat and messages) or
// /v1/messages/count_tokens, with the x-api-key and anthropic-version
// headers.
func prepare(call *providers.Call, req *fasthttp.Request) error {
	d := call.Deployment
	base := strings.TrimRight(d.LiteLLMParams.APIBase, "/")
	if base == "" {
		base = spec.DefaultAPIBase
	}
	base = strings.TrimSuffix(strings.TrimSuffix(base, "/v1/messages"), "/v1")
	switch ep := call.EndpointOrChat(); ep {
	case registry.EndpointChat, registry.EndpointMessages:
		req.SetRequestURI(base + "/v1/messages")
	case registry.EndpointCountTokens:
		req.SetRequestURI(base + "/v1/messages/count_tokens")
	default:
		return wire.Errorf(404, wire.TypeNotFound, "model %q (an Anthropic deployment) does not serve /v1/%s", d.PublicName(), ep)
	}
	req.Header.Set("x-api-key", d.APIKey)
	version := d.LiteLLMParams.APIVersion
	if version == "" {
		version = spec.DefaultAPIVersion
	}
	req.Header.Set("anthropic-version", version)
	return nil
}

// withKey returns the call to send: call itself when its deployment has
// an api key; for the operator's deployments without one, a copy whose
// deployment carries ANTHROPIC_API_KEY (so that errors scrub it too).
func withKey(call *providers.Call) (*providers.Call, error) {
	d := call.Deployment
	if d == nil {
		return nil, wire.Errorf(500, wire.TypeInternal, "upstream call without a deployment")
	}
	if d.APIKey != "" {
		return call, nil
	}
	if !d.OperatorCredentials() {
		return nil, wire.Errorf(401, wire.TypeAuth,
			"deployment %q has no api key; set litellm_params.api_key to an Anthropic API key", d.PublicName())
	}
	key := os.Getenv(EnvAPIKey)
	if key == "" {
		return nil, wire.Errorf(401, wire.TypeAuth,
			"deployment %q has no api key; set litellm_params.api_key (or %s in the gateway's environment)", d.PublicName(), EnvAPIKey)
	}
	dd := *d
	dd.APIKey = key
	c := *call
	c.Deployment = &dd
	return &c, nil
}

// Complete translates an OpenAI chat request to a Messages call and its
// answer back to a chat.completion.
func (p *Provider) Complete(call *providers.Call) (*providers.Response, error) {
	c, err := withKey(call)
	if err != nil {
		return nil, err
	}
	body, info, werr := translateRequest(c.Body, false)
	if werr != nil {
		return nil, werr
	}
	up := *c
	up.Body, up.Endpoint = body, registry.EndpointMessages
	resp, err := p.http.Complete(&up)
	if err != nil {
		return nil, chatError(err)
	}
	out, why := translateResponse(resp.Body, info, time.Now().Unix())
	if why != "" {
		return nil, &wire.Error{Status: 502, Type: wire.TypeUpstream,
			Message:  "the upstream of model " + strconv.Quote(c.Deployment.PublicName()) + " answered 200 with " + why,
			Internal: "anthropic: the Messages answer could not be translated"}
	}
	return &providers.Response{Status: 200, ContentType: "application/json", Body: out}, nil
}

// OpenStream translates an OpenAI chat request to a streamed Messages
// call; its events come back as chat.completion.chunk payloads.
func (p *Provider) OpenStream(call *providers.Call) (providers.Stream, error) {
	c, err := withKey(call)
	if err != nil {
		return nil, err
	}
	body, info, werr := translateRequest(c.Body, true)
	if werr != nil {
		return nil, werr
	}
	up := *c
	up.Body, up.Endpoint = body, registry.EndpointMessages
	st, err := p.http.OpenStream(&up)
	if err != nil {
		return nil, chatError(err)
	}
	return newChatStream(st, info, c.Deployment.PublicName()), nil
}

// Forward sends a messages or messages/count_tokens call as is.
func (p *Provider) Forward(call *providers.Call) (*providers.Response, error) {
	c, err := forwardable(call)
	if err != nil {
		return nil, err
	}
	return p.http.Forward(c)
}

// ForwardStream sends a streamed messages call as is; the events are
// Anthropic's own (each data's "type" is the event name).
func (p *Provider) ForwardStream(call *providers.Call) (providers.Stream, error) {
	c, err := forwardable(call)
	if err != nil {
		return nil, err
	}
	return p.http.ForwardStream(c)
}

func forwardable(call *providers.Call) (*providers.Call, error) {
	switch ep := call.EndpointOrChat(); ep {
	case registry.EndpointMessages, registry.EndpointCountTokens:
	default:
		name := ""
		if call.Deployment != nil {
			name = call.Deployment.PublicName()
		}
		return nil, wire.Errorf(404, wire.TypeNotFound, "model %q (an Anthropic deployment) does not serve /v1/%s", name, ep)
	}
	return withKey(call)
}

// chatError gives an upstream error OpenAI's error types for a chat
// client: Anthropic's status is kept (529 overloaded stays 529: OpenAI's
// SDKs retry every 5xx, and the router counts it as an upstream
// failure), its type becomes the OpenAI type for that status, and an
// Anthropic type OpenAI has no name for (overloaded_error, api_error,
// request_too_large, billing_error) starts the message.
func chatError(err error) error {
	we, ok := errors.AsType[*wire.Error](err)
	if !ok || statusOf(we.Type) == 502 { // not an error type of Anthropic's
		return err
	}
	typ := openAIType(we.Status)
	if we.Type == typ {
		return err
	}
	e := *we
	e.Type = typ
	if !strings.HasPrefix(e.Message, we.Type) {
		e.Message = we.Type + ": " + e.Message
	}
	return &e
}
