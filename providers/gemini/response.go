package gemini

import (
	"crypto/rand"
	"encoding/hex"

	"github.com/tidwall/gjson"

	"github.com/llmgateway/gateway/wire"
)

// newID returns a fresh id with prefix ("call_", "chatcmpl-"); tests
// replace it for stable golden files.
var newID = func(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// finishReason maps a Gemini finishReason to OpenAI's.
func finishReason(r string) string {
	switch r {
	case "MAX_TOKENS":
		return "length"
	case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT",
		"IMAGE_RECITATION", "LANGUAGE":
		return "content_filter"
	case "MALFORMED_FUNCTION_CALL", "UNEXPECTED_TOOL_CALL":
		return "stop"
	default: // STOP, FINISH_REASON_UNSPECIFIED, OTHER, and any new one
		return "stop"
	}
}

// usage is Gemini's usageMetadata.
type usage struct {
	prompt, candidates, thoughts, cached, toolPrompt, total int64
	seen                                                    bool
}

func (u *usage) read(v gjson.Result) {
	if !v.IsObject() {
		return
	}
	u.seen = true
	v.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "promptTokenCount":
			u.prompt = v.Int()
		case "candidatesTokenCount":
			u.candidates = v.Int()
		case "thoughtsTokenCount":
			u.thoughts = v.Int()
		case "cachedContentTokenCount":
			u.cached = v.Int()
		case "toolUsePromptTokenCount":
			u.toolPrompt = v.Int()
		case "totalTokenCount":
			u.total = v.Int()
		}
		return true
	})
}

// appendUsage writes OpenAI's usage: the prompt (tool-use prompt tokens
// included), the completion with the thoughts (they are billed as output),
// cached prompt tokens and reasoning tokens in the details.
func appendUsage(dst []byte, u usage) []byte {
	prompt := u.prompt + u.toolPrompt
	completion := u.candidates + u.thoughts
	total := u.total
	if total < prompt+completion {
		total = prompt + completion
	}
	dst = append(dst, `{"prompt_tokens":`...)
	dst = appendInt(dst, prompt)
	dst = append(dst, `,"completion_tokens":`...)
	dst = appendInt(dst, completion)
	dst = append(dst, `,"total_tokens":`...)
	dst = appendInt(dst, total)
	dst = append(dst, `,"prompt_tokens_details":{"cached_tokens":`...)
	dst = appendInt(dst, u.cached)
	dst = append(dst, `},"completion_tokens_details":{"reasoning_tokens":`...)
	dst = appendInt(dst, u.thoughts)
	return append(dst, "}}"...)
}

// candidate is what one candidate's parts say, for the unary answer.
type candidate struct {
	text, reasoning []byte // JSON string contents, unquoted form built by appending raw pieces
	tools           []byte // tool_calls array items
	nTools          int
	hasText         bool
	hasReasoning    bool
}

// readParts collects a candidate's parts: text, thoughts and function
// calls.
func (c *candidate) readParts(parts gjson.Result) {
	parts.ForEach(func(_, p gjson.Result) bool {
		var text, fc, sig gjson.Result
		thought := false
		p.ForEach(func(k, v gjson.Result) bool {
			switch k.Str {
			case "text":
				text = v
			case "thought":
				thought = v.Type == gjson.True
			case "functionCall":
				fc = v
			case "thoughtSignature":
				sig = v
			}
			return true
		})
		switch {
		case fc.IsObject():
			if c.nTools > 0 {
				c.tools = append(c.tools, ',')
			}
			c.tools = appendToolCall(c.tools, fc, sig, -1)
			c.nTools++
		case text.Type == gjson.String && thought:
			c.reasoning = appendStringBody(c.reasoning, text)
			c.hasReasoning = true
		case text.Type == gjson.String:
			c.text = appendStringBody(c.text, text)
			c.hasText = true
		}
		return true
	})
}

// appendStringBody appends the escaped contents of a JSON string value
// (its raw text without the quotes), so that pieces join into one string.
func appendStringBody(dst []byte, v gjson.Result) []byte {
	if len(v.Raw) >= 2 && v.Raw[0] == '"' {
		return append(dst, v.Raw[1:len(v.Raw)-1]...)
	}
	return wire.AppendJSONStringBody(dst, v.Str)
}

