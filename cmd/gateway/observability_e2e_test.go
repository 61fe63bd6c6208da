package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Observability end to end, through the running server: x-request-id,
// the per-request log line (JSON and text), GET /metrics and
// /debug/pprof/. The request-log tests poll the log, because the log
// writer may write a request's line a little after the answer went out.

const (
	obsDeployment = "e81c9286-2195-4bd9-81e1-cf393788a1a0" // my-team-model's model_info.id in twoTeams
	obsPrompt     = "obs-prompt-zebra-quokka-7731 what is in my diary"
	obsWrongKey   = "sk-obs-wrong-key-0123456789abcdef0123"
	obsMadeUp     = "gpt-obs-made-up-4242"
	obsTeamC      = "3c1d9a52-7e0f-4b8a-9c6d-2f4e8b1a0c33"
	obsKeyC       = "sk-obs-team-c-0123456789abcdef012345"
	obsLogWait    = 5 * time.Second
)

// obsChatBody is a chat completion request for model saying prompt.
func obsChatBody(model, prompt string, stream bool) string {
	b, _ := json.Marshal(map[string]any{
		"model":    model,
		"stream":   stream,
		"messages": []map[string]string{{"role": "user", "content": prompt}},
	})
	return string(b)
}

// rawGet sends GET path with the header line "x-request-id: " + id written
// byte for byte (net/http refuses control characters in header values).
func (g *gatewayProc) rawGet(t *testing.T, path, id string) (int, http.Header) {
	t.Helper()
	conn, err := net.Dial("tcp", g.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: gw\r\nx-request-id: %s\r\nConnection: close\r\n\r\n", path, id)
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("raw GET %s with x-request-id %q: %v", path, id, err)
	}
	defer resp.Body.Close()
	_, _ = io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header
}

// requestIDOf returns the answer's single x-request-id.
func requestIDOf(t *testing.T, h http.Header) string {
	t.Helper()
	ids := h.Values("x-request-id")
	if len(ids) != 1 {
		t.Fatalf("answer carries %d x-request-id headers %q, want exactly one", len(ids), ids)
	}
	return ids[0]
}

// checkGeneratedID fails unless id looks like an id the gateway made: not
// empty, printable ASCII without spaces, at most 128 bytes, and not the
// value the client sent.
func checkGeneratedID(t *testing.T, id, sent string) {
	t.Helper()
	if id == "" || len(id) > 128 {
		t.Errorf("generated x-request-id %q: want 1..128 bytes", id)
	}
	for _, c := range []byte(id) {
		if c < 0x21 || c > 0x7e {
			t.Errorf("generated x-request-id %q holds byte %#x", id, c)
			break
		}
	}
	if sent != "" && (id == sent || strings.Contains(sent, id) || strings.Contains(id, sent)) {
		t.Errorf("x-request-id %q kept (part of) the rejected value %q", id, sent)
	}
}

// logLines returns the complete lines of the gateway's log so far.
func logLines(g *gatewayProc) []string {
	s := g.logs.String()
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	} else {
		return nil
	}
	return strings.Split(s, "\n")
}

