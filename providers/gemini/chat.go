package gemini

import (
	"errors"
	"regexp"
	"strconv"
	"time"

	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/providers/registry"
	"github.com/llmgateway/gateway/wire"
)

// Complete translates an OpenAI chat request to a generateContent call
// and its answer back to a chat.completion.
func (p *Provider) Complete(call *providers.Call) (*providers.Response, error) {
	if call.Deployment == nil {
		return nil, wire.Errorf(500, wire.TypeInternal, "upstream call without a deployment")
	}
	body, info, werr := translateRequest(call.Body, call.Deployment.UpstreamModel, false)
	if werr != nil {
		return nil, werr
	}
	resp, err := p.http.Complete(up(call, MethodGenerate, body))
	if err != nil {
		return nil, upstreamError(err)
	}
	out, why := translateResponse(resp.Body, info, time.Now().Unix())
	if why != "" {
		return nil, &wire.Error{Status: 502, Type: wire.TypeUpstream,
			Message:  "the upstream of model " + strconv.Quote(call.Deployment.PublicName()) + " answered 200 with " + why,
			Internal: "gemini: the generateContent answer could not be translated"}
	}
	return &providers.Response{Status: 200, ContentType: "application/json", Body: out}, nil
}

// OpenStream translates an OpenAI chat request to a
// streamGenerateContent?alt=sse call; its events come back as
// chat.completion.chunk payloads.
func (p *Provider) OpenStream(call *providers.Call) (providers.Stream, error) {
	if call.Deployment == nil {
		return nil, wire.Errorf(500, wire.TypeInternal, "upstream call without a deployment")
	}
	body, info, werr := translateRequest(call.Body, call.Deployment.UpstreamModel, true)
	if werr != nil {
		return nil, werr
	}
	st, err := p.http.OpenStream(up(call, MethodStream, body))
	if err != nil {
		return nil, upstreamError(err)
	}
	return newChatStream(st, info, call.Deployment.PublicName()), nil
}

// Forward serves /v1/embeddings with batchEmbedContents.
func (p *Provider) Forward(call *providers.Call) (*providers.Response, error) {
	d := call.Deployment
	if d == nil {
		return nil, wire.Errorf(500, wire.TypeInternal, "upstream call without a deployment")
	}
	if ep := call.EndpointOrChat(); ep != registry.EndpointEmbeddings {
		return nil, wire.Errorf(404, wire.TypeNotFound, "model %q (a Gemini deployment) does not serve /v1/%s", d.PublicName(), ep)
	}
	body, info, werr := translateEmbedRequest(call.Body, d.UpstreamModel)
	if werr != nil {
		return nil, werr
	}
	resp, err := p.http.Complete(up(call, MethodEmbed, body))
	if err != nil {
		return nil, upstreamError(err)
	}
	out, why := translateEmbedResponse(resp.Body, info)
	if why != "" {
		return nil, &wire.Error{Status: 502, Type: wire.TypeUpstream,
			Message:  "the upstream of model " + strconv.Quote(d.PublicName()) + " answered 200 with " + why,
			Internal: "gemini: the batchEmbedContents answer could not be translated"}
	}
	return &providers.Response{Status: 200, ContentType: "application/json", Body: out}, nil
}

// ForwardStream: no endpoint the provider forwards streams.
func (p *Provider) ForwardStream(call *providers.Call) (providers.Stream, error) {
	name, ep := "", call.EndpointOrChat()
	if call.Deployment != nil {
		name = call.Deployment.PublicName()
	}
	return nil, wire.Errorf(400, wire.TypeInvalidRequest, "model %q (a Gemini deployment) does not stream /v1/%s", name, ep)
}

// retryIn finds the delay Google's quota errors state in their message
// ("Please retry in 21.59s."), which carries the google.rpc.RetryInfo of
// the error's details.
var retryIn = regexp.MustCompile(`(?i)retry in ([0-9]+(?:\.[0-9]+)?)\s*(ms|s)\b`)

// upstreamError completes an upstream error: a 429 without retry-after
// gets the delay Google's message states (rounded up to whole seconds).
func upstreamError(err error) error {
	we, ok := errors.AsType[*wire.Error](err)
	if !ok || we.Status != 429 || we.RetryAfter > 0 {
		return err
	}
	m := retryIn.FindStringSubmatch(we.Message)
	if m == nil {
		return err
	}
	f, perr := strconv.ParseFloat(m[1], 64)
	if perr != nil || f <= 0 {
		return err
	}
	if m[2] == "ms" || m[2] == "MS" || m[2] == "Ms" {
		f /= 1000
	}
	secs := int(f)
	if float64(secs) < f {
		secs++
	}
	e := *we
	e.RetryAfter = min(secs, 3600)
	return &e
}
