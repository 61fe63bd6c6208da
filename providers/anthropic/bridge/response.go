package bridge

import (
	"crypto/rand"
	"encoding/hex"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/llmgateway/gateway/wire"
)

// ResponseFromChat translates an OpenAI chat.completion (a 2xx answer of a
// provider's Complete) into an Anthropic Message whose "model" is model
// (the name the client asked for). werr is a 502 when chat is not a chat
// completion with a choice.
func ResponseFromChat(chat []byte, model string) ([]byte, *wire.Error) {
	if _, why := wire.ParseCompletion(chat); why != "" {
		return nil, &wire.Error{Status: 502, Type: wire.TypeUpstream,
			Message: "the upstream answered 200 with " + why + " (model " + model + ")"}
	}
	root := gjson.Parse(wire.View(chat))
	var id, choices, usage gjson.Result
	root.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "id":
			id = v
		case "choices":
			choices = v
		case "usage":
			usage = v
		}
		return true
	})
	choice := choices.Get("0")
	if !choice.IsObject() {
		return nil, &wire.Error{Status: 502, Type: wire.TypeUpstream,
			Message: "the upstream answered 200 with a chat completion without a choice (model " + model + ")"}
	}
	msg := choice.Get("message")
	out := make([]byte, 0, len(chat)+128)
	out = append(out, `{"id":`...)
	out = appendMessageID(out, id)
	out = append(out, `,"type":"message","role":"assistant","model":`...)
	out = wire.AppendJSONString(out, model)
	out = append(out, `,"content":[`...)
	blocks := 0
	next := func() {
		if blocks > 0 {
			out = append(out, ',')
		}
		blocks++
	}
	if r := reasoningOf(msg); r.Type == gjson.String && r.Str != "" {
		next()
		out = append(out, `{"type":"thinking","thinking":`...)
		out = wire.AppendRawString(out, r)
		out = append(out, `,"signature":""}`...)
	}
	refusal := msg.Get("refusal")
	if text := textOf(msg.Get("content")); text != "" {
		next()
		out = append(out, `{"type":"text","text":`...)
		out = wire.AppendJSONString(out, text)
		out = append(out, `}`...)
	} else if refusal.Type == gjson.String && refusal.Str != "" {
		next()
		out = append(out, `{"type":"text","text":`...)
		out = wire.AppendRawString(out, refusal)
		out = append(out, `}`...)
	}
	calls := msg.Get("tool_calls").Array()
	if fc := msg.Get("function_call"); len(calls) == 0 && fc.IsObject() {
		calls = []gjson.Result{fc}
	}
	for k, c := range calls {
		fn := c
		if f := c.Get("function"); f.IsObject() {
			fn = f
		}
		args := fn.Get("arguments")
		input, ok := toolInput(args)
		if !ok {
			// Keep what the model wrote, visibly and in a form every client
			// and Anthropic itself take back: a text block before the call.
			next()
			out = append(out, `{"type":"text","text":"The arguments of the tool call below were not valid JSON, so its input is empty; they were: `...)
			out = wire.AppendRawStringBody(out, args)
			out = append(out, `"}`...)
		}
		next()
		out = append(out, `{"type":"tool_use","id":`...)
		out = appendToolID(out, c.Get("id"), id, k)
		out = append(out, `,"name":`...)
		out = wire.AppendRawString(out, fn.Get("name"))
		out = append(out, `,"input":`...)
		out = append(out, input...)
		out = append(out, '}')
	}
	out = append(out, `],"stop_reason":"`...)
	finish := choice.Get("finish_reason").String()
	if refusal.Type == gjson.String && refusal.Str != "" && finish == "stop" {
		finish = "content_filter"
	}
	out = append(out, stopReason(finish, len(calls) > 0)...)
	out = append(out, `","stop_sequence":null,"usage":`...)
	out = appendUsage(out, readUsage(usage), true)
	return append(out, '}'), nil
}

// reasoningOf returns the reasoning text of a message or delta:
// reasoning_content (DeepSeek, vLLM, LiteLLM) or reasoning (OpenRouter,
// Ollama).
func reasoningOf(m gjson.Result) gjson.Result {
	if r := m.Get("reasoning_content"); r.Exists() && r.Type != gjson.Null {
		return r
	}
	return m.Get("reasoning")
}