// waitLogLines polls the log for up to 5s until at least one complete line
// matches, and returns the matching lines.
func waitLogLines(t *testing.T, g *gatewayProc, what string, match func(line string) bool) []string {
	t.Helper()
	deadline := time.Now().Add(obsLogWait)
	for {
		var found []string
		for _, l := range logLines(g) {
			if match(l) {
				found = append(found, l)
			}
		}
		if len(found) > 0 {
			return found
		}
		if time.Now().After(deadline) {
			t.Fatalf("no log line %s within %s; log:\n%s", what, obsLogWait, g.logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitJSONRequestLine waits for the JSON "request" line of request id and
// returns it decoded, failing if there is more than one.
func waitJSONRequestLine(t *testing.T, g *gatewayProc, id string) map[string]any {
	t.Helper()
	lines := waitLogLines(t, g, "msg=request request_id="+id, func(l string) bool {
		var m map[string]any
		return json.Unmarshal([]byte(l), &m) == nil && m["msg"] == "request" && m["request_id"] == id
	})
	if len(lines) != 1 {
		t.Errorf("request %s logged %d request lines, want one:\n%s", id, len(lines), strings.Join(lines, "\n"))
	}
	var m map[string]any
	_ = json.Unmarshal([]byte(lines[0]), &m)
	return m
}

// textFields splits a text-format log line into its key=value fields
// (values the request line carries have no spaces).
func textFields(line string) map[string]string {
	out := map[string]string{}
	for _, f := range strings.Fields(line) {
		if k, v, ok := strings.Cut(f, "="); ok {
			out[k] = v
		}
	}
	return out
}

// assertNotInLog fails if the whole log contains any of secrets.
func assertNotInLog(t *testing.T, g *gatewayProc, secrets map[string]string) {
	t.Helper()
	log := g.logs.String()
	for what, s := range secrets {
		if strings.Contains(log, s) {
			t.Errorf("the log contains %s %q:\n%s", what, s, log)
		}
	}
}

// serveArg returns the value of flag name in serve's arguments.
func serveArg(t *testing.T, args []string, name string) string {
	t.Helper()
	for i := 0; i+1 < len(args); i++ {
		if args[i] == name {
			return args[i+1]
		}
	}
	t.Fatalf("no %s in %q", name, args)
	return ""
}

func TestObservabilityRequestIDKeptOrGenerated(t *testing.T) {
	up := newFakeUpstream(t)
	g := startGateway(t, twoTeams(t, up, "")...)

	// A sane id comes back as sent.
	code, h, raw := g.doH(t, "POST", "/v1/chat/completions", keyA, obsChatBody("my-team-model", "hi", false), "x-request-id", "abc-123")
	if code != 200 {
		t.Fatalf("chat: %d %s", code, raw)
	}
	if id := requestIDOf(t, h); id != "abc-123" {
		t.Errorf("x-request-id %q, want abc-123 as sent", id)
	}
	// 128 printable bytes is the longest id kept.
	longest := strings.Repeat("a1-_.~", 21) + "zz"
	if len(longest) != 128 {
		t.Fatalf("test bug: %d bytes", len(longest))
	}
	_, h, _ = g.doH(t, "GET", "/v1/models", keyA, "", "x-request-id", longest)
	if id := requestIDOf(t, h); id != longest {
		t.Errorf("a 128-byte id came back as %q", id)
	}

	// Without one, each request gets a new id.
	_, h1, _ := g.doH(t, "GET", "/v1/models", keyA, "")
	_, h2, _ := g.doH(t, "POST", "/v1/chat/completions", keyA, obsChatBody("my-team-model", "hi", false))
	id1, id2 := requestIDOf(t, h1), requestIDOf(t, h2)
	checkGeneratedID(t, id1, "")
	checkGeneratedID(t, id2, "")
	if id1 == id2 {
		t.Errorf("two requests without x-request-id both got %q", id1)
	}

	// Too long, spaces, tabs, non-ASCII: replaced by a generated id.
	tooLong := "obs-too-long-" + strings.Repeat("x", 129-len("obs-too-long-"))
	seen := map[string]bool{id1: true, id2: true}
	last := ""
	for _, bad := range []string{tooLong, "obs-has space", "obs-has\ttab", "obs-non-ascii-é"} {
		code, h, raw := g.doH(t, "GET", "/v1/models", keyA, "", "x-request-id", bad)
		if code != 200 {
			t.Errorf("x-request-id %q: %d %s, want the request served", bad, code, raw)
		}
		id := requestIDOf(t, h)
		checkGeneratedID(t, id, bad)
		if seen[id] {
			t.Errorf("generated id %q given twice", id)
		}
		seen[id], last = true, id
	}
	// Control characters, sent byte for byte: fasthttp may refuse such a
	// header outright (400); if the request is served, its id is generated.
	for _, bad := range []string{"obs-ctl-\x01-x", "obs-del-\x7f-x"} {
		code, h := g.rawGet(t, "/health/liveliness", bad)
		switch code {
		case 200:
			checkGeneratedID(t, requestIDOf(t, h), bad)
		case 400:
		default:
			t.Errorf("x-request-id %q: status %d, want 200 with a generated id or 400", bad, code)
		}
		for _, v := range h.Values("x-request-id") {
			if strings.Contains(v, "obs-") {
				t.Errorf("x-request-id %q: answered with %q", bad, v)
			}
		}
	}
	// The rejected values never reach the log; wait for the last served
	// request's own line first.
	waitLogLines(t, g, "msg=request request_id="+last, func(l string) bool {
		f := textFields(l)
		return f["msg"] == "request" && f["request_id"] == last
	})
	assertNotInLog(t, g, map[string]string{"the too-long id": tooLong, "the id with a space": "obs-has space",
		"the id with a tab": "obs-has\ttab", "the non-ASCII id": "obs-non-ascii", "the control-character id": "obs-ctl-",
		"the DEL id": "obs-del-"})
}

// README: "the answer always carries it" — error answers too.
func TestObservabilityRequestIDOnErrorAnswers(t *testing.T) {
	up := newFakeUpstream(t)
	g := startGateway(t, twoTeams(t, up, "")...)
	for i, c := range []struct {
		method, path, key, model string
		status                   int
	}{
		{"POST", "/v1/chat/completions", "", "my-team-model", 401},
		{"POST", "/v1/chat/completions", obsWrongKey, "my-team-model", 401},
		{"POST", "/v1/chat/completions", keyA, obsMadeUp, 400},
		{"GET", "/obs-no-such-path", keyA, "my-team-model", 404},
		{"GET", "/debug/pprof/", keyA, "my-team-model", 403},
	} {
		id := fmt.Sprintf("obs-err-%d-%d", i, c.status)
		code, h, raw := g.doH(t, c.method, c.path, c.key, obsChatBody(c.model, "hi", false), "x-request-id", id)
		if code != c.status {
			t.Errorf("%s %s: %d %s, want %d", c.method, c.path, code, raw, c.status)
		}
		if got := h.Values("x-request-id"); len(got) != 1 || got[0] != id {
			t.Errorf("%s %s answering %d: x-request-id %q, want [%q] as sent", c.method, c.path, code, got, id)
		}
		// Without one, an error answer still carries a generated id.
		code, h, _ = g.doH(t, c.method, c.path, c.key, obsChatBody(c.model, "hi", false))
		if got := h.Values("x-request-id"); len(got) != 1 || got[0] == "" {
			t.Errorf("%s %s answering %d without x-request-id: got %q, want one generated id", c.method, c.path, code, got)
		}
	}
}

func TestObservabilityRequestLogJSON(t *testing.T) {
	up := newFakeUpstream(t)
	g := startGateway(t, append(twoTeams(t, up, ""), "--log-format", "json")...)

	// A unary chat through a team key on a team model; the fake upstream
	// reports 11 prompt and 7 completion tokens.
	const id = "obs-json-req-1"
	code, h, raw := g.doH(t, "POST", "/v1/chat/completions", keyA, obsChatBody("my-team-model", obsPrompt, false), "x-request-id", id)
	if code != 200 {
		t.Fatalf("chat: %d %s", code, raw)
	}
	if got := requestIDOf(t, h); got != id {
		t.Fatalf("x-request-id %q, want %q", got, id)
	}
	line := waitJSONRequestLine(t, g, id)
	want := map[string]any{
		"level": "INFO", "msg": "request", "request_id": id, "method": "POST", "path": "/v1/chat/completions",
		"status": float64(200), "team": teamA, "model": "my-team-model", "deployment": obsDeployment,
		"tokens_in": float64(11), "tokens_out": float64(7), "stream": false,
	}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("request line %s = %#v, want %#v\nline: %v", k, line[k], v, line)
		}
	}
	switch l := line["latency"].(type) {
	case float64: // slog's JSON handler writes durations in nanoseconds
		if l <= 0 {
			t.Errorf("latency %v, want > 0", l)
		}
	case string:
		if d, err := time.ParseDuration(l); err != nil || d <= 0 {
			t.Errorf("latency %q, want a positive duration", l)
		}
	default:
		t.Errorf("latency %#v, want a duration", line["latency"])
	}
	if ts, _ := line["time"].(string); ts == "" {
		t.Errorf("request line has no time: %v", line)
	}

	// No x-request-id: the line carries the generated id the answer carries.
	code, h, raw = g.doH(t, "POST", "/v1/chat/completions", keyA, obsChatBody("my-team-model", obsPrompt, false))
	if code != 200 {
		t.Fatalf("chat: %d %s", code, raw)
	}
	gen := requestIDOf(t, h)
	checkGeneratedID(t, gen, "")
	if l := waitJSONRequestLine(t, g, gen); l["status"] != float64(200) || l["team"] != teamA || l["deployment"] != obsDeployment {
		t.Errorf("request line of the generated id: %v", l)
	}

	// A stream is logged as one line when it ends, with its deployment,
	// its tokens as accounted, its time to the headers and its whole
	// duration.
	code, _, raw = g.doH(t, "POST", "/v1/chat/completions", keyA, obsChatBody("my-team-model", obsPrompt, true), "x-request-id", "obs-json-stream")
	if code != 200 || !strings.Contains(string(raw), "[DONE]") {
		t.Fatalf("stream: %d %s", code, raw)
	}
	if l := waitJSONRequestLine(t, g, "obs-json-stream"); l["stream"] != true || l["status"] != float64(200) ||
		l["model"] != "my-team-model" || l["deployment"] != obsDeployment ||
		l["tokens_in"].(float64) <= 0 || l["tokens_out"].(float64) <= 0 { // counted: this upstream streams no usage
		t.Errorf("stream request line: %v", l)
	} else if lat, dur := l["latency"].(float64), l["duration"].(float64); lat <= 0 || dur < lat {
		t.Errorf("stream latency %v, duration %v: want 0 < latency <= duration", lat, dur)
	}
	if n := strings.Count(g.logsSoFar(t), `"request_id":"obs-json-stream"`); n != 1 {
		t.Errorf("%d log lines for the stream, want 1", n)
	}

	// A wrong key: 401, no team; an unknown model: 400, no deployment.
	code, _, _ = g.doH(t, "POST", "/v1/chat/completions", obsWrongKey, obsChatBody("my-team-model", obsPrompt, false), "x-request-id", "obs-json-401")
	if code != 401 {
		t.Errorf("wrong key: %d, want 401", code)
	}
	if l := waitJSONRequestLine(t, g, "obs-json-401"); l["status"] != float64(401) || l["team"] != "" || l["deployment"] != "" {
		t.Errorf("401 request line: %v", l)
	}
	code, _, _ = g.doH(t, "POST", "/v1/chat/completions", keyA, obsChatBody(obsMadeUp, obsPrompt, false), "x-request-id", "obs-json-400")
	if code != 400 {
		t.Errorf("unknown model: %d, want 400", code)
	}
	if l := waitJSONRequestLine(t, g, "obs-json-400"); l["status"] != float64(400) || l["team"] != teamA || l["deployment"] != "" ||
		l["tokens_in"] != float64(0) || l["tokens_out"] != float64(0) {
		t.Errorf("400 request line: %v", l)
	}

	// Every complete line is JSON, and no key or prompt is in the log.
	for _, l := range logLines(g) {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Errorf("--log-format json wrote a non-JSON line: %q", l)
		}
	}
	assertNotInLog(t, g, map[string]string{"the team's virtual key": keyA, "the wrong key": obsWrongKey,
		"the upstream key": upKeyA, "the prompt": "zebra-quokka-7731"})
	if up.count() != 3 || !strings.Contains(fmt.Sprint(up.last().Body["messages"]), "zebra-quokka-7731") {
		t.Errorf("test setup: the upstream got %d requests, the last %v", up.count(), up.last().Body)
	}
}

func TestObservabilityRequestLogText(t *testing.T) {
	up := newFakeUpstream(t)
	g := startGateway(t, twoTeams(t, up, "")...) // text is the default
	const id = "obs-text-req-1"
	code, h, raw := g.doH(t, "POST", "/v1/chat/completions", keyA, obsChatBody("my-team-model", obsPrompt, false), "x-request-id", id)
	if code != 200 || requestIDOf(t, h) != id {
		t.Fatalf("chat: %d %v %s", code, h, raw)
	}
	lines := waitLogLines(t, g, "msg=request request_id="+id, func(l string) bool {
		f := textFields(l)
		return f["msg"] == "request" && f["request_id"] == id
	})
	if len(lines) != 1 {
		t.Errorf("%d request lines for %s, want one:\n%s", len(lines), id, strings.Join(lines, "\n"))
	}
	if strings.HasPrefix(lines[0], "{") {
		t.Errorf("the default log format is not text: %s", lines[0])
	}
	f := textFields(lines[0])
	for k, v := range map[string]string{
		"level": "INFO", "method": "POST", "path": "/v1/chat/completions", "status": "200", "team": teamA,
		"model": "my-team-model", "deployment": obsDeployment, "tokens_in": "11", "tokens_out": "7", "stream": "false",
	} {
		if f[k] != v {
			t.Errorf("request line %s=%q, want %q\nline: %s", k, f[k], v, lines[0])
		}
	}
	if d, err := time.ParseDuration(f["latency"]); err != nil || d <= 0 {
		t.Errorf("request line latency=%q, want a positive duration\nline: %s", f["latency"], lines[0])
	}
	assertNotInLog(t, g, map[string]string{"the team's virtual key": keyA, "the upstream key": upKeyA, "the prompt": "zebra-quokka-7731"})
}

// promSample is one sample of the Prometheus text exposition.
type promSample struct {
	name   string
	labels map[string]string
	value  float64
}

// parseProm parses the Prometheus text format (comments skipped).
func parseProm(t *testing.T, text string) []promSample {
	t.Helper()
	var out []promSample
	for _, line := range strings.Split(text, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		s := promSample{labels: map[string]string{}}
		i := strings.IndexAny(line, "{ ")
		if i <= 0 {
			t.Fatalf("bad exposition line %q", line)
		}
		s.name, line = line[:i], line[i:]
		if line[0] == '{' {
			line = line[1:]
			for line != "" && line[0] != '}' {
				eq := strings.Index(line, `="`)
				if eq <= 0 {
					t.Fatalf("bad labels in %q", line)
				}
				k := strings.TrimLeft(line[:eq], ",")
				line = line[eq+2:]
				var v strings.Builder
				for {
					if line == "" {
						t.Fatalf("unterminated label value for %s", k)
					}
					c := line[0]
					line = line[1:]
					if c == '"' {
						break
					}
					if c == '\\' && line != "" {
						switch line[0] {
						case 'n':
							c = '\n'
						default:
							c = line[0]
						}
						line = line[1:]
					}
					v.WriteByte(c)
				}
				s.labels[k] = v.String()
				line = strings.TrimPrefix(line, ",")
			}
			line = strings.TrimPrefix(line, "}")
		}
		fields := strings.Fields(line)
		if len(fields) == 0 {
			t.Fatalf("no value for %s", s.name)
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			t.Fatalf("value of %s: %v", s.name, err)
		}
		s.value = v
		out = append(out, s)
	}
	return out
}

// promValue is the value of the sample name with exactly labels (0, false
// when there is none).
func promValue(samples []promSample, name string, labels map[string]string) (float64, bool) {
	for _, s := range samples {
		if s.name != name || len(s.labels) != len(labels) {
			continue
		}
		match := true
		for k, v := range labels {
			if s.labels[k] != v {
				match = false
				break
			}
		}
		if match {
			return s.value, true
		}
	}
	return 0, false
}

// scrape fetches GET /metrics with the master key (every series; without
// a key only the ones that name no team: obs_e2e_test.go).
func scrape(t *testing.T, g *gatewayProc) (string, []promSample) {
	t.Helper()
	code, h, raw := g.doH(t, "GET", "/metrics", masterKey, "")
	if code != 200 {
		t.Fatalf("GET /metrics with the master key: %d %s", code, raw)
	}
	if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("GET /metrics Content-Type %q, want the Prometheus text format", ct)
	}
	return string(raw), parseProm(t, string(raw))
}

