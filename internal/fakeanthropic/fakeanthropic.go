// Package fakeanthropic is an in-process fake of Anthropic's Messages API
// on 127.0.0.1, for tests of the anthropic provider and of the gateway
// end to end.
//
// It validates requests the way the real API does, so that a test passes
// only if Anthropic would accept the request:
//
//   - POST /v1/messages and /v1/messages/count_tokens only;
//   - x-api-key equal to Options.APIKey (401 authentication_error);
//     anthropic-version present (400);
//   - a JSON body with no unknown top-level field ("Extra inputs are not
//     permitted"), a model, max_tokens a positive integer (messages
//     only), non-empty messages whose roles alternate user / assistant
//     starting with user, no "system" role (system is top-level only);
//   - well-formed content blocks: non-empty text, images with a base64
//     (jpeg, png, gif, webp) or url source, tool_use (id, name, object
//     input) in assistant turns only, tool_result in user turns only,
//     first in the turn, answering tool_use ids of the assistant turn just
//     before, and every tool_use answered in the next user turn; thinking
//     blocks in assistant turns; tools defined when tool blocks are used;
//   - tools with a name and an object input_schema; tool_choice auto,
//     any, none or tool naming a defined tool; thinking enabled with
//     budget_tokens >= 1024 and < max_tokens; stop_sequences without
//     white-space-only entries; a final assistant message not ending in
//     white space.
//
// It answers a Messages response (a thinking block when thinking is
// enabled; tool_use blocks when tool_choice forces a tool or
// Options.ToolCalls asks; else Options.Reply as text), a real event
// sequence when "stream" is true (message_start with usage and cache
// counts, ping, content_block_start / delta / stop, message_delta with
// usage, message_stop), {"input_tokens": N} for count_tokens, and errors
// in Anthropic's shape on demand (SetFailure). Every request is recorded.
package fakeanthropic

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// Options configure the fake. Zero values take the defaults shown.
type Options struct {
	// APIKey is the x-api-key the fake accepts ("sk-ant-fake-key").
	APIKey string
	// Reply is the text answer ("Hello from the fake Anthropic.").
	Reply string
	// Thinking is the thinking text when thinking is enabled
	// ("Let me think about that.").
	Thinking string
	// ToolCalls, when > 0 and the request defines tools, makes the answer
	// that many tool_use blocks (tools taken in turn) instead of text,
	// even when tool_choice does not force one. A forced tool_choice
	// answers one tool_use (ToolCalls of them if more).
	ToolCalls int
	// ToolInput is the input of every tool_use (`{"location":"Paris"}`).
	ToolInput string
	// StopReason overrides the stop_reason ("end_turn", or "tool_use").
	StopReason string
	// InputTokens, OutputTokens, CacheRead and CacheWrite are the usage
	// reported; InputTokens 0: an estimate of one token per 4 bytes of
	// the body; OutputTokens 0: one per 4 bytes of the answer.
	InputTokens, OutputTokens int
	CacheRead, CacheWrite     int
}

// Failure is an error the fake answers (SetFailure).
type Failure struct {
	Status     int    // HTTP status: 400, 401, 403, 404, 413, 429, 500, 529, ...
	Type       string // Anthropic error type; "" derives it from Status
	Message    string // "" : a message of the real API's kind
	RetryAfter string // the retry-after header, if any
	// InStream answers a stream request 200 and sends the error as an
	// `error` event after message_start and ping.
	InStream bool
}

// Request is one recorded request.
type Request struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

// Server is a running fake.
type Server struct {
	// URL is http://127.0.0.1:<port> (no /v1).
	URL string

	opts Options
	mu   sync.Mutex
	reqs []Request
	fail *Failure
	seq  int
}

