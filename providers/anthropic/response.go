package anthropic

import (
	"strings"

	"github.com/tidwall/gjson"

	"github.com/llmgateway/gateway/wire"
)

// finishReason maps an Anthropic stop_reason to OpenAI's finish_reason.
func finishReason(stop string) string {
	switch stop {
	case "max_tokens", "model_context_window_exceeded":
		return "length"
	case "tool_use":
		return "tool_calls"
	case "refusal":
		return "content_filter"
	default: // end_turn, stop_sequence, pause_turn, unknown ones
		return "stop"
	}
}

// usage is an Anthropic usage object's counts.
type usage struct {
	input, output, cacheWrite, cacheRead int64
}

// read sets the counts u holds (a message_delta's usage may carry only
// some of them).
func (c *usage) read(u gjson.Result) {
	u.ForEach(func(k, v gjson.Result) bool {
		if v.Type != gjson.Number {
			return true // null: not reported in this event
		}
		switch k.Str {
		case "input_tokens":
			c.input = v.Int()
		case "output_tokens":
			c.output = v.Int()
		case "cache_creation_input_tokens":
			c.cacheWrite = v.Int()
		case "cache_read_input_tokens":
			c.cacheRead = v.Int()
		}
		return true
	})
}

// appendUsage appends the OpenAI usage object (LiteLLM's shape): the
// prompt counts every input token, cached ones included.
func appendUsage(b []byte, u usage) []byte {
	return wire.AppendCacheUsage(b, u.input, u.output, u.cacheRead, u.cacheWrite)
}

// translateResponse turns an Anthropic Messages answer into an OpenAI
// chat.completion. why is non-empty when body is no Messages answer (it
// says what body is instead, for "the upstream answered 200 with ...").
func translateResponse(body []byte, info reqInfo, created int64) (out []byte, why string) {
	if !gjson.ValidBytes(body) {
		return nil, "a body that is not JSON"
	}
	root := gjson.Parse(wire.View(body))
	var id, model, content, stop, usageV gjson.Result
	isMessage := false
	root.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "id":
			id = v
		case "model":
			model = v
		case "content":
			content = v
		case "stop_reason":
			stop = v
		case "usage":
			usageV = v
		case "type":
			isMessage = v.Str == "message"
		}
		return true
	})
	if !isMessage || !content.IsArray() {
		if root.Get("error").Exists() {
			return nil, "an error object instead of a message"
		}
		return nil, "a JSON body that is not an Anthropic message"
	}

	var text strings.Builder
	var textRaw string // the only text block's raw JSON, copied as is
	nText := 0
	var reasoning strings.Builder
	var thinkingBlocks, toolCalls []byte
	nTools := 0
	var jsonArgs string
	content.ForEach(func(_, blk gjson.Result) bool {
		switch blk.Get("type").Str {
		case "text":
			t := blk.Get("text")
			if nText == 0 && t.Type == gjson.String {
				textRaw = t.Raw
			}
			text.WriteString(t.Str)
			nText++
		case "tool_use":
			name := blk.Get("name")
			input := blk.Get("input")
			raw := input.Raw
			if raw == "" {
				raw = "{}"
			}
			if info.jsonMode && name.Str == jsonToolName {
				jsonArgs = raw
			}
			toolCalls = comma(toolCalls)
			toolCalls = append(toolCalls, `{"id":`...)
			toolCalls = wire.AppendRawString(toolCalls, blk.Get("id"))
			toolCalls = append(toolCalls, `,"type":"function","function":{"name":`...)
			toolCalls = wire.AppendRawString(toolCalls, name)
			toolCalls = append(toolCalls, `,"arguments":`...)
			toolCalls = wire.AppendJSONString(toolCalls, string(wire.AppendCompact(nil, raw)))
			toolCalls = append(toolCalls, "}}"...)
			nTools++
		case "thinking":
			reasoning.WriteString(blk.Get("thinking").Str)
			thinkingBlocks = append(comma(thinkingBlocks), blk.Raw...)
		case "redacted_thinking":
			thinkingBlocks = append(comma(thinkingBlocks), blk.Raw...)
		}
		return true
	})
	finish := finishReason(stop.Str)
	if info.jsonMode && nTools == 1 && jsonArgs != "" {
		// response_format: the json tool's input is the answer.
		toolCalls, nTools = nil, 0
		text.Reset()
		text.Write(wire.AppendCompact(nil, jsonArgs))
		nText, textRaw = 2, "" // encode text
		if finish == "tool_calls" {
			finish = "stop"
		}
	}

	out = make([]byte, 0, len(body)+256)
	out = append(out, `{"id":`...)
	out = wire.AppendRawString(out, id)
	out = append(out, `,"object":"chat.completion","created":`...)
	out = appendInt(out, created)
	out = append(out, `,"model":`...)
	out = wire.AppendRawString(out, model)
	out = append(out, `,"choices":[{"index":0,"message":{"role":"assistant","content":`...)
	switch {
	case nText == 1 && textRaw != "":
		out = append(out, textRaw...)
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
	if len(thinkingBlocks) > 0 {
		out = append(out, `,"reasoning_content":`...)
		out = wire.AppendJSONString(out, reasoning.String())
		out = append(out, `,"thinking_blocks":[`...)
		out = append(out, thinkingBlocks...)
		out = append(out, ']')
	}
	out = append(out, `},"finish_reason":"`...)
	out = append(out, finish...)
	out = append(out, `"}],"usage":`...)
	var u usage
	u.read(usageV)
	out = appendUsage(out, u)
	return append(out, '}'), ""
}
