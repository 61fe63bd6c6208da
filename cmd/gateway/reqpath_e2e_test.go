package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/llmgateway/gateway/configs"
)

// The request path end to end (issue 11, observations 7, 8, 13, 14 and the
// internal-address part of 15): what reaches the upstream is what was
// routed, a client that hangs up cancels its call, upstream keys and
// addresses never reach the client, and a broken upstream answer is an
// error, never a free success.

const (
	rpTeam = "5d1f2a9c-7e3b-4c1a-9f0e-2b8d6c4a1e77"
	rpKey  = "sk-reqpath-team-key-0123456789abcdef"
	// rpUpKey has letters in both cases and characters that URL-encode,
	// so that every form the scrub covers differs from the key itself.
	rpUpKey = "sk-ReqPath/Secret+Key=0123456789"
)

// rpSetup writes a gateway with one team (max_parallel_requests: 1) and
// global models on up, and returns serve's arguments. Models:
//
//	small      openai/small-upstream, cheap
//	big-model  openai/big-upstream, a hundred times the price
//	dead       an api_base nothing listens on
//
// Each is priced, so a call that is counted costs more than 0.
func rpSetup(t *testing.T, up *fakeUpstream) []string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	model := func(name, upstream, base, price string) string {
		return "  - model_name: " + name + "\n    litellm_params: {model: openai/" + upstream + ", api_base: " + base +
			", api_key: " + strconv.Quote(rpUpKey) + ", input_cost_per_token: " + price + ", output_cost_per_token: " + price + "}\n"
	}
	writeFiles(t, dir, map[string]string{
		"gateway.yaml": "general_settings:\n  master_key: " + masterKey + "\nmodel_list:\n" +
			model("small", "small-upstream", up.url+"/v1", "0.000001") +
			model("big-model", "big-upstream", up.url+"/v1", "0.0001") +
			model("dead", "dead-upstream", "http://"+dead+"/v1", "0.000001"),
		"teams.d/rp.yaml": "team_id: " + rpTeam + "\nteam_alias: reqpath\nmax_parallel_requests: 1\n" +
			"keys:\n  - token: " + configs.HashKey(rpKey) + "\n    key_alias: rp\n",
	})
	return []string{"--config", filepath.Join(dir, "gateway.yaml"), "--teams-dir", filepath.Join(dir, "teams.d"),
		"--models-dir", filepath.Join(dir, "models.d"), "--state-dir", filepath.Join(dir, "state")}
}

// rpPost posts a raw chat completion body with the team's key.
func rpPost(t *testing.T, g *gatewayProc, body string) (int, http.Header, []byte) {
	t.Helper()
	return g.doH(t, "POST", "/v1/chat/completions", rpKey, body)
}

// rpError decodes an OpenAI error envelope's message.
func rpError(t *testing.T, raw []byte) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("not JSON: %s", raw)
	}
	return errorOf(t, m, raw)["message"].(string)
}

// Observation 7: a second routing key in another letter case, or spelled
// with JSON escapes, is refused; nothing reaches the upstream, so a
// case-insensitive upstream can never serve big-model for a call routed,
// allowed and priced as small.
func TestReqpathRoutingKeyVariantsRefused(t *testing.T) {
	t.Parallel()
	up := newFakeUpstream(t)
	g := startGateway(t, rpSetup(t, up)...)
	const msgs = `"messages":[{"role":"user","content":"hi"}]`
	for _, body := range []string{
		`{"model":"small","Model":"big-model",` + msgs + `}`,
		`{"Model":"big-model","model":"small",` + msgs + `}`,
		`{"model":"small","MODEL":"big-model",` + msgs + `}`,
		`{"mod\u0065l":"small",` + msgs + `}`,
		`{"model":"small","mod\u0065l":"big-model",` + msgs + `}`,
		`{"model":"small","Mod\u0065l":"big-model",` + msgs + `}`,
		`{"model":"small","stream":false,"Stream":true,` + msgs + `}`,
		`{"model":"small","stream":false,"stream":true,` + msgs + `}`,
		`{"model":"small","str\u0065am":true,` + msgs + `}`,
		`{"model":"small","ſtream":true,` + msgs + `}`,
	} {
		code, _, raw := rpPost(t, g, body)
		msg := rpError(t, raw)
		if code != 400 || !(strings.Contains(msg, "model") || strings.Contains(msg, "stream")) {
			t.Errorf("%s: %d %s, want a 400 naming the key", body, code, raw)
		}
	}
	if n := up.count(); n != 0 {
		t.Fatalf("the upstream received %d requests with an ambiguous routing key: %+v", n, up.last().Body)
	}
	// A plain body still works, and the upstream sees the routed model.
	code, _, raw := rpPost(t, g, `{"model":"small",`+msgs+`}`)
	if code != 200 || up.last().Body["model"] != "small-upstream" {
		t.Fatalf("plain body: %d %s, upstream model %v", code, raw, up.last().Body["model"])
	}
}