// Start runs a fake until the test ends.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	if opts.APIKey == "" {
		opts.APIKey = "sk-ant-fake-key"
	}
	if opts.Reply == "" {
		opts.Reply = "Hello from the fake Anthropic."
	}
	if opts.Thinking == "" {
		opts.Thinking = "Let me think about that."
	}
	if opts.ToolInput == "" {
		opts.ToolInput = `{"location":"Paris"}`
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("fakeanthropic: %v", err)
	}
	s := &Server{URL: "http://" + ln.Addr().String(), opts: opts}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return s
}

// APIKey is the key the fake accepts.
func (s *Server) APIKey() string { return s.opts.APIKey }

// SetFailure makes every following request fail with f (nil: answer
// normally again). The request is still recorded, and checked first: a
// request the real API would refuse gets that refusal instead.
func (s *Server) SetFailure(f *Failure) {
	s.mu.Lock()
	s.fail = f
	s.mu.Unlock()
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// Last returns the last request; it fails the test if none was received.
func (s *Server) Last(tb testing.TB) Request {
	tb.Helper()
	r := s.Requests()
	if len(r) == 0 {
		tb.Fatal("fakeanthropic received no request")
	}
	return r[len(r)-1]
}

// ServeHTTP implements the fake API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 32<<20))
	s.mu.Lock()
	s.reqs = append(s.reqs, Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
	fail := s.fail
	s.seq++
	seq := s.seq
	s.mu.Unlock()

	countTokens := r.URL.Path == "/v1/messages/count_tokens"
	if r.URL.Path != "/v1/messages" && !countTokens {
		writeError(w, 404, "not_found_error", "Not Found", "")
		return
	}
	if r.Method != http.MethodPost {
		writeError(w, 405, "invalid_request_error", "Method Not Allowed", "")
		return
	}
	if r.Header.Get("x-api-key") != s.opts.APIKey {
		writeError(w, 401, "authentication_error", "invalid x-api-key", "")
		return
	}
	if r.Header.Get("anthropic-version") == "" {
		writeError(w, 400, "invalid_request_error", "anthropic-version: header is required", "")
		return
	}
	var req map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil {
		writeError(w, 400, "invalid_request_error", "There was an issue with your request body: it is not valid JSON", "")
		return
	}
	v, err := validate(req, countTokens)
	if err != "" {
		writeError(w, 400, "invalid_request_error", err, "")
		return
	}
	if fail != nil && !(fail.InStream && v.stream) {
		typ, msg := failureText(fail)
		writeError(w, fail.Status, typ, msg, fail.RetryAfter)
		return
	}
	if countTokens {
		n := s.opts.InputTokens
		if n == 0 {
			n = max(1, len(body)/4)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprintf(w, `{"input_tokens":%d}`, n)
		return
	}
	a := s.answer(v, len(body), seq)
	if v.stream {
		s.stream(w, a, fail)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("request-id", "req_fake_"+strconv.Itoa(seq))
	out, _ := json.Marshal(a.message())
	_, _ = w.Write(out)
}

func failureText(f *Failure) (typ, msg string) {
	typ, msg = f.Type, f.Message
	if typ == "" {
		typ = map[int]string{400: "invalid_request_error", 401: "authentication_error", 402: "billing_error",
			403: "permission_error", 404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error",
			500: "api_error", 504: "timeout_error", 529: "overloaded_error"}[f.Status]
		if typ == "" {
			typ = "api_error"
		}
	}
	if msg == "" {
		msg = map[string]string{"overloaded_error": "Overloaded", "rate_limit_error": "Number of request tokens has exceeded your per-minute rate limit",
			"api_error": "Internal server error", "request_too_large": "Request exceeds the maximum allowed number of bytes.",
			"not_found_error": "model: not found", "permission_error": "Your API key does not have permission to use the specified resource.",
			"authentication_error": "invalid x-api-key"}[typ]
		if msg == "" {
			msg = "error"
		}
	}
	return typ, msg
}

func writeError(w http.ResponseWriter, status int, typ, msg, retryAfter string) {
	w.Header().Set("Content-Type", "application/json")
	if retryAfter != "" {
		w.Header().Set("retry-after", retryAfter)
	}
	w.WriteHeader(status)
	out, _ := json.Marshal(map[string]any{"type": "error", "error": map[string]string{"type": typ, "message": msg}})
	_, _ = w.Write(out)
}

// valid is what the answer needs of a validated request.
type valid struct {
	model     string
	stream    bool
	thinking  bool
	tools     []string
	forced    string // the tool tool_choice forces ("" none; "*" any)
	maxTokens int
}

var (
	knownMessages = map[string]bool{"model": true, "messages": true, "max_tokens": true, "system": true, "metadata": true,
		"stop_sequences": true, "stream": true, "temperature": true, "top_p": true, "top_k": true, "tools": true,
		"tool_choice": true, "thinking": true, "service_tier": true, "container": true, "mcp_servers": true,
		"context_management": true, "cache_control": true, "inference_geo": true, "output_config": true}
	knownCount = map[string]bool{"model": true, "messages": true, "system": true, "tools": true, "tool_choice": true,
		"thinking": true, "mcp_servers": true, "context_management": true, "cache_control": true, "output_config": true}
	toolIDPattern   = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)
	toolNamePattern = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,128}$`)
)

// validate checks req as the real API does; the error is its message.
func validate(req map[string]json.RawMessage, countTokens bool) (v valid, _ string) {
	known := knownMessages
	if countTokens {
		known = knownCount
	}
	for k := range req {
		if !known[k] {
			return v, k + ": Extra inputs are not permitted"
		}
	}
	if err := str(req["model"], &v.model); err != "" || v.model == "" {
		return v, "model: Field required"
	}
	if !countTokens {
		var n json.Number
		if req["max_tokens"] == nil {
			return v, "max_tokens: Field required"
		}
		if json.Unmarshal(req["max_tokens"], &n) != nil {
			return v, "max_tokens: Input should be a valid integer"
		}
		i, err := n.Int64()
		if err != nil || i < 1 {
			return v, "max_tokens: Input should be a valid integer greater than or equal to 1"
		}
		v.maxTokens = int(i)
		if raw := req["stream"]; raw != nil && json.Unmarshal(raw, &v.stream) != nil {
			return v, "stream: Input should be a valid boolean"
		}
	}
	if raw := req["system"]; raw != nil {
		var s string
		var blocks []map[string]any
		if json.Unmarshal(raw, &s) != nil {
			if json.Unmarshal(raw, &blocks) != nil {
				return v, "system: Input should be a valid string or a list of text blocks"
			}
			for i, b := range blocks {
				if b["type"] != "text" {
					return v, fmt.Sprintf("system.%d.type: Input should be 'text'", i)
				}
				if t, _ := b["text"].(string); strings.TrimSpace(t) == "" {
					return v, fmt.Sprintf("system.%d.text: text content blocks must contain non-whitespace text", i)
				}
			}
		}
	}
	// Tools.
	if raw := req["tools"]; raw != nil {
		var tools []map[string]json.RawMessage
		if json.Unmarshal(raw, &tools) != nil {
			return v, "tools: Input should be a valid list"
		}
		for i, t := range tools {
			var name, typ string
			_ = str(t["name"], &name)
			_ = str(t["type"], &typ)
			if !toolNamePattern.MatchString(name) {
				return v, fmt.Sprintf("tools.%d.name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'", i)
			}
			if typ == "" || typ == "custom" {
				var schema map[string]any
				if json.Unmarshal(t["input_schema"], &schema) != nil || schema == nil {
					return v, fmt.Sprintf("tools.%d.input_schema: Field required", i)
				}
				if schema["type"] != "object" {
					return v, fmt.Sprintf("tools.%d.input_schema.type: Input should be 'object'", i)
				}
				for k := range t {
					switch k {
					case "name", "description", "input_schema", "cache_control", "type":
					default:
						return v, fmt.Sprintf("tools.%d.%s: Extra inputs are not permitted", i, k)
					}
				}
			}
			v.tools = append(v.tools, name)
		}
	}
	if raw := req["tool_choice"]; raw != nil {
		var tc map[string]any
		if json.Unmarshal(raw, &tc) != nil {
			return v, "tool_choice: Input should be an object"
		}
		switch tc["type"] {
		case "auto", "none":
		case "any":
			v.forced = "*"
		case "tool":
			name, _ := tc["name"].(string)
			found := false
			for _, t := range v.tools {
				found = found || t == name
			}
			if !found {
				return v, "tool_choice.name: tool " + strconv.Quote(name) + " is not defined in tools"
			}
			v.forced = name
		default:
			return v, "tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'"
		}
		for k := range tc {
			switch k {
			case "type", "name", "disable_parallel_tool_use":
			default:
				return v, "tool_choice." + k + ": Extra inputs are not permitted"
			}
		}
		if v.forced != "" && len(v.tools) == 0 {
			return v, "tool_choice: tool_choice may only be specified while providing tools."
		}
	}
	if raw := req["thinking"]; raw != nil {
		var th struct {
			Type   string `json:"type"`
			Budget *int   `json:"budget_tokens"`
		}
		if json.Unmarshal(raw, &th) != nil {
			return v, "thinking: Input should be an object"
		}
		switch th.Type {
		case "enabled":
			if th.Budget == nil {
				return v, "thinking.enabled.budget_tokens: Field required"
			}
			if *th.Budget < 1024 {
				return v, "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"
			}
			if !countTokens && *th.Budget >= v.maxTokens {
				return v, "`max_tokens` must be greater than `thinking.budget_tokens`"
			}
			v.thinking = true
			if v.forced != "" {
				return v, "Thinking may not be enabled when tool_choice forces tool use."
			}
		case "disabled", "adaptive":
		default:
			return v, "thinking.type: Input should be 'enabled', 'disabled' or 'adaptive'"
		}
	}
	if raw := req["stop_sequences"]; raw != nil {
		var stops []string
		if json.Unmarshal(raw, &stops) != nil {
			return v, "stop_sequences: Input should be a valid list of strings"
		}
		for _, s := range stops {
			if strings.TrimSpace(s) == "" {
				return v, "stop_sequences: each stop sequence must contain non-whitespace"
			}
		}
	}
	if raw := req["metadata"]; raw != nil {
		var md map[string]json.RawMessage
		if json.Unmarshal(raw, &md) != nil {
			return v, "metadata: Input should be an object"
		}
		for k, val := range md {
			var s string
			if k != "user_id" {
				return v, "metadata." + k + ": Extra inputs are not permitted"
			}
			if json.Unmarshal(val, &s) != nil {
				return v, "metadata.user_id: Input should be a valid string"
			}
		}
	}
	for _, f := range []string{"temperature", "top_p"} {
		if raw := req[f]; raw != nil {
			var x float64
			if json.Unmarshal(raw, &x) != nil || x < 0 || x > 1 {
				return v, f + ": Input should be a number between 0 and 1"
			}
		}
	}
	return v, validateMessages(req["messages"], len(v.tools) > 0)
}

type block map[string]json.RawMessage

func (b block) str(k string) string {
	var s string
	_ = json.Unmarshal(b[k], &s)
	return s
}

func str(raw json.RawMessage, dst *string) string {
	if raw == nil || json.Unmarshal(raw, dst) != nil {
		return "not a string"
	}
	return ""
}

// validateMessages checks the messages array ("" when valid).
func validateMessages(raw json.RawMessage, hasTools bool) string {
	var msgs []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	}
	if raw == nil {
		return "messages: Field required"
	}
	if json.Unmarshal(raw, &msgs) != nil {
		return "messages: Input should be a valid list"
	}
	if len(msgs) == 0 {
		return "messages: at least one message is required"
	}
	var pendingToolUse map[string]bool // tool_use ids of the previous assistant turn
	for i, m := range msgs {
		switch m.Role {
		case "user", "assistant":
		case "system":
			return fmt.Sprintf("messages.%d.role: Unexpected role \"system\". The Messages API accepts a top-level `system` parameter, not \"system\" as an input message role.", i)
		default:
			return fmt.Sprintf("messages.%d.role: Input should be 'user' or 'assistant'", i)
		}
		if i == 0 && m.Role != "user" {
			return "messages: first message must use the \"user\" role"
		}
		if i > 0 && msgs[i-1].Role == m.Role {
			return "messages: roles must alternate between \"user\" and \"assistant\", but found multiple \"" + m.Role + "\" roles in a row"
		}
		var blocks []block
		var s string
		if json.Unmarshal(m.Content, &s) == nil {
			if s == "" && !(i == len(msgs)-1 && m.Role == "assistant") {
				return fmt.Sprintf("messages.%d: all messages must have non-empty content except for the optional final assistant message", i)
			}
			blocks = []block{{"type": json.RawMessage(`"text"`), "text": m.Content}}
		} else if json.Unmarshal(m.Content, &blocks) != nil {
			return fmt.Sprintf("messages.%d.content: Input should be a valid string or list of content blocks", i)
		} else if len(blocks) == 0 {
			return fmt.Sprintf("messages.%d: all messages must have non-empty content except for the optional final assistant message", i)
		}
		toolUses := map[string]bool{}
		answered := map[string]bool{}
		seenOther := false
		for j, b := range blocks {
			at := fmt.Sprintf("messages.%d.content.%d", i, j)
			switch typ := b.str("type"); typ {
			case "text":
				t := b.str("text")
				if t == "" {
					return at + ".text: text content blocks must be non-empty"
				}
				if strings.TrimSpace(t) == "" {
					return at + ".text: text content blocks must contain non-whitespace text"
				}
				if i == len(msgs)-1 && m.Role == "assistant" && j == len(blocks)-1 && strings.TrimRight(t, " \t\r\n") != t {
					return "final assistant content cannot end with trailing whitespace"
				}
				seenOther = true
			case "image", "document":
				var src struct {
					Type      string `json:"type"`
					MediaType string `json:"media_type"`
					Data      string `json:"data"`
					URL       string `json:"url"`
				}
				if json.Unmarshal(b["source"], &src) != nil {
					return at + ".source: Field required"
				}
				switch src.Type {
				case "base64":
					ok := map[string]bool{"image/jpeg": true, "image/png": true, "image/gif": true, "image/webp": true}[src.MediaType]
					if typ == "document" {
						ok = src.MediaType == "application/pdf"
					}
					if !ok {
						return at + ".source.base64.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'"
					}
					if src.Data == "" {
						return at + ".source.base64.data: Field required"
					}
				case "url":
					if !strings.HasPrefix(src.URL, "https://") && !strings.HasPrefix(src.URL, "http://") {
						return at + ".source.url.url: Input should be a valid URL"
					}
				default:
					return at + ".source.type: Input should be 'base64' or 'url'"
				}
				seenOther = true
			case "tool_use":
				if m.Role != "assistant" {
					return at + ": tool_use blocks may only appear in assistant messages"
				}
				id := b.str("id")
				if !toolIDPattern.MatchString(id) {
					return at + ".id: String should match pattern '^[a-zA-Z0-9_-]+$'"
				}
				if b.str("name") == "" {
					return at + ".name: Field required"
				}
				var input map[string]any
				if json.Unmarshal(b["input"], &input) != nil || input == nil {
					return at + ".input: Input should be a valid dictionary"
				}
				toolUses[id] = true
			case "tool_result":
				if m.Role != "user" {
					return at + ": tool_result blocks may only appear in user messages"
				}
				id := b.str("tool_use_id")
				if !pendingToolUse[id] {
					return at + ": unexpected `tool_use_id` found in `tool_result` blocks: " + id + ". Each `tool_result` block must have a corresponding `tool_use` block in the previous message."
				}
				if seenOther {
					return at + ": tool_result blocks must come first in the user message content, before any other content"
				}
				if c := b["content"]; c != nil {
					var cs string
					var cb []block
					if json.Unmarshal(c, &cs) != nil && json.Unmarshal(c, &cb) != nil {
						return at + ".content: Input should be a valid string or list of content blocks"
					}
					for k, x := range cb {
						if t := x.str("type"); t != "text" && t != "image" && t != "document" {
							return fmt.Sprintf("%s.content.%d.type: Input should be 'text', 'image' or 'document'", at, k)
						}
						if x.str("type") == "text" && strings.TrimSpace(x.str("text")) == "" {
							return fmt.Sprintf("%s.content.%d.text: text content blocks must be non-empty", at, k)
						}
					}
				}
				answered[id] = true
			case "thinking":
				if m.Role != "assistant" {
					return at + ": thinking blocks may only appear in assistant messages"
				}
				if b["thinking"] == nil || b.str("signature") == "" {
					return at + ".signature: Field required"
				}
			case "redacted_thinking":
				if m.Role != "assistant" || b.str("data") == "" {
					return at + ": invalid redacted_thinking block"
				}
			default:
				return at + ".type: Input tag '" + typ + "' found using 'type' does not match any of the expected tags"
			}
		}
		if m.Role == "user" {
			for id := range pendingToolUse {
				if !answered[id] {
					return fmt.Sprintf("messages.%d: `tool_use` ids were found without `tool_result` blocks immediately after: %s. Each `tool_use` block must have a corresponding `tool_result` block in the next message.", i, id)
				}
			}
			pendingToolUse = nil
			if len(answered) > 0 && !hasTools {
				return "Requests which include `tool_use` or `tool_result` blocks must define tools."
			}
		} else {
			pendingToolUse = toolUses
			if len(toolUses) > 0 && !hasTools {
				return "Requests which include `tool_use` or `tool_result` blocks must define tools."
			}
		}
	}
	return ""
}

// answer is the content the fake answers.
type answer struct {
	id, model                     string
	thinking, signature, text     string
	tools                         []toolUse
	stop                          string
	input, output, cacheR, cacheW int
}

type toolUse struct{ id, name, input string }

func (s *Server) answer(v valid, bodyLen, seq int) *answer {
	a := &answer{id: "msg_fake_" + strconv.Itoa(seq), model: v.model, stop: "end_turn",
		cacheR: s.opts.CacheRead, cacheW: s.opts.CacheWrite}
	if v.thinking {
		a.thinking, a.signature = s.opts.Thinking, "sig_fake_"+strconv.Itoa(seq)
	}
	n := 0
	switch {
	case v.forced != "":
		n = max(1, s.opts.ToolCalls)
	case len(v.tools) > 0:
		n = s.opts.ToolCalls
	}
	for i := range n {
		name := v.forced
		if name == "" || name == "*" {
			name = v.tools[i%len(v.tools)]
		}
		a.tools = append(a.tools, toolUse{id: fmt.Sprintf("toolu_fake_%d_%d", seq, i), name: name, input: s.opts.ToolInput})
	}
	if n > 0 {
		a.stop = "tool_use"
	} else {
		a.text = s.opts.Reply
	}
	if s.opts.StopReason != "" {
		a.stop = s.opts.StopReason
	}
	a.input = s.opts.InputTokens
	if a.input == 0 {
		a.input = max(1, bodyLen/4)
	}
	a.output = s.opts.OutputTokens
	if a.output == 0 {
		a.output = max(1, (len(a.text)+len(a.thinking)+len(a.tools)*len(s.opts.ToolInput))/4)
	}
	return a
}

func (a *answer) blocks() []map[string]any {
	var out []map[string]any
	if a.thinking != "" {
		out = append(out, map[string]any{"type": "thinking", "thinking": a.thinking, "signature": a.signature})
	}
	if a.text != "" {
		out = append(out, map[string]any{"type": "text", "text": a.text})
	}
	for _, t := range a.tools {
		out = append(out, map[string]any{"type": "tool_use", "id": t.id, "name": t.name, "input": json.RawMessage(t.input)})
	}
	return out
}

func (a *answer) usage(output int) map[string]any {
	return map[string]any{"input_tokens": a.input, "output_tokens": output,
		"cache_creation_input_tokens": a.cacheW, "cache_read_input_tokens": a.cacheR}
}

func (a *answer) message() map[string]any {
	return map[string]any{"id": a.id, "type": "message", "role": "assistant", "model": a.model,
		"content": a.blocks(), "stop_reason": a.stop, "stop_sequence": nil, "usage": a.usage(a.output)}
}

// stream writes the answer as Anthropic's event sequence.
func (s *Server) stream(w http.ResponseWriter, a *answer, fail *Failure) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(200)
	fl, _ := w.(http.Flusher)
	send := func(event string, data any) {
		b, _ := json.Marshal(data)
		_, _ = fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b)
		if fl != nil {
			fl.Flush()
		}
	}
	start := a.message()
	start["content"] = []any{}
	start["stop_reason"] = nil
	start["usage"] = a.usage(1)
	send("message_start", map[string]any{"type": "message_start", "message": start})
	send("ping", map[string]any{"type": "ping"})
	if fail != nil {
		typ, msg := failureText(fail)
		send("error", map[string]any{"type": "error", "error": map[string]string{"type": typ, "message": msg}})
		return
	}
	idx := 0
	if a.thinking != "" {
		send("content_block_start", map[string]any{"type": "content_block_start", "index": idx,
			"content_block": map[string]any{"type": "thinking", "thinking": "", "signature": ""}})
		for _, p := range pieces(a.thinking) {
			send("content_block_delta", map[string]any{"type": "content_block_delta", "index": idx,
				"delta": map[string]any{"type": "thinking_delta", "thinking": p}})
		}
		send("content_block_delta", map[string]any{"type": "content_block_delta", "index": idx,
			"delta": map[string]any{"type": "signature_delta", "signature": a.signature}})
		send("content_block_stop", map[string]any{"type": "content_block_stop", "index": idx})
		idx++
	}
	if a.text != "" {
		send("content_block_start", map[string]any{"type": "content_block_start", "index": idx,
			"content_block": map[string]any{"type": "text", "text": ""}})
		for _, p := range pieces(a.text) {
			send("content_block_delta", map[string]any{"type": "content_block_delta", "index": idx,
				"delta": map[string]any{"type": "text_delta", "text": p}})
		}
		send("content_block_stop", map[string]any{"type": "content_block_stop", "index": idx})
		idx++
	}
	for _, t := range a.tools {
		send("content_block_start", map[string]any{"type": "content_block_start", "index": idx,
			"content_block": map[string]any{"type": "tool_use", "id": t.id, "name": t.name, "input": map[string]any{}}})
		// Like the real API: a first empty fragment, then the JSON in pieces.
		frags := append([]string{""}, halves(t.input)...)
		for _, f := range frags {
			send("content_block_delta", map[string]any{"type": "content_block_delta", "index": idx,
				"delta": map[string]any{"type": "input_json_delta", "partial_json": f}})
		}
		send("content_block_stop", map[string]any{"type": "content_block_stop", "index": idx})
		idx++
	}
	// The usage of message_delta is cumulative and complete.
	send("message_delta", map[string]any{"type": "message_delta",
		"delta": map[string]any{"stop_reason": a.stop, "stop_sequence": nil}, "usage": a.usage(a.output)})
	send("message_stop", map[string]any{"type": "message_stop"})
}

// pieces splits s after each space, as a model's tokens come.
func pieces(s string) []string {
	var out []string
	for s != "" {
		i := strings.IndexByte(s, ' ')
		if i < 0 {
			out = append(out, s)
			break
		}
		out = append(out, s[:i+1])
		s = s[i+1:]
	}
	return out
}

// halves splits s in two on a rune boundary.
func halves(s string) []string {
	i := len(s) / 2
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	if i == 0 {
		return []string{s}
	}
	return []string{s[:i], s[i:]}
}
