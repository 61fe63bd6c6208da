package fakegemini

import (
	"encoding/json"
	"net/http"
	"strings"
)

// reply is one answer, before it is written.
type reply struct {
	opts     Options
	parts    []map[string]any // candidate parts, thoughts first
	finish   string
	block    string
	cands    int
	prompt   int
	output   int
	thoughts int
	id       string
}

func answer(o Options, v *validated, bodyLen, seq int) *reply {
	a := &reply{opts: o, finish: "STOP", block: o.BlockPrompt, cands: v.candidates, id: "fake-resp-" + itoa(seq)}
	a.prompt = o.PromptTokens
	if a.prompt == 0 {
		a.prompt = max(1, bodyLen/4)
	}
	if v.includeThoughts {
		a.parts = append(a.parts, map[string]any{"text": o.Thought, "thought": true})
		a.thoughts = o.ThoughtTokens
		if a.thoughts == 0 {
			a.thoughts = max(1, len(o.Thought)/4)
		}
	}
	calls := 0
	fns := v.functions
	if len(v.allowed) > 0 {
		fns = v.allowed
	}
	if len(fns) > 0 && v.mode != "NONE" {
		switch {
		case v.mode == "ANY":
			calls = max(1, o.ToolCalls)
		case o.ToolCalls > 0:
			calls = o.ToolCalls
		}
	}
	outLen := 0
	if calls > 0 {
		var args map[string]any
		_ = json.Unmarshal([]byte(o.ToolArgs), &args)
		for i := range calls {
			p := map[string]any{"functionCall": map[string]any{"name": fns[i%len(fns)], "args": args}}
			if o.ThoughtSignature != "" {
				p["thoughtSignature"] = o.ThoughtSignature
			}
			a.parts = append(a.parts, p)
			outLen += len(o.ToolArgs) + 10
		}
	} else {
		text := o.Reply
		if v.jsonMode {
			text = o.JSONReply
		}
		a.parts = append(a.parts, map[string]any{"text": text})
		outLen = len(text)
	}
	a.output = o.OutputTokens
	if a.output == 0 {
		a.output = max(1, outLen/4)
	}
	if o.FinishReason != "" {
		a.finish = o.FinishReason
	}
	return a
}

func (a *reply) usage(final bool) map[string]any {
	u := map[string]any{"promptTokenCount": a.prompt}
	if final {
		u["candidatesTokenCount"] = a.output * a.cands
		u["totalTokenCount"] = a.prompt + a.output*a.cands + a.thoughts
		if a.thoughts > 0 {
			u["thoughtsTokenCount"] = a.thoughts
		}
	} else {
		u["totalTokenCount"] = a.prompt
	}
	if a.opts.CachedTokens > 0 {
		u["cachedContentTokenCount"] = a.opts.CachedTokens
		u["cacheTokensDetails"] = []any{map[string]any{"modality": "TEXT", "tokenCount": a.opts.CachedTokens}}
	}
	u["promptTokensDetails"] = []any{map[string]any{"modality": "TEXT", "tokenCount": a.prompt}}
	return u
}

// response is one GenerateContentResponse with parts (for every
// candidate), finish ("" : none yet) and usage.
func (a *reply) response(parts []map[string]any, finish string, usage map[string]any) map[string]any {
	r := map[string]any{"usageMetadata": usage, "modelVersion": a.opts.ModelVersion, "responseId": a.id}
	if a.block != "" {
		r["promptFeedback"] = map[string]any{"blockReason": a.block,
			"safetyRatings": []any{map[string]any{"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH"}}}
		return r
	}
	var cands []any
	for i := range a.cands {
		c := map[string]any{"index": i}
		if len(parts) > 0 {
			c["content"] = map[string]any{"role": "model", "parts": parts}
		}
		if finish != "" {
			c["finishReason"] = finish
			if finish == "SAFETY" {
				c["safetyRatings"] = []any{map[string]any{"category": "HARM_CATEGORY_HARASSMENT", "probability": "HIGH", "blocked": true}}
			}
		}
		cands = append(cands, c)
	}
	r["candidates"] = cands
	return r
}

// stream writes the answer as events: the thought, the text in two
// pieces (or the function calls at once), then an event with the
// finishReason and the whole usage. alt=sse gives server-sent events,
// else a JSON array, as the real API does.
func (s *Server) stream(w http.ResponseWriter, a *reply, fail *Failure, key string, sse bool) {
	var events []map[string]any
	if a.block != "" {
		events = append(events, a.response(nil, "", a.usage(true)))
	} else {
		var text []map[string]any
		for _, p := range a.parts {
			if p["thought"] == true {
				events = append(events, a.response([]map[string]any{p}, "", a.usage(false)))
				continue
			}
			if t, ok := p["text"].(string); ok && len(t) > 1 {
				half := len(t) / 2
				for half < len(t) && (t[half]&0xC0) == 0x80 {
					half++
				}
				events = append(events, a.response([]map[string]any{{"text": t[:half]}}, "", a.usage(false)))
				text = append(text, map[string]any{"text": t[half:]})
				continue
			}
			text = append(text, p)
		}
		events = append(events, a.response(text, a.finish, a.usage(true)))
	}
	if sse {
		w.Header().Set("Content-Type", "text/event-stream")
	} else {
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	}
	w.WriteHeader(200)
	fl, _ := w.(http.Flusher)
	var b strings.Builder
	for i, e := range events {
		if fail != nil && fail.InStream && i == 1 {
			code, msg, details := failureText(fail, key)
			body := string(errorBody(fail.Status, code, msg, details))
			if sse {
				_, _ = w.Write([]byte("data: " + body + "\n\n"))
			} else {
				_, _ = w.Write([]byte("," + body + "]"))
			}
			return
		}
		out, _ := json.Marshal(e)
		b.Reset()
		if sse {
			b.WriteString("data: ")
			b.Write(out)
			b.WriteString("\r\n\r\n")
		} else {
			if i == 0 {
				b.WriteString("[")
			} else {
				b.WriteString(",\r\n")
			}
			b.Write(out)
		}
		_, _ = w.Write([]byte(b.String()))
		if fl != nil {
			fl.Flush()
		}
	}
	if !sse {
		_, _ = w.Write([]byte("]"))
	}
}
