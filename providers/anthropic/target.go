package anthropic

import (
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/providers/registry"
	"github.com/llmgateway/gateway/wire"
)

// Target is a host of Anthropic's models other than Anthropic's API
// (Claude on Vertex AI): where a Messages call goes, how it is
// authenticated and how its body differs from Anthropic's.
type Target struct {
	// URL is the Messages URL of a call to d (stream: a streamed call).
	URL func(d *configs.Deployment, stream bool) (string, error)
	// Auth sets req's auth headers for a call to d and returns the secret
	// it sent (an access token), which is scrubbed from errors.
	Auth func(d *configs.Deployment, req *fasthttp.Request) (secret string, err error)
	// Body adapts the translated Messages body (Anthropic's shape, with
	// "model") to the host; nil sends it as is.
	Body func(d *configs.Deployment, body []byte) ([]byte, error)
}

// NewWith returns a chat provider that translates as New's does but
// sends its Messages calls to t (no x-api-key or anthropic-version
// header: t's auth instead; client anthropic-beta headers still pass).
func NewWith(client *providers.Client, t Target) providers.Provider {
	p := &targetProvider{t: t}
	p.unary = providers.NewHTTP(client, func(c *providers.Call, r *fasthttp.Request) error { return p.prepare(c, r, false) })
	p.stream = providers.NewHTTP(client, func(c *providers.Call, r *fasthttp.Request) error { return p.prepare(c, r, true) })
	return p
}

type targetProvider struct {
	unary, stream *providers.HTTP
	t             Target
}

// prepare sets the URL and auth. It runs on the call and deployment
// copies Complete and OpenStream make, and records the secret as the
// copy's APIKey so that HTTP scrubs it from errors.
func (p *targetProvider) prepare(call *providers.Call, req *fasthttp.Request, stream bool) error {
	d := call.Deployment
	u, err := p.t.URL(d, stream)
	if err != nil {
		return err
	}
	req.SetRequestURI(u)
	secret, err := p.t.Auth(d, req)
	if err != nil {
		return err
	}
	d.APIKey = secret
	return nil
}

// upstream is the call to send: copies of call and its deployment (so
// prepare may record the secret), with the translated body.
func (p *targetProvider) upstream(call *providers.Call, stream bool) (*providers.Call, reqInfo, error) {
	if call.Deployment == nil {
		return nil, reqInfo{}, wire.Errorf(500, wire.TypeInternal, "upstream call without a deployment")
	}
	body, info, werr := translateRequest(call.Body, stream)
	if werr != nil {
		return nil, info, werr
	}
	dd := *call.Deployment
	if p.t.Body != nil {
		b, err := p.t.Body(&dd, body)
		if err != nil {
			return nil, info, err
		}
		body = b
	}
	up := *call
	up.Deployment = &dd
	up.Body, up.Endpoint = body, registry.EndpointMessages
	return &up, info, nil
}

// Complete translates an OpenAI chat request to a Messages call to the
// target and its answer back to a chat.completion.
func (p *targetProvider) Complete(call *providers.Call) (*providers.Response, error) {
	up, info, err := p.upstream(call, false)
	if err != nil {
		return nil, err
	}
	resp, err := p.unary.Complete(up)
	if err != nil {
		return nil, chatError(err)
	}
	out, why := translateResponse(resp.Body, info, time.Now().Unix())
	if why != "" {
		return nil, &wire.Error{Status: 502, Type: wire.TypeUpstream,
			Message:  "the upstream of model " + strconv.Quote(call.Deployment.PublicName()) + " answered 200 with " + why,
			Internal: "anthropic: the Messages answer could not be translated"}
	}
	return &providers.Response{Status: 200, ContentType: "application/json", Body: out}, nil
}

// OpenStream translates an OpenAI chat request to a streamed Messages
// call to the target; its events come back as chat.completion.chunk
// payloads.
func (p *targetProvider) OpenStream(call *providers.Call) (providers.Stream, error) {
	up, info, err := p.upstream(call, true)
	if err != nil {
		return nil, err
	}
	st, err := p.stream.OpenStream(up)
	if err != nil {
		return nil, chatError(err)
	}
	return newChatStream(st, info, call.Deployment.PublicName()), nil
}
