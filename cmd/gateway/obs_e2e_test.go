package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Issue 11, observations 12 and 15 (/metrics), through the running
// server: anonymous /metrics names no team; per-team series need the
// master key or general_settings.metrics_key; the access log and
// fasthttp's own log lines never carry a key, at debug level too.

const (
	obsMetricsKey = "prom-scrape-secret-5b0c2f9e71d4"
	// obsCustomKey is a team key without the "sk-" prefix: only the key
	// lookup can tell it is one.
	obsCustomKey = "custom-team-c-key-7d41a9e0b3"
	// prometheusAccept is the Accept header Prometheus' scraper sends.
	prometheusAccept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
)

func TestMetricsPerTeamSeriesNeedMetricsKey(t *testing.T) {
	t.Setenv("GATEWAY_METRICS_KEY", obsMetricsKey)
	up := newFakeUpstream(t)
	args := twoTeams(t, up, "  metrics_key: os.environ/GATEWAY_METRICS_KEY\n")
	g := startGateway(t, args...)

	// Traffic from both teams, so that both have per-team series.
	if code, _, raw := g.do(t, "POST", "/v1/chat/completions", keyA, obsChatBody("my-team-model", "hi", false)); code != 200 {
		t.Fatalf("team A chat: %d %s", code, raw)
	}
	if code, _, raw := g.do(t, "POST", "/v1/chat/completions", keyB, obsChatBody("b-model", "hi", false)); code != 200 {
		t.Fatalf("team B chat: %d %s", code, raw)
	}
	perTeam := []string{teamA, teamB, "my-team-model", "b-model",
		"gateway_requests_total", "gateway_tokens_total", "gateway_spend_usd_total", "gateway_rejections_total"}

	// Anonymous: 200, the series that name no team, nothing of any team.
	code, h, raw := g.doH(t, "GET", "/metrics", "", "", "Accept", prometheusAccept)
	if code != 200 {
		t.Fatalf("anonymous GET /metrics: %d %s", code, raw)
	}
	body := string(raw)
	for _, s := range perTeam {
		if strings.Contains(body, s) {
			t.Errorf("anonymous GET /metrics shows %q", s)
		}
	}
	for _, s := range []string{"gateway_request_duration_seconds", "gateway_upstream_duration_seconds", "gateway_config_info", "go_goroutines"} {
		if !strings.Contains(body, s) {
			t.Errorf("anonymous GET /metrics lacks %s (content type %s)", s, h.Get("Content-Type"))
		}
	}

	// The metrics key and the master key, as Prometheus sends them
	// (authorization: {credentials: ...} / bearer_token_file both become
	// `Authorization: Bearer <key>`): every series, both teams'.
	for who, key := range map[string]string{"metrics_key": obsMetricsKey, "master key": masterKey} {
		code, _, raw := g.doH(t, "GET", "/metrics", key, "", "Accept", prometheusAccept)
		if code != 200 {
			t.Fatalf("GET /metrics with the %s: %d %s", who, code, raw)
		}
		body := string(raw)
		for _, s := range []string{`team="` + teamA + `"`, `team="` + teamB + `"`, `model="my-team-model"`, "gateway_tokens_total", "go_goroutines"} {
			if !strings.Contains(body, s) {
				t.Errorf("GET /metrics with the %s lacks %s", who, s)
			}
		}
		if strings.Contains(body, obsMetricsKey) || strings.Contains(body, masterKey) {
			t.Errorf("GET /metrics with the %s shows a key", who)
		}
	}

	// A team key: 403 with what to do, and nothing of any team.
	code, m, raw := g.do(t, "GET", "/metrics", keyA, nil)
	if code != 403 {
		t.Fatalf("GET /metrics with team A's key: %d %s, want 403", code, raw)
	}
	if msg, _ := errorOf(t, m, raw)["message"].(string); !strings.Contains(msg, "metrics_key") {
		t.Errorf("403 message %q does not say what to do", msg)
	}
	for _, s := range perTeam {
		if strings.Contains(string(raw), s) {
			t.Errorf("GET /metrics with a team key shows %q", s)
		}
	}
	// A wrong key: 401 (a misconfigured scraper shows as down).
	if code, _, raw := g.do(t, "GET", "/metrics", obsWrongKey, nil); code != 401 || strings.Contains(string(raw), teamA) {
		t.Errorf("GET /metrics with a wrong key: %d %s, want 401", code, raw)
	}
	// The metrics key opens /metrics only: it is no master key.
	for _, p := range []string{"/team/list", "/key/list", "/debug/pprof/cmdline"} {
		if code, _, raw := g.do(t, "GET", p, obsMetricsKey, nil); code != 401 {
			t.Errorf("GET %s with the metrics key: %d %s, want 401", p, code, raw)
		}
	}
	if logs := g.logsSoFar(t); strings.Contains(logs, obsMetricsKey) {
		t.Errorf("the log shows the metrics key:\n%s", logs)
	}
}