// textOf returns a message's content: a string, or the text of its parts.
func textOf(c gjson.Result) string {
	if c.Type == gjson.String {
		return c.Str
	}
	if !c.IsArray() {
		return ""
	}
	var b strings.Builder
	for _, p := range c.Array() {
		if t := p.Get("text"); t.Type == gjson.String {
			b.WriteString(t.Str)
		}
	}
	return b.String()
}

// toolInput returns the tool_use input for a call's arguments: the
// arguments when they are a JSON object, {} when they are empty, and
// ok=false ({} as input) when they are anything else.
func toolInput(args gjson.Result) (input string, ok bool) {
	s := strings.TrimSpace(args.String())
	if s == "" {
		return "{}", true
	}
	if args.IsObject() { // an object sent as such, not as a string
		return args.Raw, true
	}
	if gjson.Valid(s) && s[0] == '{' {
		return s, true
	}
	return "{}", false
}

// stopReason maps a chat finish_reason to Anthropic's stop_reason.
func stopReason(finish string, calls bool) string {
	switch finish {
	case "length":
		return "max_tokens"
	case "tool_calls", "function_call":
		return "tool_use"
	case "content_filter":
		return "refusal"
	}
	if calls { // some servers say "stop" after tool calls
		return "tool_use"
	}
	return "end_turn"
}

// appendMessageID writes the message id: "msg_" and the chat id without its
// "chatcmpl-" prefix; a random one when the chat has none.
func appendMessageID(out []byte, id gjson.Result) []byte {
	s := id.String()
	s = strings.TrimPrefix(s, "chatcmpl-")
	if s == "" {
		var b [12]byte
		_, _ = rand.Read(b[:])
		s = hex.EncodeToString(b[:])
	}
	out = append(out, `"msg_`...)
	out = wire.AppendJSONStringBody(out, s)
	return append(out, '"')
}

// appendToolID writes a tool call's id, or one made from the chat id and
// the call's position when the upstream sent none.
func appendToolID(out []byte, id, chatID gjson.Result, k int) []byte {
	if id.Type == gjson.String && id.Str != "" {
		return wire.AppendRawString(out, id)
	}
	out = append(out, `"toolu_`...)
	out = wire.AppendJSONStringBody(out, strings.TrimPrefix(chatID.String(), "chatcmpl-"))
	out = append(out, '_')
	out = appendInt(out, int64(k))
	return append(out, '"')
}

// usage is a chat usage in Anthropic's terms.
type usage struct {
	input, output, cacheRead, cacheWrite int64
	known                                bool
}

// readUsage reads a chat usage: prompt_tokens includes the cached tokens
// (prompt_tokens_details.cached_tokens, or LiteLLM's
// cache_read_input_tokens) and LiteLLM's cache_creation_input_tokens;
// Anthropic's input_tokens counts neither.
func readUsage(u gjson.Result) usage {
	if !u.IsObject() {
		return usage{}
	}
	var x usage
	x.known = true
	var prompt int64
	u.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "prompt_tokens":
			prompt = v.Int()
		case "completion_tokens":
			x.output = v.Int()
		case "prompt_tokens_details":
			if c := v.Get("cached_tokens").Int(); c > x.cacheRead {
				x.cacheRead = c
			}
		case "cache_read_input_tokens":
			if c := v.Int(); c > x.cacheRead {
				x.cacheRead = c
			}
		case "cache_creation_input_tokens":
			x.cacheWrite = v.Int()
		}
		return true
	})
	x.input = max(0, prompt-x.cacheRead-x.cacheWrite)
	x.output = max(0, x.output)
	x.cacheRead = max(0, x.cacheRead)
	x.cacheWrite = max(0, x.cacheWrite)
	return x
}

// appendUsage writes an Anthropic usage object; input reports whether to
// include the input counts (a message_delta without a known usage has
// output_tokens only).
func appendUsage(out []byte, u usage, input bool) []byte {
	if input {
		out = append(out, `{"input_tokens":`...)
		out = appendInt(out, u.input)
		out = append(out, `,"cache_creation_input_tokens":`...)
		out = appendInt(out, u.cacheWrite)
		out = append(out, `,"cache_read_input_tokens":`...)
		out = appendInt(out, u.cacheRead)
		out = append(out, `,"output_tokens":`...)
	} else {
		out = append(out, `{"output_tokens":`...)
	}
	out = appendInt(out, u.output)
	return append(out, '}')
}
