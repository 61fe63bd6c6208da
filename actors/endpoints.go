package actors

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/tidwall/sjson"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/pricing"
	"github.com/llmgateway/gateway/providers"
	provreg "github.com/llmgateway/gateway/providers/registry"
	"github.com/llmgateway/gateway/wire"
)

// bridged reports whether the gateway serves ep for any chat provider
// when the provider does not serve it natively: Anthropic's messages API
// and OpenAI's Responses API are translated to chat, and count_tokens is
// estimated with a tokenizer.
func bridged(ep provreg.Endpoint) bool {
	return ep == provreg.EndpointMessages || ep == provreg.EndpointCountTokens || ep == provreg.EndpointResponses
}

// serves reports whether d can answer ep, natively or bridged.
func serves(d *configs.Deployment, ep provreg.Endpoint) bool {
	if bridged(ep) {
		return true
	}
	return specOf(d).Serves(ep)
}

// serving returns the deployments of group that can answer ep (group
// itself when all can).
func serving(group []*configs.Deployment, ep provreg.Endpoint) []*configs.Deployment {
	for i, d := range group {
		if !serves(d, ep) {
			out := append([]*configs.Deployment(nil), group[:i]...)
			for _, d := range group[i+1:] {
				if serves(d, ep) {
					out = append(out, d)
				}
			}
			return out
		}
	}
	return group
}

// unsupported is the 400 for a model none of whose deployments (group)
// serves ep.
func unsupported(model string, ep provreg.Endpoint, group []*configs.Deployment) *wire.Error {
	var eps []string
	for _, d := range group {
		for _, e := range specOf(d).Endpoints {
			if !slices.Contains(eps, "/v1/"+string(e)) {
				eps = append(eps, "/v1/"+string(e))
			}
		}
	}
	return &wire.Error{Status: 400, Type: wire.TypeInvalidRequest, Param: "model",
		Message: "model " + strconv.Quote(model) + " does not support /v1/" + string(ep) +
			"; it serves " + strings.Join(eps, ", ") +
			". Call a model whose provider serves it (see the README's provider table)"}
}

// specOf is d's provider's registry entry.
func specOf(d *configs.Deployment) provreg.Spec {
	s, _ := provreg.Lookup(d.Provider)
	return s
}

// byID finds the team's deployment (its own or a global one it may use)
// with model_info.id id.
func (t *teamActor) byID(id string) *configs.Deployment {
	for _, list := range [][]*configs.Deployment{t.cfg.own, t.cfg.global} {
		for _, d := range list {
			if d.ModelInfo.ID == id {
				return d
			}
		}
	}
	return nil
}

// runEndpoint runs an admitted call to an endpoint other than chat: to
// the provider's Forwarder when it serves the endpoint natively, else
// through the gateway's bridge for it.
func (j *job) runEndpoint(ctx actor.Context, failed func() *finished, reply func(*ChatResult)) {
	c := j.chat
	body := c.Body
	if c.Method == "" && c.ModelAt != (wire.Span{}) {
		var err error
		if c.ContentType != "" { // a multipart form: the model is a raw value
			body, err = wire.SetRawAt(body, c.ModelAt, j.dep.UpstreamModel)
		} else {
			body, err = wire.SetModelAt(body, c.ModelAt, j.dep.UpstreamModel)
		}
		if err != nil {
			j.report = failed()
			reply(&ChatResult{Err: wire.BadRequest("cannot rewrite the request body: %v", err)})
			return
		}
	}
	call := &providers.Call{Deployment: j.dep, Endpoint: c.Endpoint, Method: c.Method, ObjectID: c.ObjectID,
		Body: body, ContentType: c.ContentType, Header: c.Header, Deadline: time.Now().Add(j.timeout)}
	if !specOf(j.dep).Serves(c.Endpoint) {
		j.runBridge(ctx, call, failed, reply)
		return
	}
	fw, ok := j.provider.(providers.Forwarder)
	if !ok {
		j.report = failed()
		reply(&ChatResult{Err: wire.Errorf(500, wire.TypeInternal,
			"provider %q lists /v1/%s but does not implement it; this is a bug in the gateway build", j.dep.Provider, c.Endpoint)})
		return
	}
	strip := false
	if c.Stream && c.Endpoint == provreg.EndpointCompletions && StreamUsageSupported(j.dep) &&
		!wire.Lookup(body, "stream_options.include_usage").Bool() {
		// As for chat: the gateway asks for the usage chunk and does not
		// pass it on.
		if b, err := sjson.SetBytes(body, "stream_options.include_usage", true); err == nil {
			call.Body, strip = b, true
		}
	}
	if c.Stream {
		s, err := fw.ForwardStream(call)
		if err == nil {
			s, err = firstEvent(s, j.rc.StreamFirstByteTimeout, j.chat.Model)
		}
		if err != nil {
			j.report = failed()
			reply(&ChatResult{Err: asWireError(err)})
			return
		}
		res := j.streamResult(ctx, s)
		res.StripUsage = strip
		reply(res)
		return
	}
	call.Abort = c.Abort
	resp, err := fw.Forward(call)
	if err != nil {
		j.report = failed()
		reply(&ChatResult{Err: asWireError(err)})
		return
	}
	parsed := wire.ParseUnary(c.Endpoint, resp.Body)
	j.unary(ctx, resp, usageOf(parsed.Usage), parsed.ModelAt, reply)
}

