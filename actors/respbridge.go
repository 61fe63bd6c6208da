package actors

import (
	"github.com/asynkron/protoactor-go/actor"
	"github.com/tidwall/sjson"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/pricing"
	"github.com/llmgateway/gateway/providers"
	respbridge "github.com/llmgateway/gateway/providers/openai/bridge"
	"github.com/llmgateway/gateway/wire"
)

// runResponsesBridge answers OpenAI's Responses API from a provider
// without a native one: the request is translated to chat, the
// provider's answer or stream back to a Responses object or events. The
// gateway keeps no responses: GET and DELETE of a bridged response's id
// are 404, and a request that needs stored state is 400.
func (j *job) runResponsesBridge(ctx actor.Context, call *providers.Call, failed func() *finished, reply func(*ChatResult)) {
	if call.Method != "" {
		j.report = failed()
		reply(&ChatResult{Err: &wire.Error{Status: 404, Type: wire.TypeInvalidRequest,
			Message: "response not found: model " + j.dep.PublicName() + " has no native Responses API (the gateway " +
				"serves it through chat) and bridged responses are not stored, so they cannot be read or deleted"}})
		return
	}
	chat, stream, werr := respbridge.RequestToChat(call.Body, responsesOptions(j.dep))
	if werr != nil {
		j.report = failed()
		reply(&ChatResult{Err: werr})
		return
	}
	if stream && !StreamUsageSupported(j.dep) {
		if b, err := sjson.DeleteBytes(chat, "stream_options"); err == nil {
			chat = b
		}
	}
	echo := respbridge.EchoOf(call.Body, j.chat.Model)
	c := *call
	c.Endpoint, c.Body, c.Header = "", chat, nil
	if stream {
		s, err := j.provider.OpenStream(&c)
		if err == nil {
			s, err = firstEvent(s, j.rc.StreamFirstByteTimeout, j.chat.Model)
		}
		if err != nil {
			j.report = failed()
			reply(&ChatResult{Err: asWireError(err)})
			return
		}
		if StreamUsageSupported(j.dep) {
			reply(j.streamResult(ctx, respbridge.StreamFromChat(s, echo)))
			return
		}
		// No stream usage upstream: the events carry zeros, and the
		// gateway counts the chat's prompt and the streamed text.
		tap := &textTap{Stream: s}
		res := j.streamResult(ctx, respbridge.StreamFromChat(tap, echo))
		done := res.Done
		res.Done = func(u Usage) Usage {
			if u.PromptTokens == 0 && u.CompletionTokens == 0 {
				u.Reported, u.Text = false, tap.text
				j.countBody = chat
			}
			return done(u)
		}
		reply(res)
		return
	}
	c.Abort = j.chat.Abort
	resp, err := j.provider.Complete(&c)
	if err != nil {
		j.report = failed()
		reply(&ChatResult{Err: asWireError(err)})
		return
	}
	comp, why := wire.ParseCompletion(resp.Body)
	if why != "" {
		j.report = failed()
		reply(&ChatResult{Err: malformedAnswer(j.dep, resp, why)})
		return
	}
	u := usageFrom(comp.Usage)
	if !u.Reported {
		u.PromptTokens = pricing.CountPrompt(j.dep.UpstreamModel, chat)
		u.CompletionTokens = pricing.CountCompletion(j.dep.UpstreamModel, resp.Body)
		u.Reported = true
	}
	out, werr := respbridge.ResponseFromChat(resp.Body, echo)
	if werr != nil {
		j.report = failed()
		reply(&ChatResult{Err: werr})
		return
	}
	j.unary(ctx, &providers.Response{Status: resp.Status, ContentType: "application/json", Body: out}, u, wire.Span{}, reply)
}

// responsesOptions adapts the Responses translation to d: reasoning_effort
// goes only to a model known to take it (the registry's Reasoning, else
// OpenAI's reasoning families): Codex sends a reasoning effort with every
// request, which other models refuse.
func responsesOptions(d *configs.Deployment) respbridge.Options {
	if r := specOf(d).Reasoning; r != nil {
		return respbridge.Options{NoReasoning: !r(d.UpstreamModel)}
	}
	return respbridge.Options{NoReasoning: !respbridge.ReasoningModel(d.UpstreamModel)}
}
