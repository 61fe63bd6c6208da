package anthropic_test

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/internal/fakeanthropic"
	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/providers/anthropic"
	"github.com/llmgateway/gateway/providers/registry"
	"github.com/llmgateway/gateway/wire"
)

const testKey = "sk-ant-api03-secret-0123456789abcdef"

var client = providers.NewClient()

func prov() *anthropic.Provider { return anthropic.New(client).(*anthropic.Provider) }

func deployment(base string) *configs.Deployment {
	return &configs.Deployment{ModelName: "claude", Provider: "anthropic", UpstreamModel: "claude-sonnet-4-5",
		APIKey: testKey, LiteLLMParams: configs.LiteLLMParams{Model: "anthropic/claude-sonnet-4-5", APIBase: base}}
}

func start(t *testing.T, o fakeanthropic.Options) (*fakeanthropic.Server, *configs.Deployment) {
	t.Helper()
	o.APIKey = testKey
	up := fakeanthropic.Start(t, o)
	return up, deployment(up.URL)
}

func chatCall(d *configs.Deployment, body string) *providers.Call {
	return &providers.Call{Deployment: d, Body: []byte(body), Deadline: time.Now().Add(10 * time.Second)}
}

const hello = `{"model":"claude-sonnet-4-5","messages":[{"role":"system","content":"Be nice."},{"role":"user","content":"Hello"}],"frequency_penalty":1,"seed":3}`

const weatherTools = `"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"location":{"type":"string"}}}}},
	{"type":"function","function":{"name":"get_time","parameters":{"type":"object","properties":{}}}}]`

// drain reads a stream to its end: the chunks, and the final error
// (nil for io.EOF).
func drain(t *testing.T, s providers.Stream) ([]gjson.Result, error) {
	t.Helper()
	defer s.Close()
	var out []gjson.Result
	for {
		c, err := s.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		if !json.Valid(c) {
			t.Fatalf("chunk is not JSON: %s", c)
		}
		out = append(out, gjson.ParseBytes(append([]byte(nil), c...)))
	}
}

func wireErr(t *testing.T, err error, status int) *wire.Error {
	t.Helper()
	we, ok := errors.AsType[*wire.Error](err)
	if !ok {
		t.Fatalf("error %v (%T), want a *wire.Error", err, err)
	}
	if we.Status != status {
		t.Fatalf("status %d, want %d: %v", we.Status, status, we)
	}
	if strings.Contains(we.Message+we.Internal+we.Type, testKey) {
		t.Fatalf("the key leaks: %+v", we)
	}
	return we
}

func TestCompleteText(t *testing.T) {
	t.Parallel()
	up, d := start(t, fakeanthropic.Options{Reply: "Bonjour!", CacheRead: 10, CacheWrite: 5, InputTokens: 20, OutputTokens: 3})
	c := chatCall(d, hello)
	c.Header = []providers.Header{{Name: "anthropic-beta", Value: "extended-cache-ttl-2025-04-11"}}
	resp, err := prov().Complete(c)
	if err != nil {
		t.Fatal(err)
	}
	r := gjson.ParseBytes(resp.Body)
	if r.Get("object").Str != "chat.completion" || r.Get("choices.0.message.content").Str != "Bonjour!" ||
		r.Get("choices.0.finish_reason").Str != "stop" || r.Get("model").Str != "claude-sonnet-4-5" {
		t.Fatalf("answer %s", resp.Body)
	}
	if u := r.Get("usage"); u.Get("prompt_tokens").Int() != 35 || u.Get("completion_tokens").Int() != 3 ||
		u.Get("total_tokens").Int() != 38 || u.Get("prompt_tokens_details.cached_tokens").Int() != 10 ||
		u.Get("cache_creation_input_tokens").Int() != 5 || u.Get("cache_read_input_tokens").Int() != 10 {
		t.Fatalf("usage %s", u.Raw)
	}
	req := up.Last(t)
	if req.Path != "/v1/messages" || req.Header.Get("x-api-key") != testKey || req.Header.Get("anthropic-version") != "2023-06-01" ||
		req.Header.Get("anthropic-beta") != "extended-cache-ttl-2025-04-11" {
		t.Fatalf("request %s %v", req.Path, req.Header)
	}
	if b := gjson.ParseBytes(req.Body); b.Get("max_tokens").Int() != 64000 || b.Get("system.0.text").Str != "Be nice." ||
		b.Get("stream").Exists() || b.Get("seed").Exists() {
		t.Fatalf("upstream body %s", req.Body)
	}
}