// appendToolCall writes one OpenAI tool call of a functionCall; index >= 0
// adds the stream's "index".
func appendToolCall(dst []byte, fc, sig gjson.Result, index int) []byte {
	dst = append(dst, '{')
	if index >= 0 {
		dst = append(dst, `"index":`...)
		dst = appendInt(dst, int64(index))
		dst = append(dst, ',')
	}
	id := fc.Get("id").Str
	if id == "" {
		id = newID("call_")
	}
	if sig.Type == gjson.String && sig.Str != "" {
		id += thoughtSep + sig.Str
	}
	dst = append(dst, `"id":`...)
	dst = wire.AppendJSONString(dst, id)
	dst = append(dst, `,"type":"function","function":{"name":`...)
	dst = wire.AppendRawString(dst, fc.Get("name"))
	dst = append(dst, `,"arguments":`...)
	args := fc.Get("args")
	if args.IsObject() {
		var compact []byte
		compact = wire.AppendCompact(compact, args.Raw)
		dst = wire.AppendJSONString(dst, wire.View(compact))
	} else {
		dst = append(dst, `"{}"`...)
	}
	return append(dst, "}}"...)
}

// translateResponse turns a GenerateContentResponse into a
// chat.completion. why is non-empty when body is not one.
func translateResponse(body []byte, info reqInfo, created int64) (out []byte, why string) {
	if !gjson.ValidBytes(body) {
		return nil, "a body that is not JSON"
	}
	root := gjson.ParseBytes(body)
	if !root.IsObject() {
		return nil, "a body that is not a JSON object"
	}
	var cands, feedback, usageV, modelV, idV gjson.Result
	root.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "candidates":
			cands = v
		case "promptFeedback":
			feedback = v
		case "usageMetadata":
			usageV = v
		case "modelVersion":
			modelV = v
		case "responseId":
			idV = v
		}
		return true
	})
	var u usage
	u.read(usageV)
	out = make([]byte, 0, len(body)+256)
	out = append(out, `{"id":`...)
	if idV.Str != "" {
		out = wire.AppendJSONString(out, "chatcmpl-"+idV.Str)
	} else {
		out = wire.AppendJSONString(out, newID("chatcmpl-"))
	}
	out = append(out, `,"object":"chat.completion","created":`...)
	out = appendInt(out, created)
	out = append(out, `,"model":`...)
	if modelV.Str != "" {
		out = wire.AppendRawString(out, modelV)
	} else {
		out = wire.AppendJSONString(out, info.model)
	}
	out = append(out, `,"choices":[`...)
	n := 0
	if cands.IsArray() {
		var c candidate
		cands.ForEach(func(k, cv gjson.Result) bool {
			c = candidate{text: c.text[:0], reasoning: c.reasoning[:0], tools: c.tools[:0]}
			c.readParts(cv.Get("content.parts"))
			idx := cv.Get("index")
			if n > 0 {
				out = append(out, ',')
			}
			out = append(out, `{"index":`...)
			if idx.Type == gjson.Number {
				out = appendInt(out, idx.Int())
			} else {
				out = appendInt(out, k.Int())
			}
			finish := finishReason(cv.Get("finishReason").Str)
			out = append(out, `,"message":{"role":"assistant","content":`...)
			if c.hasText || (c.nTools == 0 && finish != "content_filter") {
				out = append(out, '"')
				out = append(out, c.text...)
				out = append(out, '"')
			} else {
				out = append(out, "null"...)
			}
			if c.hasReasoning {
				out = append(out, `,"reasoning_content":"`...)
				out = append(out, c.reasoning...)
				out = append(out, '"')
			}
			if c.nTools > 0 {
				out = append(out, `,"tool_calls":[`...)
				out = append(out, c.tools...)
				out = append(out, ']')
			}
			if c.nTools > 0 && finish == "stop" {
				finish = "tool_calls"
			}
			out = append(out, `},"finish_reason":"`...)
			out = append(out, finish...)
			out = append(out, `"}`...)
			n++
			return true
		})
	}
	if n == 0 {
		if br := feedback.Get("blockReason"); br.Str != "" {
			// The prompt was blocked: no candidate. As LiteLLM does, a
			// 200 whose one choice is empty with content_filter.
			out = append(out, `{"index":0,"message":{"role":"assistant","content":null},"finish_reason":"content_filter"}`...)
		} else {
			return nil, "no candidates"
		}
	}
	out = append(out, `],"usage":`...)
	out = appendUsage(out, u)
	return append(out, '}'), ""
}
