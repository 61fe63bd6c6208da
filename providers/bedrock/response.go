package bedrock

import (
	"crypto/rand"
	"encoding/hex"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/llmgateway/gateway/wire"
)

// finishReason maps a Converse stopReason to OpenAI's finish_reason.
func finishReason(stop string) string {
	switch stop {
	case "max_tokens", "model_context_window_exceeded":
		return "length"
	case "tool_use":
		return "tool_calls"
	case "guardrail_intervened", "content_filtered":
		return "content_filter"
	default: // end_turn, stop_sequence, unknown ones
		return "stop"
	}
}

// usage is a Converse usage object's counts.
type usage struct {
	input, output, cacheRead, cacheWrite int64
}

func (u *usage) read(v gjson.Result) {
	v.ForEach(func(k, n gjson.Result) bool {
		if n.Type != gjson.Number {
			return true
		}
		switch k.Str {
		case "inputTokens":
			u.input = n.Int()
		case "outputTokens":
			u.output = n.Int()
		case "cacheReadInputTokens":
			u.cacheRead = n.Int()
		case "cacheWriteInputTokens":
			u.cacheWrite = n.Int()
		}
		return true
	})
}

// appendUsage appends the OpenAI usage object as the anthropic package
// reports it (LiteLLM's shape): the prompt counts every input token,
// cached ones included; prompt_tokens_details.cached_tokens the cache
// reads; cache_creation_input_tokens the cache writes. Bedrock's
// inputTokens, like Anthropic's input_tokens, leaves both out.
func appendUsage(b []byte, u usage) []byte {
	return wire.AppendCacheUsage(b, u.input, u.output, u.cacheRead, u.cacheWrite)
}

// newID is a chat completion id (Converse answers have none).
func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "chatcmpl-" + hex.EncodeToString(b[:])
}

// translateResponse turns a Converse answer into an OpenAI
// chat.completion. why is non-empty when body is no Converse answer.
func translateResponse(body []byte, info reqInfo, id string, created int64) (out []byte, why string) {
	if !gjson.ValidBytes(body) {
		return nil, "a body that is not JSON"
	}
	root := gjson.Parse(wire.View(body))
	content := root.Get("output.message.content")
	if !content.IsArray() {
		return nil, "a JSON body that is not a Converse answer"
	}
	var text, reasoning strings.Builder
	var toolCalls, thinking []byte
	nText, nTools, nReason := 0, 0, 0
	jsonArgs := ""
	content.ForEach(func(_, blk gjson.Result) bool {
		blk.ForEach(func(k, v gjson.Result) bool {
			switch k.Str {
			case "text":
				text.WriteString(v.Str)
				nText++
			case "toolUse":
				name := v.Get("name")
				raw := v.Get("input").Raw
				if raw == "" {
					raw = "{}"
				}
				if info.jsonMode && name.Str == jsonToolName {
					jsonArgs = raw
				}
				toolCalls = comma(toolCalls)
				toolCalls = append(toolCalls, `{"id":`...)
				toolCalls = wire.AppendRawString(toolCalls, v.Get("toolUseId"))
				toolCalls = append(toolCalls, `,"type":"function","function":{"name":`...)
				toolCalls = wire.AppendRawString(toolCalls, name)
				toolCalls = append(toolCalls, `,"arguments":`...)
				toolCalls = wire.AppendJSONString(toolCalls, raw)
				toolCalls = append(toolCalls, "}}"...)
				nTools++
			case "reasoningContent":
				if rt := v.Get("reasoningText"); rt.IsObject() {
					reasoning.WriteString(rt.Get("text").Str)
					thinking = comma(thinking)
					thinking = append(thinking, `{"type":"thinking","thinking":`...)
					thinking = wire.AppendRawString(thinking, rt.Get("text"))
					thinking = append(thinking, `,"signature":`...)
					thinking = wire.AppendRawString(thinking, rt.Get("signature"))
					thinking = append(thinking, '}')
				} else if rc := v.Get("redactedContent"); rc.Type == gjson.String {
					thinking = comma(thinking)
					thinking = append(thinking, `{"type":"redacted_thinking","data":`...)
					thinking = append(thinking, rc.Raw...)
					thinking = append(thinking, '}')
				}
				nReason++
			}
			return true
		})
		return true
	})
	finish := finishReason(root.Get("stopReason").Str)
	if info.jsonMode && nTools == 1 && jsonArgs != "" {
		toolCalls, nTools = nil, 0
		text.Reset()
		text.WriteString(jsonArgs)
		nText = 1
		if finish == "tool_calls" {
			finish = "stop"
		}
	}
	if id == "" {
		id = newID()
	}
	out = make([]byte, 0, len(body)+256)
	out = append(out, `{"id":`...)
	out = wire.AppendJSONString(out, id)
	out = append(out, `,"object":"chat.completion","created":`...)
	out = appendInt(out, created)
	out = append(out, `,"model":`...)
	out = wire.AppendJSONString(out, info.model)
	out = append(out, `,"choices":[{"index":0,"message":{"role":"assistant","content":`...)
	switch {
	case nText > 0:
		out = wire.AppendJSONString(out, text.String())
	case nTools > 0:
		out = append(out, "null"...)
	default:
		out = append(out, `""`...)
	}
	if nTools > 0 {
		out = append(out, `,"tool_calls":[`...)
		out = append(out, toolCalls...)
		out = append(out, ']')
	}
	if nReason > 0 {
		out = append(out, `,"reasoning_content":`...)
		out = wire.AppendJSONString(out, reasoning.String())
		out = append(out, `,"thinking_blocks":[`...)
		out = append(out, thinking...)
		out = append(out, ']')
	}
	out = append(out, `},"finish_reason":"`...)
	out = append(out, finish...)
	out = append(out, `"}],"usage":`...)
	var u usage
	u.read(root.Get("usage"))
	out = appendUsage(out, u)
	return append(out, '}'), ""
}