// Observation 8: a client that hangs up during a unary call cancels the
// upstream call at once and frees the team's only parallel slot.
func TestReqpathUnaryHangupCancelsUpstream(t *testing.T) {
	t.Parallel()
	up := newFakeUpstream(t)
	started := make(chan struct{}, 1)
	cancelled := make(chan time.Time, 1)
	up.handler = func(w http.ResponseWriter, r *http.Request, body map[string]any) bool {
		msgs, _ := body["messages"].([]any)
		if len(msgs) == 0 || !strings.Contains(fmt.Sprint(msgs[0]), "hold") {
			return false // a normal, quick answer
		}
		started <- struct{}{}
		select {
		case <-r.Context().Done():
			cancelled <- time.Now()
		case <-time.After(5 * time.Second):
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"id":"late","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1}}`)
		}
		return true
	}
	g := startGateway(t, rpSetup(t, up)...)

	for round := range 3 { // the connection machinery is reused: more than once
		conn, err := net.Dial("tcp", g.addr)
		if err != nil {
			t.Fatal(err)
		}
		body := `{"model":"small","messages":[{"role":"user","content":"hold the answer"}]}`
		fmt.Fprintf(conn, "POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer %s\r\n"+
			"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", rpKey, len(body), body)
		select {
		case <-started:
		case <-time.After(5 * time.Second):
			t.Fatal("the call did not reach the upstream")
		}
		time.Sleep(100 * time.Millisecond)
		hungUp := time.Now()
		conn.Close()
		select {
		case at := <-cancelled:
			d := at.Sub(hungUp)
			t.Logf("round %d: the upstream saw the cancellation %v after the client hung up", round, d)
			if d > 250*time.Millisecond {
				t.Errorf("the upstream call was cancelled %v after the hang-up, want about 100 ms at most", d)
			}
		case <-time.After(3 * time.Second):
			t.Fatal("the upstream call was not cancelled when the client hung up")
		}
		// The team's only slot is free within 100 ms of the hang-up (the
		// upstream sees its connection closed a moment before the worker
		// returns and reports the slot free).
		var code int
		var raw []byte
		for {
			code, _, raw = rpPost(t, g, `{"model":"small","messages":[{"role":"user","content":"quick"}]}`)
			if code != 429 || time.Since(hungUp) > 100*time.Millisecond {
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
		if code != 200 {
			t.Fatalf("the next call %v after the hang-up: %d %s", time.Since(hungUp), code, raw)
		}
	}
	// The hang-up is logged as the client's, with its request id; no error
	// was sent upstream's way.
	if logs := g.finalLogs(); !strings.Contains(logs, "status=499") {
		t.Errorf("no 499 request line for the hang-up:\n%s", logs)
	}
}

// keyForms are the copies of key an upstream may echo: as is, lowercase,
// URL-encoded (query and path escaping) and base64 (standard and URL
// alphabets, padded or not, alone or inside a Basic credential).
func keyForms(key string) map[string]string {
	forms := map[string]string{
		"exact":     key,
		"lowercase": strings.ToLower(key),
		"uppercase": strings.ToUpper(key),
		"query":     url.QueryEscape(key),
		"path":      url.PathEscape(key),
	}
	for name, enc := range map[string]*base64.Encoding{"std": base64.StdEncoding, "url": base64.URLEncoding,
		"rawstd": base64.RawStdEncoding, "rawurl": base64.RawURLEncoding} {
		forms["base64 "+name] = enc.EncodeToString([]byte(key))
		forms["basic "+name] = enc.EncodeToString([]byte("user:" + key))
		forms["offset "+name] = enc.EncodeToString([]byte("xy" + key + "z"))
	}
	return forms
}

func echoAll(key string) string {
	var b strings.Builder
	for name, f := range keyForms(key) {
		b.WriteString(name + "=" + f + " ")
	}
	return b.String()
}

// leaked names the forms of key that s contains.
func leaked(s, key string) []string {
	var out []string
	for name, f := range keyForms(key) {
		if strings.Contains(s, f) {
			out = append(out, name)
		}
	}
	return out
}

// Observation 13: an upstream key echoed in a stream's error event, or in
// any form in a unary error, is scrubbed before it reaches the client.
func TestReqpathUpstreamKeyScrubbedEverywhere(t *testing.T) {
	t.Parallel()
	up := newFakeUpstream(t)
	echo := echoAll(rpUpKey)
	up.handler = func(w http.ResponseWriter, r *http.Request, body map[string]any) bool {
		msg, _ := json.Marshal("Incorrect API key provided: " + echo)
		if s, _ := body["stream"].(bool); s {
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, `data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"x"}}]}`+"\n\n")
			io.WriteString(w, `data: {"error":{"message":`+string(msg)+`,"type":"invalid_request_error","code":"invalid_api_key"}}`+"\n\n")
			io.WriteString(w, "data: [DONE]\n\n")
			return true
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(401)
		io.WriteString(w, `{"error":{"message":`+string(msg)+`,"type":"invalid_request_error"}}`)
		return true
	}
	g := startGateway(t, rpSetup(t, up)...)
	code, _, raw := rpPost(t, g, `{"model":"small","messages":[{"role":"user","content":"hi"}]}`)
	if code != 401 || !strings.Contains(rpError(t, raw), "Incorrect API key provided") {
		t.Fatalf("unary: %d %s", code, raw)
	}
	if l := leaked(string(raw), rpUpKey); len(l) > 0 {
		t.Errorf("the unary error shows the upstream key as %v: %s", l, raw)
	}
	code, _, raw = rpPost(t, g, `{"model":"small","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	if code != 200 || !strings.Contains(string(raw), "Incorrect API key provided") {
		t.Fatalf("stream: %d %s", code, raw)
	}
	if l := leaked(string(raw), rpUpKey); len(l) > 0 {
		t.Errorf("the stream's error event shows the upstream key as %v: %s", l, raw)
	}
	if l := leaked(g.finalLogs(), rpUpKey); len(l) > 0 {
		t.Errorf("the log shows the upstream key as %v", l)
	}
}

// sseEvents reads a stream's data payloads.
func sseEvents(t *testing.T, raw []byte) []string {
	t.Helper()
	var out []string
	sc := bufio.NewScanner(strings.NewReader(string(raw)))
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			out = append(out, d)
		}
	}
	return out
}

// Observation 14: a 2xx that is no chat completion is a 502 (not a free
// success), garbage in a stream ends it with an error event, and a unary
// answer without usage is counted with the tokenizer.
func TestReqpathBrokenUpstreamAnswers(t *testing.T) {
	t.Parallel()
	up := newFakeUpstream(t)
	up.handler = func(w http.ResponseWriter, r *http.Request, body map[string]any) bool {
		content := ""
		if msgs, _ := body["messages"].([]any); len(msgs) > 0 {
			content, _ = msgs[0].(map[string]any)["content"].(string)
		}
		switch content {
		case "html":
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<html><body>Welcome to the proxy at 10.1.2.3</body></html>")
		case "no choices":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"id":"x","object":"chat.completion"}`)
		case "truncated":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"hel`)
		case "garbage stream":
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, `data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"ok"}}]}`+"\n\n")
			io.WriteString(w, "data: <html>garbage</html>\n\n")
			io.WriteString(w, `data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"after"}}]}`+"\n\n")
			io.WriteString(w, "data: [DONE]\n\n")
		case "no usage":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"id":"x","object":"chat.completion","model":"small-upstream","choices":[{"index":0,"message":{"role":"assistant","content":"An answer of several words without any usage."},"finish_reason":"stop"}]}`)
		default:
			return false
		}
		return true
	}
	g := startGateway(t, rpSetup(t, up)...)
	ask := func(content string, stream bool) (int, http.Header, []byte) {
		return rpPost(t, g, fmt.Sprintf(`{"model":"small","stream":%v,"messages":[{"role":"user","content":%q}]}`, stream, content))
	}
	for _, c := range []string{"html", "no choices", "truncated"} {
		code, h, raw := ask(c, false)
		msg := rpError(t, raw)
		if code != 502 || !strings.Contains(msg, "answered 200 with") || !strings.Contains(msg, "request id "+h.Get("x-request-id")) {
			t.Errorf("%s: %d %s, want a 502 that says what the upstream answered, with the request id", c, code, raw)
		}
		if strings.Contains(msg, up.url[len("http://"):]) || strings.Contains(msg, "10.1.2.3") || strings.Contains(msg, "<html>") {
			t.Errorf("%s: the message quotes the upstream: %s", c, msg)
		}
	}

	code, _, raw := ask("garbage stream", true)
	events := sseEvents(t, raw)
	if code != 200 || len(events) != 2 {
		t.Fatalf("garbage stream: %d, events %q", code, events)
	}
	var first, last map[string]any
	if json.Unmarshal([]byte(events[0]), &first) != nil || json.Unmarshal([]byte(events[1]), &last) != nil {
		t.Fatalf("an event the client got is not JSON: %q", events)
	}
	if e, _ := last["error"].(map[string]any); e == nil || e["type"] != "upstream_error" ||
		!strings.Contains(e["message"].(string), "not JSON") {
		t.Fatalf("the stream did not end with an error event: %q", events)
	}
	if strings.Contains(string(raw), "garbage") || strings.Contains(string(raw), "after") || strings.Contains(string(raw), "[DONE]") {
		t.Fatalf("the stream went on past the garbage: %s", raw)
	}

	code, h, raw := ask("no usage", false)
	if code != 200 {
		t.Fatalf("no usage: %d %s", code, raw)
	}
	if cost, _ := strconv.ParseFloat(h.Get("x-litellm-response-cost"), 64); cost <= 0 {
		t.Fatalf("a unary answer without usage cost %q, want the tokenizer's count priced", h.Get("x-litellm-response-cost"))
	}
	logs := g.finalLogs()
	var line string
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, "request_id="+h.Get("x-request-id")) && strings.Contains(l, "msg=request") {
			line = l
		}
	}
	if line == "" || strings.Contains(line, "tokens_in=0") || strings.Contains(line, "tokens_out=0") {
		t.Fatalf("the request line of the call without usage has no tokens: %q", line)
	}
}

// Observation 15 (internal addresses): a 502 from an unreachable upstream
// says what happened and the request id, not where; the log line with
// that request id names the address.
func TestReqpathUpstreamAddressNotShown(t *testing.T) {
	t.Parallel()
	up := newFakeUpstream(t)
	g := startGateway(t, rpSetup(t, up)...)
	for _, stream := range []bool{false, true} {
		code, h, raw := rpPost(t, g, fmt.Sprintf(`{"model":"dead","stream":%v,"messages":[{"role":"user","content":"hi"}]}`, stream))
		msg := rpError(t, raw)
		id := h.Get("x-request-id")
		if code != 502 || !strings.Contains(msg, `the upstream of model "dead" could not be reached`) || !strings.Contains(msg, "request id "+id) {
			t.Errorf("stream=%v: %d %s", stream, code, raw)
		}
		if strings.Contains(string(raw), "127.0.0.1") || strings.Contains(string(raw), "dial") {
			t.Errorf("stream=%v: the answer names the upstream's address: %s", stream, raw)
		}
		logs := g.logsSoFar(t)
		found := false
		for _, l := range strings.Split(logs, "\n") {
			if strings.Contains(l, "upstream error") && strings.Contains(l, id) && strings.Contains(l, "127.0.0.1:") {
				found = true
			}
		}
		if !found {
			t.Errorf("stream=%v: no log line with request id %s and the upstream's address:\n%s", stream, id, logs)
		}
	}
}
