package main

import (
	"bufio"
	"net"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"
)

// serve starts the handler on an in-memory listener and returns a client
// for it.
func serve(t *testing.T) *fasthttp.Client {
	t.Helper()
	ln := fasthttputil.NewInmemoryListener()
	srv := &fasthttp.Server{Handler: handler(0, 0)}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	return &fasthttp.Client{Dial: func(string) (net.Conn, error) { return ln.Dial() }}
}

func post(t *testing.T, c *fasthttp.Client, path, body string, headers map[string]string) (int, string, string) {
	t.Helper()
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://fake" + path)
	req.Header.SetMethod("POST")
	req.Header.SetContentType("application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	req.SetBodyString(body)
	if err := c.Do(req, resp); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode(), string(resp.Header.ContentType()), string(resp.Body())
}

var anthropicHeaders = map[string]string{"x-api-key": "sk-ant-test", "anthropic-version": "2023-06-01"}

const validMessages = `{"model":"claude-x","max_tokens":32,"messages":[{"role":"user","content":"Hi"}]}`

func TestMessagesRejectsAsAnthropicDoes(t *testing.T) {
	t.Parallel()
	c := serve(t)
	tests := []struct {
		name    string
		headers map[string]string
		body    string
		status  int
		errType string
		msg     string
	}{
		{"no key", map[string]string{"anthropic-version": "2023-06-01"}, validMessages, 401, "authentication_error", "x-api-key"},
		{"no version", map[string]string{"x-api-key": "k"}, validMessages, 400, "invalid_request_error", "anthropic-version"},
		{"not JSON", anthropicHeaders, `{`, 400, "invalid_request_error", "valid JSON"},
		{"no model", anthropicHeaders, `{"max_tokens":1,"messages":[{"role":"user","content":"x"}]}`, 400, "invalid_request_error", "model: Field required"},
		{"no max_tokens", anthropicHeaders, `{"model":"m","messages":[{"role":"user","content":"x"}]}`, 400, "invalid_request_error", "max_tokens: Field required"},
		{"no messages", anthropicHeaders, `{"model":"m","max_tokens":1}`, 400, "invalid_request_error", "messages: Field required"},
		{"empty messages", anthropicHeaders, `{"model":"m","max_tokens":1,"messages":[]}`, 400, "invalid_request_error", "at least one message"},
	}
	for _, tt := range tests {
		status, _, body := post(t, c, "/v1/messages", tt.body, tt.headers)
		if status != tt.status || gjson.Get(body, "type").Str != "error" || gjson.Get(body, "error.type").Str != tt.errType ||
			!strings.Contains(gjson.Get(body, "error.message").Str, tt.msg) {
			t.Errorf("%s: got %d %s", tt.name, status, body)
		}
	}
}

func TestMessagesUnary(t *testing.T) {
	t.Parallel()
	status, ct, body := post(t, serve(t), "/v1/messages", `{"model":"claude-\"x","max_tokens":32,"messages":[{"role":"user","content":"Hi"}]}`, anthropicHeaders)
	if status != 200 || ct != "application/json" || !gjson.Valid(body) {
		t.Fatalf("got %d %s %s", status, ct, body)
	}
	r := gjson.Parse(body)
	if !strings.HasPrefix(r.Get("id").Str, "msg_") || r.Get("type").Str != "message" || r.Get("role").Str != "assistant" ||
		r.Get("model").Str != `claude-"x` || r.Get("content.0.type").Str != "text" || r.Get("content.0.text").Str == "" ||
		r.Get("stop_reason").Str != "end_turn" || r.Get("usage.input_tokens").Int() != 12 || r.Get("usage.output_tokens").Int() != 7 ||
		!r.Get("usage.cache_read_input_tokens").Exists() || !r.Get("usage.cache_creation_input_tokens").Exists() {
		t.Errorf("not an Anthropic message: %s", body)
	}
}

func TestMessagesStream(t *testing.T) {
	t.Parallel()
	status, ct, body := post(t, serve(t), "/v1/messages", `{"model":"claude-x","max_tokens":32,"stream":true,"messages":[{"role":"user","content":"Hi"}]}`, anthropicHeaders)
	if status != 200 || !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("got %d %s", status, ct)
	}
	var events []string
	var text strings.Builder
	s := bufio.NewScanner(strings.NewReader(body))
	event := ""
	for s.Scan() {
		line := s.Text()
		if v, ok := strings.CutPrefix(line, "event: "); ok {
			event = v
			continue
		}
		if v, ok := strings.CutPrefix(line, "data: "); ok {
			if !gjson.Valid(v) || gjson.Get(v, "type").Str != event {
				t.Fatalf("event %s: data %s", event, v)
			}
			events = append(events, event)
			if event == "content_block_delta" {
				text.WriteString(gjson.Get(v, "delta.text").Str)
			}
			if event == "message_start" && gjson.Get(v, "message.model").Str != "claude-x" {
				t.Errorf("message_start: %s", v)
			}
			if event == "message_delta" && (gjson.Get(v, "delta.stop_reason").Str != "end_turn" || gjson.Get(v, "usage.output_tokens").Int() != 7) {
				t.Errorf("message_delta: %s", v)
			}
		}
	}
	want := "message_start content_block_start ping content_block_delta content_block_delta content_block_stop message_delta message_stop"
	if got := strings.Join(events, " "); got != want {
		t.Errorf("events %q, want %q", got, want)
	}
	if text.String() != "Hello from the fake upstream." {
		t.Errorf("text %q", text.String())
	}
}

// The chat path is unchanged.
func TestChatStillServed(t *testing.T) {
	t.Parallel()
	status, _, body := post(t, serve(t), "/v1/chat/completions", `{"model":"m","messages":[]}`, nil)
	if status != 200 || gjson.Get(body, "object").Str != "chat.completion" {
		t.Errorf("got %d %s", status, body)
	}
}

func BenchmarkMessagesUnary(b *testing.B) {
	h := handler(0, 0)
	var ctx fasthttp.RequestCtx
	ctx.Request.Header.SetMethod("POST")
	ctx.Request.SetRequestURI("/v1/messages")
	ctx.Request.Header.Set("x-api-key", "k")
	ctx.Request.Header.Set("anthropic-version", "2023-06-01")
	ctx.Request.SetBodyString(validMessages)
	b.ReportAllocs()
	for b.Loop() {
		ctx.Response.Reset()
		h(&ctx)
	}
}

func BenchmarkChatUnary(b *testing.B) {
	h := handler(0, 0)
	var ctx fasthttp.RequestCtx
	ctx.Request.Header.SetMethod("POST")
	ctx.Request.SetRequestURI("/v1/chat/completions")
	ctx.Request.SetBodyString(`{"model":"gpt-fake","messages":[{"role":"user","content":"Hi"}],"max_tokens":32}`)
	b.ReportAllocs()
	for b.Loop() {
		ctx.Response.Reset()
		h(&ctx)
	}
}
