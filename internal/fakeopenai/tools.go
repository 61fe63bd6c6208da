package fakeopenai

import (
	"bufio"
	"encoding/json"
	"fmt"

	"github.com/tidwall/gjson"
	"github.com/valyala/fasthttp"
)

// forcedTool is the function a chat request's tool_choice forces the model
// to call ("required": the first tool; {"type":"function",...}: that
// one), or "" when the model may answer in text.
func forcedTool(b gjson.Result) string {
	tc := b.Get("tool_choice")
	switch {
	case tc.Type == gjson.String && tc.Str == "required":
		return b.Get("tools.0.function.name").Str
	case tc.IsObject() && tc.Get("type").Str == "function":
		return tc.Get("function.name").Str
	}
	return ""
}

// checkToolTurns refuses what OpenAI refuses: a tool message that does
// not answer a tool call of the assistant message before it, a forced tool
// that is not defined, and tools without a function name.
func checkToolTurns(b gjson.Result) (msg, param string) {
	names := map[string]bool{}
	for i, t := range b.Get("tools").Array() {
		if t.Get("type").Str != "function" || t.Get("function.name").Str == "" {
			return fmt.Sprintf("Missing required parameter: 'tools[%d].function.name'.", i), fmt.Sprintf("tools[%d].function.name", i)
		}
		names[t.Get("function.name").Str] = true
	}
	if f := forcedTool(b); b.Get("tool_choice").Exists() && b.Get("tool_choice").Str != "auto" && b.Get("tool_choice").Str != "none" && !names[f] {
		return "Invalid value for 'tool_choice': the tool it names is not in 'tools'.", "tool_choice"
	}
	open := map[string]bool{}
	for i, m := range b.Get("messages").Array() {
		switch m.Get("role").Str {
		case "assistant":
			open = map[string]bool{}
			for _, c := range m.Get("tool_calls").Array() {
				open[c.Get("id").Str] = true
			}
		case "tool":
			if !open[m.Get("tool_call_id").Str] {
				return fmt.Sprintf("Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls' (messages[%d]).", i), fmt.Sprintf("messages.[%d].role", i)
			}
		default:
			open = map[string]bool{}
		}
	}
	return "", ""
}

// toolCall answers a chat request whose tool_choice forces fn: one call
// of it, unary or streamed (its arguments in two fragments), with usage.
func toolCall(ctx *fasthttp.RequestCtx, b gjson.Result, fn string, stream bool) {
	const args = `{"city":"Paris"}`
	id, model := "call_"+randomHex()[:12], b.Get("model").Str
	usage := map[string]any{"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17}
	if !stream {
		body, _ := json.Marshal(map[string]any{"id": "chatcmpl-" + randomHex()[:12], "object": "chat.completion", "created": 1700000000, "model": model,
			"choices": []any{map[string]any{"index": 0, "finish_reason": "tool_calls", "message": map[string]any{"role": "assistant", "content": nil,
				"tool_calls": []any{map[string]any{"id": id, "type": "function", "function": map[string]any{"name": fn, "arguments": args}}}}}},
			"usage": usage})
		ctx.SetContentType("application/json")
		ctx.SetBody(body)
		return
	}
	chunk := func(delta map[string]any, finish any) []byte {
		c, _ := json.Marshal(map[string]any{"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1700000000, "model": model,
			"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}}})
		return c
	}
	events := [][]byte{
		chunk(map[string]any{"role": "assistant", "content": nil}, nil),
		chunk(map[string]any{"tool_calls": []any{map[string]any{"index": 0, "id": id, "type": "function", "function": map[string]any{"name": fn, "arguments": ""}}}}, nil),
		chunk(map[string]any{"tool_calls": []any{map[string]any{"index": 0, "function": map[string]any{"arguments": args[:8]}}}}, nil),
		chunk(map[string]any{"tool_calls": []any{map[string]any{"index": 0, "function": map[string]any{"arguments": args[8:]}}}}, nil),
		chunk(map[string]any{}, "tool_calls"),
	}
	if b.Get("stream_options.include_usage").Bool() {
		u, _ := json.Marshal(map[string]any{"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1700000000, "model": model,
			"choices": []any{}, "usage": usage})
		events = append(events, u)
	}
	ctx.SetContentType("text/event-stream; charset=utf-8")
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		for _, e := range events {
			_, _ = w.WriteString("data: ")
			_, _ = w.Write(e)
			_, _ = w.WriteString("\n\n")
			if w.Flush() != nil {
				return
			}
		}
		_, _ = w.WriteString("data: [DONE]\n\n")
		_ = w.Flush()
	})
}