// rawExchange writes req on a new connection and returns what the server
// answered before closing it.
func (g *gatewayProc) rawExchange(t *testing.T, req string) string {
	t.Helper()
	conn, err := net.Dial("tcp", g.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return "no answer: " + err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return fmt.Sprintf("%d %s", resp.StatusCode, b)
}

func TestLogsNeverShowKeysAtDebugLevel(t *testing.T) {
	up := newFakeUpstream(t)
	args := twoTeams(t, up, "")
	writeFiles(t, serveArg(t, args, "--teams-dir"), map[string]string{
		"c.yaml": teamYAML(obsTeamC, "obs-c", obsCustomKey),
	})
	g := startGateway(t, append(args, "--log-level", "debug")...)
	secrets := map[string]string{"team A's key": keyA, "team B's key": keyB, "the master key": masterKey,
		"the custom team key": obsCustomKey, "the upstream key": upKeyA}

	// A raw key in the path, refused and accepted alike.
	// A key of another team answers 403 or 404 (obs 15 makes it 404).
	const otherTeam = 404403
	type call struct {
		method, path, key string
		want              int
		logged            string // the path as the log must show it
	}
	calls := []call{
		{"POST", "/key/" + keyA + "/regenerate", "", 401, "/key/sk-...6789/regenerate"},
		{"POST", "/key/" + keyA + "/regenerate", obsWrongKey, 401, "/key/sk-...6789/regenerate"},
		{"POST", "/key/" + keyA + "/regenerate", keyB, otherTeam, "/key/sk-...6789/regenerate"},
		{"POST", "/key/" + obsCustomKey + "/regenerate", keyA, otherTeam, "/key/...e0b3/regenerate"},
		{"POST", "/key/" + masterKey + "/regenerate", masterKey, 404, "/key/sk-...6789/regenerate"},
		{"GET", "/key/" + keyA + "/regenerate", masterKey, 405, "/key/sk-...6789/regenerate"},
		{"POST", "/key/" + strings.ToUpper(keyA[:3]) + keyA[3:] + "/regenerat", masterKey, 404, "/key/...6789/regenerat"},
		{"GET", "/v1/" + obsCustomKey + "/x/" + keyB, "", 404, "/v1/...e0b3/x/sk-...6789"},
		{"POST", "/openai/deployments/" + obsCustomKey + "/chat/completions", keyA, 400, "/openai/deployments/...e0b3/chat/completions"},
	}
	for _, c := range calls {
		code, _, raw := g.do(t, c.method, c.path, c.key, map[string]any{})
		if code != c.want && !(c.want == otherTeam && (code == 403 || code == 404)) {
			t.Errorf("%s %s: %d %s, want %d", c.method, c.path, code, raw, c.want)
		}
		for what, s := range secrets {
			if strings.Contains(string(raw), s) {
				t.Errorf("%s %s answers with %s: %s", c.method, c.path, what, raw)
			}
		}
	}
	// The chat route with a key pasted as the model name.
	if code, _, raw := g.do(t, "POST", "/v1/chat/completions", keyA, obsChatBody(obsCustomKey, "hi", false)); code != 400 {
		t.Errorf("chat with a key as the model: %d %s, want 400", code, raw)
	}
	// A resolved Azure-style deployment name is logged as it is.
	if code, _, raw := g.do(t, "POST", "/openai/deployments/my-azure-model/chat/completions?api-version=2024-10-21", keyA,
		obsChatBody("x", "hi", false)); code != 200 {
		t.Errorf("Azure route: %d %s", code, raw)
	}

	// Malformed requests that carry the master key in their headers:
	// fasthttp's parse errors quote the request bytes.
	bad := []string{
		"FROB /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer " + masterKey + "\r\n\r\n",
		"GET /health/liveliness HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer " + masterKey + "\x01\r\n\r\n",
		"GET /key/" + keyA + "/regenerate HTTP/1.1\r\nHost: gw\r\nx-api-key: " + masterKey + "\r\nBad Header Line\r\n\r\n",
		"POST /key/" + keyA + "/regenerate HTTP/1.1\r\nHost: gw\r\napi-key: " + masterKey + "\r\nContent-Length: x" + masterKey + "\r\n\r\n",
		"GET\r\nAuthorization: Bearer " + masterKey + "\r\n\r\n",
		masterKey + " /v1/models HTTP/1.1\r\nHost: gw\r\n\r\n", // a key as the method
		"GET /v1/models HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer " + masterKey + "\r\nX-Pad: " + strings.Repeat("a", 20<<10) + "\r\n\r\n",
	}
	for _, req := range bad {
		ans := g.rawExchange(t, req)
		for what, s := range secrets {
			if strings.Contains(ans, s) {
				t.Errorf("the answer to a malformed request shows %s: %s", what, ans)
			}
		}
		if !strings.HasPrefix(ans, "4") && !strings.HasPrefix(ans, "no answer") {
			t.Errorf("malformed request %.40q answered %s", req, ans)
		}
	}

	logs := g.finalLogs()
	for what, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("the debug log shows %s %q:\n%s", what, s, logs)
		}
	}
	for _, c := range calls {
		want := fmt.Sprintf("method=%s path=%s status=%d", c.method, c.logged, c.want)
		if c.want == otherTeam {
			want = fmt.Sprintf("method=%s path=%s status=4", c.method, c.logged)
		}
		if !strings.Contains(logs, want) {
			t.Errorf("no access log line with %q", want)
		}
	}
	for _, want := range []string{"model=...e0b3 ", "path=/openai/deployments/my-azure-model/chat/completions status=200",
		"fasthttp: error when serving connection", "level=DEBUG"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log has no %q", want)
		}
	}
	if t.Failed() {
		t.Logf("log:\n%s", logs)
	}
}

// TestMetricsKeyIsASecretSetting: a plaintext metrics_key is a warning
// that names the setting, like master_key's.
func TestMetricsKeyIsASecretSetting(t *testing.T) {
	up := newFakeUpstream(t)
	args := twoTeams(t, up, "  metrics_key: "+obsMetricsKey+"\n")
	g := startGateway(t, args...)
	if code, _, raw := g.do(t, "GET", "/v1/models", keyA, nil); code != 200 {
		t.Fatalf("GET /v1/models: %d %s", code, raw)
	}
	if code, _, raw := g.do(t, "GET", "/metrics", obsMetricsKey, nil); code != 200 || !strings.Contains(string(raw), `team="`+teamA+`"`) {
		t.Fatalf("GET /metrics with a plaintext metrics_key: %d, per-team series present: %v", code, strings.Contains(string(raw), teamA))
	}
	logs := g.logsSoFar(t)
	if !strings.Contains(logs, "metrics_key is a plaintext secret") {
		t.Errorf("no warning about the plaintext metrics_key:\n%s", logs)
	}
	if strings.Contains(logs, obsMetricsKey) {
		t.Errorf("the log shows the metrics key")
	}
}
