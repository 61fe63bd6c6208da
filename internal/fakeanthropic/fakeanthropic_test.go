package fakeanthropic

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func post(t *testing.T, s *Server, path, key, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", s.URL+path, strings.NewReader(body))
	req.Header.Set("x-api-key", key)
	req.Header.Set("anthropic-version", "2023-06-01")
	req.Header.Set("content-type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func TestValidation(t *testing.T) {
	t.Parallel()
	s := Start(t, Options{})
	tools := `"tools":[{"name":"f","input_schema":{"type":"object"}}]`
	for _, c := range []struct{ body, want string }{
		{`{"max_tokens":5,"messages":[{"role":"user","content":"x"}]}`, "model: Field required"},
		{`{"model":"m","max_tokens":-1,"messages":[{"role":"user","content":"x"}]}`, "greater than or equal to 1"},
		{`{"model":"m","max_tokens":5,"messages":[]}`, "at least one message"},
		{`{"model":"m","max_tokens":5,"temperature":1.5,"messages":[{"role":"user","content":"x"}]}`, "temperature"},
		{`{"model":"m","max_tokens":5,"stop_sequences":[" "],"messages":[{"role":"user","content":"x"}]}`, "non-whitespace"},
		{`{"model":"m","max_tokens":5,"metadata":{"user":"x"},"messages":[{"role":"user","content":"x"}]}`, "metadata.user"},
		{`{"model":"m","max_tokens":2000,"thinking":{"type":"enabled","budget_tokens":1024},"messages":[{"role":"user","content":"x"}]}`, ""},
		{`{"model":"m","max_tokens":1000,"thinking":{"type":"enabled","budget_tokens":1024},"messages":[{"role":"user","content":"x"}]}`, "greater than `thinking.budget_tokens`"},
		{`{"model":"m","max_tokens":5,"tool_choice":{"type":"tool","name":"g"},` + tools + `,"messages":[{"role":"user","content":"x"}]}`, "not defined"},
		{`{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"},{"role":"assistant","content":[{"type":"tool_use","id":"a","name":"f","input":{}}]}]}`, "must define tools"},
		{`{"model":"m","max_tokens":5,` + tools + `,"messages":[{"role":"user","content":"x"},{"role":"assistant","content":[{"type":"tool_use","id":"a.b","name":"f","input":{}}]}]}`, "String should match pattern"},
		{`{"model":"m","max_tokens":5,` + tools + `,"messages":[{"role":"user","content":"x"},{"role":"assistant","content":[{"type":"tool_use","id":"a","name":"f","input":{}}]},{"role":"user","content":"y"}]}`, "without `tool_result`"},
		{`{"model":"m","max_tokens":5,` + tools + `,"messages":[{"role":"user","content":"x"},{"role":"assistant","content":[{"type":"tool_use","id":"a","name":"f","input":{}}]},{"role":"user","content":[{"type":"text","text":"y"},{"type":"tool_result","tool_use_id":"a"}]}]}`, "must come first"},
		{`{"model":"m","max_tokens":5,` + tools + `,"messages":[{"role":"user","content":"x"},{"role":"assistant","content":[{"type":"tool_use","id":"a","name":"f","input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"a"},{"type":"text","text":"y"}]}]}`, ""},
		{`{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"},{"role":"assistant","content":"y "}]}`, "trailing whitespace"},
		{`{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/bmp","data":"AA"}}]}]}`, "media_type"},
	} {
		resp, body := post(t, s, "/v1/messages", s.APIKey(), c.body)
		if c.want == "" {
			if resp.StatusCode != 200 {
				t.Errorf("%s: %d %s, want 200", c.body, resp.StatusCode, body)
			}
			continue
		}
		if resp.StatusCode != 400 || !strings.Contains(body, c.want) || !strings.Contains(body, `"type":"invalid_request_error"`) {
			t.Errorf("%s: %d %s, want 400 with %q", c.body, resp.StatusCode, body, c.want)
		}
	}
	if resp, body := post(t, s, "/v1/messages", "wrong", `{}`); resp.StatusCode != 401 || !strings.Contains(body, "authentication_error") {
		t.Errorf("wrong key: %d %s", resp.StatusCode, body)
	}
	if got := len(s.Requests()); got != 17 {
		t.Errorf("%d requests recorded", got)
	}
}

func TestStreamSequenceAndFailures(t *testing.T) {
	t.Parallel()
	s := Start(t, Options{Reply: "a b", CacheRead: 3})
	resp, body := post(t, s, "/v1/messages", s.APIKey(), `{"model":"m","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"x"}]}`)
	if resp.Header.Get("content-type") != "text/event-stream" {
		t.Fatalf("content-type %q", resp.Header.Get("content-type"))
	}
	var events []string
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		if ev, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
			events = append(events, ev)
		}
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok && !json.Valid([]byte(data)) {
			t.Fatalf("data %q", data)
		}
	}
	want := "message_start ping content_block_start content_block_delta content_block_delta content_block_stop message_delta message_stop"
	if strings.Join(events, " ") != want || !strings.Contains(body, `"cache_read_input_tokens":3`) {
		t.Fatalf("events %v\n%s", events, body)
	}

	s.SetFailure(&Failure{Status: 429, RetryAfter: "12"})
	resp, body = post(t, s, "/v1/messages", s.APIKey(), `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}]}`)
	if resp.StatusCode != 429 || resp.Header.Get("retry-after") != "12" || !strings.Contains(body, `"type":"rate_limit_error"`) {
		t.Fatalf("429: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	s.SetFailure(&Failure{Status: 529})
	if resp, body = post(t, s, "/v1/messages/count_tokens", s.APIKey(), `{"model":"m","messages":[{"role":"user","content":"x"}]}`); resp.StatusCode != 529 ||
		!strings.Contains(body, "overloaded_error") {
		t.Fatalf("529: %d %s", resp.StatusCode, body)
	}
	s.SetFailure(nil)
	if resp, body = post(t, s, "/v1/messages/count_tokens", s.APIKey(), `{"model":"m","messages":[{"role":"user","content":"x"}]}`); resp.StatusCode != 200 ||
		!strings.Contains(body, `"input_tokens":`) {
		t.Fatalf("count_tokens: %d %s", resp.StatusCode, body)
	}
	if resp, body = post(t, s, "/v1/messages/count_tokens", s.APIKey(), `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}]}`); resp.StatusCode != 400 {
		t.Fatalf("count_tokens with max_tokens: %d %s", resp.StatusCode, body)
	}
}