// usageOf converts the wire's usage to the actors'.
func usageOf(u wire.Usage) Usage {
	return Usage{PromptTokens: u.Prompt, CompletionTokens: u.Completion,
		CacheReadTokens: u.CacheRead, CacheWriteTokens: u.CacheWrite, Reported: u.Reported}
}

// unary prices and answers a unary call's response whose usage the
// upstream reported as u, with the response's top-level "model" (at
// modelAt, when it has one) set to the name the client asked for.
func (j *job) unary(ctx actor.Context, resp *providers.Response, u Usage, modelAt wire.Span, reply func(*ChatResult)) {
	if !u.Reported && countsTokens(j.chat.Endpoint) && j.chat.ContentType == "" {
		// No call is free: without the upstream's figures the gateway
		// counts the request's tokens itself.
		u.PromptTokens = pricing.CountText(j.dep.UpstreamModel, string(j.chat.Body))
	}
	cost := j.cost(u)
	j.report = &finished{worker: ctx.Self(), at: j.env.now(), deploymentID: j.dep.ModelInfo.ID, keyToken: j.keyToken, limitModel: j.limitModel, usage: u, cost: cost}
	out := resp.Body
	if modelAt != (wire.Span{}) {
		if rewritten, err := wire.SetModelAt(out, modelAt, j.chat.Model); err == nil {
			out = rewritten
		}
	}
	remTok := j.remTok
	if remTok > 0 {
		remTok = max(0, remTok-u.PromptTokens-u.CompletionTokens)
	}
	reply(&ChatResult{Body: out, ContentType: resp.ContentType, Cost: cost, Usage: u,
		RemainingRequests: j.remReq, RemainingTokens: remTok, SoftBudgetExceeded: j.softOver, SoftBudget: j.softBudget})
}

// countsTokens: the endpoints whose requests the gateway counts when the
// upstream reports no usage (a read or delete of a stored object, or a
// count of tokens, costs nothing).
func countsTokens(ep provreg.Endpoint) bool {
	switch ep {
	case provreg.EndpointCountTokens, provreg.EndpointModerations:
		return false
	}
	return true
}

// runBridge answers an endpoint the deployment's provider does not serve
// natively: Anthropic's messages and OpenAI's responses through the
// provider's chat, and
// count_tokens estimated with the tokenizer (it costs nothing, and counts
// toward rpm only).
func (j *job) runBridge(ctx actor.Context, call *providers.Call, failed func() *finished, reply func(*ChatResult)) {
	switch call.Endpoint {
	case provreg.EndpointMessages:
		j.runMessagesBridge(ctx, call, failed, reply)
	case provreg.EndpointResponses:
		j.runResponsesBridge(ctx, call, failed, reply)
	case provreg.EndpointCountTokens:
		n := j.countTokens(call.Body)
		j.report = &finished{worker: ctx.Self(), at: j.env.now(), deploymentID: j.dep.ModelInfo.ID, keyToken: j.keyToken, limitModel: j.limitModel}
		reply(&ChatResult{Body: []byte(`{"input_tokens":` + strconv.FormatInt(n, 10) + `}`), ContentType: "application/json",
			RemainingRequests: j.remReq, RemainingTokens: j.remTok, SoftBudgetExceeded: j.softOver, SoftBudget: j.softBudget})
	default:
		j.report = failed()
		reply(&ChatResult{Err: unsupported(j.chat.Model, call.Endpoint, []*configs.Deployment{j.dep})})
	}
}
