package actors

import (
	"github.com/asynkron/protoactor-go/actor"

	"github.com/llmgateway/gateway/configs"
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
	echo := respbridge.EchoOf(call.Body, j.chat.Model)
	j.runOverChat(ctx, call, chat, stream, overChat{
		stream: func(s providers.Stream) providers.Stream { return respbridge.StreamFromChat(s, echo) },
		unary:  func(body []byte) ([]byte, *wire.Error) { return respbridge.ResponseFromChat(body, echo) },
	}, failed, reply)
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