func TestCompleteToolsAndAPIBaseWithV1(t *testing.T) {
	t.Parallel()
	up, d := start(t, fakeanthropic.Options{ToolCalls: 2, ToolInput: `{"location":"Paris"}`})
	d.LiteLLMParams.APIBase = up.URL + "/v1/"
	d.LiteLLMParams.APIVersion = "2024-01-01"
	resp, err := prov().Complete(chatCall(d, `{"model":"claude-sonnet-4-5","max_tokens":100,`+weatherTools+`,"tool_choice":"auto",
		"messages":[{"role":"user","content":"Weather?"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	r := gjson.ParseBytes(resp.Body)
	calls := r.Get("choices.0.message.tool_calls").Array()
	if len(calls) != 2 || calls[0].Get("function.name").Str != "get_weather" || calls[1].Get("function.name").Str != "get_time" ||
		calls[0].Get("function.arguments").Str != `{"location":"Paris"}` || calls[0].Get("type").Str != "function" ||
		r.Get("choices.0.finish_reason").Str != "tool_calls" {
		t.Fatalf("answer %s", resp.Body)
	}
	if v := up.Last(t).Header.Get("anthropic-version"); v != "2024-01-01" {
		t.Fatalf("anthropic-version %q", v)
	}
	d.LiteLLMParams.APIBase = up.URL + "/v1/messages"
	if _, err := prov().Complete(chatCall(d, hello)); err != nil || up.Last(t).Path != "/v1/messages" {
		t.Fatalf("api_base ending in /v1/messages: %v %s", err, up.Last(t).Path)
	}
	// The answer's tool calls and their results make a valid next turn.
	next := `{"model":"claude-sonnet-4-5","max_tokens":100,` + weatherTools + `,"messages":[{"role":"user","content":"Weather?"},` +
		r.Get("choices.0.message").Raw + `,{"role":"tool","tool_call_id":"` + calls[0].Get("id").Str + `","content":"Sunny"},` +
		`{"role":"tool","tool_call_id":"` + calls[1].Get("id").Str + `","content":"Noon"}]}`
	if _, err := prov().Complete(chatCall(d, next)); err != nil {
		t.Fatalf("follow-up turn refused: %v", err)
	}
}

func TestCompleteThinkingAndJSONMode(t *testing.T) {
	t.Parallel()
	_, d := start(t, fakeanthropic.Options{Thinking: "Hmm."})
	resp, err := prov().Complete(chatCall(d, `{"model":"claude-sonnet-4-5","reasoning_effort":"medium","messages":[{"role":"user","content":"Think"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	r := gjson.ParseBytes(resp.Body)
	if r.Get("choices.0.message.reasoning_content").Str != "Hmm." || r.Get("choices.0.message.thinking_blocks.0.signature").Str == "" {
		t.Fatalf("answer %s", resp.Body)
	}
	_, d = start(t, fakeanthropic.Options{ToolInput: `{"name":"Ada"}`})
	resp, err = prov().Complete(chatCall(d, `{"model":"claude-sonnet-4-5","response_format":{"type":"json_object"},"messages":[{"role":"user","content":"JSON please"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if r := gjson.ParseBytes(resp.Body); r.Get("choices.0.message.content").Str != `{"name":"Ada"}` || r.Get("choices.0.finish_reason").Str != "stop" {
		t.Fatalf("answer %s", resp.Body)
	}
}

func TestStreamText(t *testing.T) {
	t.Parallel()
	for _, includeUsage := range []bool{false, true} {
		up, d := start(t, fakeanthropic.Options{Reply: "One two three.", CacheRead: 7, InputTokens: 11, OutputTokens: 4})
		body := `{"model":"claude-sonnet-4-5","stream":true,"messages":[{"role":"user","content":"Count"}]}`
		if includeUsage {
			body = `{"model":"claude-sonnet-4-5","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Count"}]}`
		}
		s, err := prov().OpenStream(chatCall(d, body))
		if err != nil {
			t.Fatal(err)
		}
		chunks, err := drain(t, s)
		if err != nil {
			t.Fatal(err)
		}
		var text strings.Builder
		finish, id := "", chunks[0].Get("id").Str
		for _, c := range chunks {
			if c.Get("id").Str != id || c.Get("object").Str != "chat.completion.chunk" || c.Get("model").Str != "claude-sonnet-4-5" {
				t.Fatalf("chunk %s", c.Raw)
			}
			text.WriteString(c.Get("choices.0.delta.content").Str)
			if f := c.Get("choices.0.finish_reason"); f.Type == gjson.String {
				finish = f.Str
			}
		}
		if chunks[0].Get("choices.0.delta.role").Str != "assistant" || text.String() != "One two three." || finish != "stop" {
			t.Fatalf("chunks %v", chunks)
		}
		last := chunks[len(chunks)-1]
		if includeUsage != last.Get("usage").Exists() {
			t.Fatalf("include_usage %v, last chunk %s", includeUsage, last.Raw)
		}
		if includeUsage && (last.Get("usage.prompt_tokens").Int() != 18 || last.Get("usage.completion_tokens").Int() != 4 ||
			len(last.Get("choices").Array()) != 0 || !last.Get("choices").IsArray()) {
			t.Fatalf("usage chunk %s", last.Raw)
		}
		if !gjson.GetBytes(up.Last(t).Body, "stream").Bool() {
			t.Fatalf("upstream body without stream: %s", up.Last(t).Body)
		}
	}
}

func TestStreamTwoTools(t *testing.T) {
	t.Parallel()
	_, d := start(t, fakeanthropic.Options{ToolCalls: 2, ToolInput: `{"location":"Rome"}`, Thinking: "Tools."})
	s, err := prov().OpenStream(chatCall(d, `{"model":"claude-sonnet-4-5","max_tokens":5000,"reasoning_effort":"low",`+weatherTools+`,
		"messages":[{"role":"user","content":"Weather and time?"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	chunks, err := drain(t, s)
	if err != nil {
		t.Fatal(err)
	}
	args := map[int64]string{}
	names := map[int64]string{}
	var reasoning strings.Builder
	for _, c := range chunks {
		reasoning.WriteString(c.Get("choices.0.delta.reasoning_content").Str)
		for _, tc := range c.Get("choices.0.delta.tool_calls").Array() {
			i := tc.Get("index").Int()
			if n := tc.Get("function.name"); n.Exists() {
				names[i] = n.Str
				if tc.Get("id").Str == "" || tc.Get("type").Str != "function" {
					t.Fatalf("first tool delta %s", tc.Raw)
				}
			}
			args[i] += tc.Get("function.arguments").Str
		}
	}
	if names[0] != "get_weather" || names[1] != "get_time" || args[0] != `{"location":"Rome"}` || args[1] != `{"location":"Rome"}` ||
		reasoning.String() != "Tools." {
		t.Fatalf("names %v args %v reasoning %q", names, args, reasoning.String())
	}
	if f := chunks[len(chunks)-1].Get("choices.0.finish_reason").Str; f != "tool_calls" {
		t.Fatalf("finish %q", f)
	}
}

func TestForwardNative(t *testing.T) {
	t.Parallel()
	up, d := start(t, fakeanthropic.Options{InputTokens: 42})
	p := prov()
	msgs := `{"model":"claude-sonnet-4-5","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"Hi"}]}`
	c := chatCall(d, msgs)
	c.Endpoint = registry.EndpointMessages
	c.Header = []providers.Header{{Name: "anthropic-beta", Value: "prompt-caching-2024-07-31"}}
	s, err := p.ForwardStream(c)
	if err != nil {
		t.Fatal(err)
	}
	events, err := drain(t, s)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range events {
		types = append(types, e.Get("type").Str)
	}
	want := "message_start ping content_block_start content_block_delta content_block_delta content_block_delta content_block_delta content_block_delta content_block_stop message_delta message_stop"
	if got := strings.Join(types, " "); got != want {
		t.Fatalf("events %s\nwant   %s", got, want)
	}
	req := up.Last(t)
	if req.Header.Get("anthropic-beta") != "prompt-caching-2024-07-31" || string(req.Body) != msgs {
		t.Fatalf("forwarded %v %s", req.Header, req.Body)
	}

	c = chatCall(d, `{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"Hi"}]}`)
	c.Endpoint = registry.EndpointCountTokens
	resp, err := p.Forward(c)
	if err != nil {
		t.Fatal(err)
	}
	if string(resp.Body) != `{"input_tokens":42}` || up.Last(t).Path != "/v1/messages/count_tokens" {
		t.Fatalf("count_tokens %s %s", resp.Body, up.Last(t).Path)
	}

	c = chatCall(d, `{"model":"claude-sonnet-4-5","max_tokens":50,"messages":[{"role":"user","content":"Hi"}]}`)
	c.Endpoint = registry.EndpointMessages
	resp, err = p.Forward(c)
	if err != nil || gjson.GetBytes(resp.Body, "type").Str != "message" {
		t.Fatalf("messages %s %v", resp.Body, err)
	}

	c.Endpoint = registry.EndpointEmbeddings
	if _, err := p.Forward(c); err == nil {
		t.Fatal("embeddings forwarded")
	} else {
		wireErr(t, err, 404)
	}
}

// TestErrors: Anthropic's error statuses keep their status (and
// retry-after); chat callers get OpenAI's types, native callers
// Anthropic's; the key never shows.
func TestErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		status             int
		chatType, origType string
		prefix             bool
	}{
		{400, wire.TypeInvalidRequest, "invalid_request_error", false},
		{401, wire.TypeAuth, "authentication_error", false},
		{403, wire.TypePermission, "permission_error", false},
		{404, wire.TypeNotFound, "not_found_error", false},
		{413, wire.TypeInvalidRequest, "request_too_large", true},
		{429, wire.TypeRateLimit, "rate_limit_error", false},
		{500, wire.TypeUpstream, "api_error", true},
		{529, wire.TypeUpstream, "overloaded_error", true},
	} {
		up, d := start(t, fakeanthropic.Options{})
		up.SetFailure(&fakeanthropic.Failure{Status: c.status, RetryAfter: "7", Message: "failed for key " + testKey})
		_, err := prov().Complete(chatCall(d, hello))
		we := wireErr(t, err, c.status)
		if we.Type != c.chatType || strings.HasPrefix(we.Message, c.origType+": ") != c.prefix || !strings.Contains(we.Message, "failed for key sk-a****cdef") {
			t.Errorf("%d: chat error %+v", c.status, we)
		}
		if we.RetryAfter != 7 {
			t.Errorf("%d: retry-after %d", c.status, we.RetryAfter)
		}
		s, err := prov().OpenStream(chatCall(d, `{"model":"claude-sonnet-4-5","stream":true,"messages":[{"role":"user","content":"x"}]}`))
		if err == nil {
			s.Close()
			t.Fatalf("%d: stream opened", c.status)
		}
		if we := wireErr(t, err, c.status); we.Type != c.chatType {
			t.Errorf("%d: stream error %+v", c.status, we)
		}
		nc := chatCall(d, `{"model":"claude-sonnet-4-5","max_tokens":5,"messages":[{"role":"user","content":"x"}]}`)
		nc.Endpoint = registry.EndpointMessages
		_, err = prov().Forward(nc)
		if we := wireErr(t, err, c.status); we.Type != c.origType {
			t.Errorf("%d: native error %+v", c.status, we)
		}
	}
}

func TestWrongKeyAndInvalidRequestAreUpstreamErrors(t *testing.T) {
	t.Parallel()
	_, d := start(t, fakeanthropic.Options{})
	d.APIKey = "sk-ant-wrong-key-0123456789"
	_, err := prov().Complete(chatCall(d, hello))
	wireErr(t, err, 401)
}

func TestStreamErrorEvent(t *testing.T) {
	t.Parallel()
	up, d := start(t, fakeanthropic.Options{})
	up.SetFailure(&fakeanthropic.Failure{Status: 529, InStream: true, Message: "Overloaded " + testKey})
	s, err := prov().OpenStream(chatCall(d, `{"model":"claude-sonnet-4-5","stream":true,"messages":[{"role":"user","content":"x"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	chunks, err := drain(t, s)
	we := wireErr(t, err, 529)
	if len(chunks) != 1 || !strings.Contains(we.Message, "overloaded_error: Overloaded sk-a****cdef") {
		t.Fatalf("chunks %v, error %+v", chunks, we)
	}

	// Native: the error event is passed as is, scrubbed.
	up.SetFailure(&fakeanthropic.Failure{Status: 429, InStream: true, Message: "slow down " + testKey})
	c := chatCall(d, `{"model":"claude-sonnet-4-5","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"x"}]}`)
	c.Endpoint = registry.EndpointMessages
	s, err = prov().ForwardStream(c)
	if err != nil {
		t.Fatal(err)
	}
	events, err := drain(t, s)
	if err != nil {
		t.Fatal(err)
	}
	last := events[len(events)-1]
	if last.Get("type").Str != "error" || strings.Contains(last.Raw, testKey) || !strings.Contains(last.Raw, "sk-a****cdef") {
		t.Fatalf("error event %s", last.Raw)
	}
}

func TestBadRequestNeverCallsUpstream(t *testing.T) {
	t.Parallel()
	up, d := start(t, fakeanthropic.Options{})
	_, err := prov().Complete(chatCall(d, `{"model":"claude-sonnet-4-5","n":3,"messages":[{"role":"user","content":"x"}]}`))
	if we := wireErr(t, err, 400); !strings.Contains(we.Message, "n=1") {
		t.Fatalf("error %v", we)
	}
	if len(up.Requests()) != 0 {
		t.Fatal("the upstream was called")
	}
}

// TestKeyFromEnvironment: the operator's deployment without a key uses
// ANTHROPIC_API_KEY (scrubbed like a configured key); a team's is refused.
func TestKeyFromEnvironment(t *testing.T) {
	up, d := start(t, fakeanthropic.Options{})
	t.Setenv(anthropic.EnvAPIKey, testKey)
	d.APIKey = ""
	if _, err := prov().Complete(chatCall(d, hello)); err != nil {
		t.Fatal(err)
	}
	if up.Last(t).Header.Get("x-api-key") != testKey {
		t.Fatal("the environment key was not sent")
	}
	up.SetFailure(&fakeanthropic.Failure{Status: 400, Message: "echo " + testKey})
	_, err := prov().Complete(chatCall(d, hello))
	wireErr(t, err, 400)
	up.SetFailure(nil)

	team := *d
	team.ModelInfo = configs.ModelInfo{TeamID: "t1", Extra: map[string]any{configs.KeySetByField: configs.KeySetByTeam}}
	n := len(up.Requests())
	_, err = prov().Complete(chatCall(&team, hello))
	if we := wireErr(t, err, 401); !strings.Contains(we.Message, "api_key") {
		t.Fatalf("error %v", we)
	}
	if len(up.Requests()) != n {
		t.Fatal("a team deployment used the operator's key")
	}

	t.Setenv(anthropic.EnvAPIKey, "")
	_, err = prov().Complete(chatCall(d, hello))
	if we := wireErr(t, err, 401); !strings.Contains(we.Message, anthropic.EnvAPIKey) {
		t.Fatalf("error %v", we)
	}
}

// TestFakeRefusesWhatAnthropicRefuses: the fake is strict, so the
// translations above are proven acceptable.
func TestFakeRefusesWhatAnthropicRefuses(t *testing.T) {
	t.Parallel()
	_, d := start(t, fakeanthropic.Options{})
	for body, want := range map[string]string{
		`{"model":"m","messages":[{"role":"user","content":"x"}]}`:                                                       "max_tokens: Field required",
		`{"model":"m","max_tokens":5,"n":1,"messages":[{"role":"user","content":"x"}]}`:                                  "n: Extra inputs",
		`{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"},{"role":"user","content":"y"}]}`:          "roles must alternate",
		`{"model":"m","max_tokens":5,"messages":[{"role":"assistant","content":"x"}]}`:                                   "first message",
		`{"model":"m","max_tokens":5,"messages":[{"role":"system","content":"x"}]}`:                                      "top-level `system`",
		`{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"text","text":""}]}]}`:                "non-empty",
		`{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"a"}]}]}`: "corresponding `tool_use`",
	} {
		c := chatCall(d, body)
		c.Endpoint = registry.EndpointMessages
		_, err := prov().Forward(c)
		if we := wireErr(t, err, 400); !strings.Contains(we.Message, want) {
			t.Errorf("%s: %v, want %q", body, we, want)
		}
	}
}
