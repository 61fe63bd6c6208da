package actors

import (
	"github.com/asynkron/protoactor-go/actor"

	"github.com/llmgateway/gateway/configs"
	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/llmgateway/gateway/pricing"
	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/providers/anthropic/bridge"
	"github.com/llmgateway/gateway/wire"
)

// runMessagesBridge answers Anthropic's Messages API from a provider that
// speaks only chat: the request is translated to chat, the provider's
// answer or stream back to Messages.
func (j *job) runMessagesBridge(ctx actor.Context, call *providers.Call, failed func() *finished, reply func(*ChatResult)) {
	chat, stream, werr := bridge.RequestToChatWith(call.Body, bridge.OptionsFor(j.dep.UpstreamModel, maxOutputTokens(j.dep)))
	if werr != nil {
		j.report = failed()
		reply(&ChatResult{Err: werr})
		return
	}
	j.runOverChat(ctx, call, chat, stream, overChat{
		stream: func(s providers.Stream) providers.Stream { return bridge.StreamFromChat(s, j.chat.Model) },
		unary:  func(body []byte) ([]byte, *wire.Error) { return bridge.ResponseFromChat(body, j.chat.Model) },
	}, failed, reply)
}

// overChat makes a bridged endpoint's answer from the provider's chat
// answer (unary) or stream.
type overChat struct {
	stream func(providers.Stream) providers.Stream
	unary  func(chatCompletion []byte) ([]byte, *wire.Error)
}

// runOverChat sends chat (a bridge's translation of call's body, with
// the upstream's model already) to the provider's chat and answers with
// oc's translation of its answer. A provider that reports no stream usage
// is not asked for it; the gateway then counts the chat's prompt and the
// streamed text (and a unary answer without usage) with the tokenizer.
func (j *job) runOverChat(ctx actor.Context, call *providers.Call, chat []byte, stream bool, oc overChat, failed func() *finished, reply func(*ChatResult)) {
	if stream && !StreamUsageSupported(j.dep) {
		// The provider cannot report a stream's usage: no include_usage.
		if b, err := sjson.DeleteBytes(chat, "stream_options"); err == nil {
			chat = b
		}
	}
	c := *call
	c.Endpoint, c.Body, c.Header = "", chat, nil // a client's anthropic-beta means nothing to chat
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
			reply(j.streamResult(ctx, oc.stream(s)))
			return
		}
		// The upstream reports no stream usage, so the translated events
		// carry zeros: the gateway counts the chat's prompt and the text
		// it streamed instead, as for a chat stream without usage.
		tap := &textTap{Stream: s}
		res := j.streamResult(ctx, oc.stream(tap))
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
	out, werr := oc.unary(resp.Body)
	if werr != nil {
		j.report = failed()
		reply(&ChatResult{Err: werr})
		return
	}
	j.unary(ctx, &providers.Response{Status: resp.Status, ContentType: "application/json", Body: out}, u, wire.Span{}, reply)
}

// maxOutputTokens is a deployment's model_info.max_output_tokens (0:
// unset).
func maxOutputTokens(d *configs.Deployment) int {
	switch v := d.ModelInfo.Extra["max_output_tokens"].(type) {
	case int:
		return v
	case float64:
		return int(v)
	}
	return 0
}

// countTokens estimates the input tokens of a count_tokens request with
// the tokenizer, through its chat translation.
func (j *job) countTokens(body []byte) int64 {
	if !wire.Lookup(body, "max_tokens").Exists() {
		// count_tokens takes no max_tokens; the translation wants one.
		if b, err := sjson.SetBytes(body, "max_tokens", 1); err == nil {
			body = b
		}
	}
	chat, _, werr := bridge.RequestToChat(body)
	if werr != nil {
		return pricing.CountText(j.dep.UpstreamModel, string(body))
	}
	return pricing.CountPrompt(j.dep.UpstreamModel, chat)
}

// textTap records the text of the chat chunks read through it: the
// content, the reasoning, and the tool calls' names and arguments (a
// stream of tool calls only has no content, and is not free).
type textTap struct {
	providers.Stream
	text []byte
}

func (t *textTap) Next() ([]byte, error) {
	data, err := t.Stream.Next()
	if err == nil {
		delta := wire.Lookup(data, "choices.0.delta")
		if !delta.IsObject() {
			return data, err
		}
		delta.ForEach(func(k, v gjson.Result) bool {
			switch k.Str {
			case "content", "reasoning_content":
				if v.Type == gjson.String {
					t.text = append(t.text, v.Str...)
				}
			case "tool_calls":
				v.ForEach(func(_, c gjson.Result) bool {
					for _, f := range [...]string{"function.name", "function.arguments"} {
						if s := c.Get(f); s.Type == gjson.String {
							t.text = append(t.text, s.Str...)
						}
					}
					return true
				})
			}
			return true
		})
	}
	return data, err
}