func TestObservabilityMetricsEndpoint(t *testing.T) {
	up := newFakeUpstream(t)
	args := twoTeams(t, up, "")
	g := startGateway(t, args...)

	const route = "/v1/chat/completions"
	const reqID = "obs-metrics-req-id-5521"
	ok := map[string]string{"route": route, "status": "200", "team": teamA, "model": "my-team-model"}
	unauth := map[string]string{"route": route, "status": "401", "team": "unknown", "model": "unknown"}
	badModel := map[string]string{"route": route, "status": "400", "team": teamA, "model": "unknown"}
	notFound := map[string]string{"route": "other", "status": "404", "team": "unknown", "model": "unknown"}
	tokIn := map[string]string{"team": teamA, "model": "my-team-model", "direction": "in"}
	tokOut := map[string]string{"team": teamA, "model": "my-team-model", "direction": "out"}
	durCount := map[string]string{"route": route}
	upCount := map[string]string{"provider": "openai"}
	reloadOK := map[string]string{"result": "success"}
	type series struct {
		name   string
		labels map[string]string
		delta  float64
	}
	// Metrics are process-wide and other tests share them: compare deltas.
	watched := []series{
		{"gateway_requests_total", ok, 1},
		{"gateway_requests_total", unauth, 1},
		{"gateway_requests_total", badModel, 1},
		{"gateway_requests_total", notFound, 1},
		{"gateway_tokens_total", tokIn, 11},
		{"gateway_tokens_total", tokOut, 7},
		{"gateway_request_duration_seconds_count", durCount, 3},
		{"gateway_upstream_duration_seconds_count", upCount, 1},
		{"gateway_config_reloads_total", reloadOK, 1},
	}
	_, before := scrape(t, g)
	if v, found := promValue(before, "gateway_team_actors", map[string]string{}); !found || v != 3 {
		t.Errorf("gateway_team_actors = %v (present %v), want 3 (two teams + the master key)", v, found)
	}
	base := make([]float64, len(watched))
	for i, s := range watched {
		base[i], _ = promValue(before, s.name, s.labels)
	}

	// Traffic: one success, one wrong key, one made-up model, one unknown path.
	code, _, raw := g.doH(t, "POST", route, keyA, obsChatBody("my-team-model", obsPrompt, false), "x-request-id", reqID)
	if code != 200 {
		t.Fatalf("chat: %d %s", code, raw)
	}
	if code, _, raw := g.doH(t, "POST", route, obsWrongKey, obsChatBody("my-team-model", obsPrompt, false), "x-request-id", reqID+"-401"); code != 401 {
		t.Fatalf("wrong key: %d %s", code, raw)
	}
	if code, _, raw := g.doH(t, "POST", route, keyA, obsChatBody(obsMadeUp, obsPrompt, false), "x-request-id", reqID+"-400"); code != 400 {
		t.Fatalf("made-up model: %d %s", code, raw)
	}
	if code, _, raw := g.doH(t, "GET", "/obs-unknown-path-9931", keyA, ""); code != 404 {
		t.Fatalf("unknown path: %d %s", code, raw)
	}
	// A reload that applies a third team.
	reloadStart := time.Now()
	writeFiles(t, serveArg(t, args, "--teams-dir"), map[string]string{"c.yaml": teamYAML(obsTeamC, "obs-c", obsKeyC)})
	code, m, raw := g.do(t, "POST", "/config/reload", masterKey, nil)
	if code != 200 || (m["outcome"] != "applied" && m["outcome"] != "unchanged") {
		t.Fatalf("POST /config/reload: %d %s", code, raw)
	}
	eventually(t, "the new team's key works", func() (bool, string) { // GET /v1/models: no chat-route traffic
		code, _, raw := g.do(t, "GET", "/v1/models", obsKeyC, nil)
		return code == 200, fmt.Sprintf("%d %s", code, raw)
	})
	hash, _ := g.configStatus(t)["config_hash"].(string)
	if hash == "" {
		t.Fatal("/config/status has no config_hash")
	}

	var text string
	var after []promSample
	deadline := time.Now().Add(obsLogWait)
	for {
		text, after = scrape(t, g)
		done := true
		for i, s := range watched {
			if v, _ := promValue(after, s.name, s.labels); v-base[i] < s.delta {
				done = false
			}
		}
		if done || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for i, s := range watched {
		v, found := promValue(after, s.name, s.labels)
		if !found || v-base[i] != s.delta {
			t.Errorf("%s%v went from %v to %v (present %v), want +%v", s.name, s.labels, base[i], v, found, s.delta)
		}
	}
	if v, found := promValue(after, "gateway_team_actors", map[string]string{}); !found || v != 4 {
		t.Errorf("gateway_team_actors = %v (present %v) after adding a team, want 4", v, found)
	}
	if v, found := promValue(after, "gateway_config_last_reload_successful", map[string]string{}); !found || v != 1 {
		t.Errorf("gateway_config_last_reload_successful = %v (present %v), want 1", v, found)
	}
	if v, _ := promValue(after, "gateway_config_last_reload_success_timestamp_seconds", map[string]string{}); v < float64(reloadStart.Unix())-1 || v > float64(time.Now().Unix())+1 {
		t.Errorf("gateway_config_last_reload_success_timestamp_seconds = %v, want the reload's time %v", v, reloadStart.Unix())
	}
	infos := 0
	for _, s := range after {
		if s.name == "gateway_config_info" {
			infos++
			if s.labels["hash"] != hash || s.value != 1 {
				t.Errorf("gateway_config_info%v = %v, want {hash=%q} 1", s.labels, s.value, hash)
			}
		}
	}
	if infos != 1 {
		t.Errorf("%d gateway_config_info series, want exactly one (the live hash)", infos)
	}
	if v, found := promValue(after, "gateway_requests_in_flight", map[string]string{}); !found || v < 1 {
		t.Errorf("gateway_requests_in_flight = %v (present %v), want >= 1 (the scrape itself)", v, found)
	}
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total"} {
		if _, found := promValue(after, name, map[string]string{}); !found {
			t.Errorf("%s missing: the Go runtime and process collectors are not exposed", name)
		}
	}

	// Label values stay bounded: never a key, a request id, a path or a
	// name a client made up.
	for what, s := range map[string]string{
		"the team's virtual key": keyA, "the wrong key": obsWrongKey, "the new team's key": obsKeyC,
		"the master key": masterKey, "the upstream key": upKeyA, "the request id": reqID,
		"the made-up model": obsMadeUp, "the unknown path": "obs-unknown-path-9931", "the prompt": "zebra-quokka-7731",
	} {
		if strings.Contains(text, s) {
			t.Errorf("GET /metrics contains %s %q", what, s)
		}
	}
	for _, s := range after {
		for k, v := range s.labels {
			if strings.HasPrefix(v, "sk-") {
				t.Errorf("%s label %s=%q looks like a key", s.name, k, v)
			}
		}
	}

	// The in-flight gauge counts a request while the upstream holds it.
	entered, release := make(chan struct{}), make(chan struct{})
	prev := up.handler
	up.handler = func(w http.ResponseWriter, r *http.Request, body map[string]any) bool {
		if strings.Contains(fmt.Sprint(body["messages"]), "obs-hold-me") {
			close(entered)
			select {
			case <-release:
			case <-time.After(10 * time.Second):
			}
			return false
		}
		return prev(w, r, body)
	}
	held := make(chan int, 1)
	go func() {
		code, _, _ := g.doH(t, "POST", route, keyA, obsChatBody("my-team-model", "obs-hold-me", false))
		held <- code
	}()
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		close(release)
		t.Fatal("the held request never reached the upstream")
	}
	_, during := scrape(t, g)
	inDuring, _ := promValue(during, "gateway_requests_in_flight", map[string]string{})
	close(release)
	if c := <-held; c != 200 {
		t.Fatalf("held request: %d", c)
	}
	var inAfter float64
	deadline = time.Now().Add(obsLogWait)
	for {
		_, s := scrape(t, g)
		inAfter, _ = promValue(s, "gateway_requests_in_flight", map[string]string{})
		if inDuring-inAfter == 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if inDuring-inAfter != 1 || inAfter < 1 {
		t.Errorf("gateway_requests_in_flight = %v while a request was held, %v after it finished: want one less (and >= 1, the scrape)", inDuring, inAfter)
	}
}

func TestObservabilityPprofMasterOnly(t *testing.T) {
	up := newFakeUpstream(t)
	g := startGateway(t, twoTeams(t, up, "")...) // sets GATEWAY_MASTER_KEY=masterKey

	refused := func(method, path, key string, want ...int) {
		t.Helper()
		code, h, raw := g.doH(t, method, path, key, "")
		var m map[string]any
		_ = json.Unmarshal(raw, &m)
		e := errorOf(t, m, raw)
		okCode := false
		for _, w := range want {
			okCode = okCode || code == w
		}
		if !okCode || e["code"] != strconv.Itoa(code) {
			t.Errorf("%s %s with key %q: %d (code %v) %s, want one of %v", method, path, key, code, e["code"], raw, want)
		}
		if msg, _ := e["message"].(string); msg == "" {
			t.Errorf("%s %s: error without a message: %s", method, path, raw)
		}
		if typ := e["type"]; typ != "authentication_error" && typ != "permission_error" {
			t.Errorf("%s %s: error type %v, want authentication_error or permission_error", method, path, typ)
		}
		if !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
			t.Errorf("%s %s: Content-Type %q, want JSON", method, path, h.Get("Content-Type"))
		}
		if strings.Contains(string(raw), "goroutine") || strings.Contains(string(raw), "profiles") {
			t.Errorf("%s %s refused but shows profile data: %s", method, path, raw)
		}
	}
	refused("GET", "/debug/pprof/", "", 401)
	refused("GET", "/debug/pprof/goroutine?debug=1", "", 401)
	refused("GET", "/debug/pprof/", obsWrongKey, 401, 403)
	refused("GET", "/debug/pprof/", keyA, 403)
	refused("GET", "/debug/pprof/goroutine?debug=1", keyA, 403)
	refused("GET", "/debug/pprof/cmdline", keyB, 403)
	refused("POST", "/debug/pprof/symbol", keyA, 403)

	code, h, raw := g.doH(t, "GET", "/debug/pprof/", masterKey, "", "x-request-id", "obs-pprof-index")
	if code != 200 {
		t.Fatalf("pprof index with the master key: %d %s", code, raw)
	}
	if !strings.HasPrefix(h.Get("Content-Type"), "text/html") || !strings.Contains(string(raw), "Types of profiles available") ||
		!strings.Contains(string(raw), "goroutine") || !strings.Contains(string(raw), "heap") {
		t.Errorf("pprof index (%s):\n%s", h.Get("Content-Type"), raw)
	}
	code, _, raw = g.doH(t, "GET", "/debug/pprof/goroutine?debug=1", masterKey, "")
	if code != 200 || !strings.Contains(string(raw), "goroutine profile:") {
		t.Errorf("goroutine profile with the master key: %d %.300s", code, raw)
	}
	code, _, raw = g.doH(t, "GET", "/debug/pprof/cmdline", masterKey, "")
	if code != 200 || string(raw) != strings.Join(os.Args, "\x00") {
		t.Errorf("cmdline with the master key: %d %q, want %q", code, raw, strings.Join(os.Args, "\x00"))
	}

	// The master key's request is logged like any other, without the key.
	lines := waitLogLines(t, g, "for the pprof request", func(l string) bool {
		f := textFields(l)
		return f["msg"] == "request" && f["request_id"] == "obs-pprof-index"
	})
	if f := textFields(lines[0]); f["status"] != "200" || f["team"] != "master" || f["path"] != "/debug/pprof/" {
		t.Errorf("pprof request line: %s", lines[0])
	}
	assertNotInLog(t, g, map[string]string{"the master key": masterKey, "the team key": keyA, "the wrong key": obsWrongKey})
}
