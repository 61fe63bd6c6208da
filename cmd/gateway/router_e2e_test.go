package main

import (
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/llmgateway/gateway/configs"
)

// routerGateway starts a gateway whose --config file has the given
// model_list (and extra settings), called with the master key.
func routerGateway(t *testing.T, modelList string) *gatewayProc {
	t.Helper()
	args, dir := emptyGateway(t)
	writeFiles(t, dir, map[string]string{"gateway.yaml": "general_settings:\n  master_key: os.environ/GATEWAY_MASTER_KEY\n  salt_key: os.environ/GATEWAY_SALT_KEY\n" +
		"model_list:\n" + modelList})
	return startGateway(t, args...)
}

// failing is a fake upstream that answers status (with retry-after when
// set) to its first n requests (n < 0: all of them), then succeeds.
func failing(t *testing.T, status int, retryAfter string, n int) *fakeUpstream {
	up := newFakeUpstream(t)
	var seen atomic.Int64
	up.handler = func(w http.ResponseWriter, _ *http.Request, _ map[string]any) bool {
		if k := seen.Add(1); n >= 0 && k > int64(n) {
			return false
		}
		if retryAfter != "" {
			w.Header().Set("retry-after", retryAfter)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"error":{"message":"failing on purpose","type":"server_error"}}`))
		return true
	}
	return up
}

func chatOK(t *testing.T, g *gatewayProc, model string) (int, http.Header) {
	t.Helper()
	code, h, _ := g.doH(t, "POST", "/v1/chat/completions", masterKey, chatBody(model, false))
	return code, h
}

// With one of two deployments down, no call fails: the failed attempts
// are retried on the other one, and after allowed_fails (3) failures the
// broken one is cooled down and receives nothing more.
func TestRouterOneOfTwoDownNoCallFails(t *testing.T) {
	good, bad := newFakeUpstream(t), failing(t, 500, "", -1)
	g := routerGateway(t, `  - model_name: grp
    litellm_params: {model: openai/good, api_base: "`+good.url+`/v1", api_key: sk-x}
    model_info: {id: good}
  - model_name: grp
    litellm_params: {model: openai/bad, api_base: "`+bad.url+`/v1", api_key: sk-x}
    model_info: {id: bad}
`)
	failed := 0
	for i := 0; i < 200; i++ {
		if code, h := chatOK(t, g, "grp"); code != 200 || h.Get("x-litellm-model-id") != "good" {
			failed++
		}
	}
	if failed != 0 {
		t.Fatalf("%d of 200 calls failed", failed)
	}
	if n := bad.count(); n != 3 {
		t.Fatalf("the broken deployment received %d calls, want allowed_fails = 3", n)
	}
	_, _, raw := g.do(t, "GET", "/metrics", masterKey, nil)
	// (The counters are the process's: other runs of this test add to them.)
	for _, want := range []string{`router_cooldowns_total{deployment="bad"} `, `deployment_state{deployment="bad"} 1`,
		`deployment_state{deployment="good"} 0`, `router_attempts_total{deployment="bad",result="failure"} `} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// A retry on the same deployment waits for the upstream's retry-after;
// when that wait is longer than the call has left, the 429 is answered at
// once.
func TestRouterRetryHonoursRetryAfter(t *testing.T) {
	up := failing(t, 429, "1", 1)
	short := failing(t, 429, "30", -1)
	g := routerGateway(t, `  - model_name: once
    litellm_params: {model: openai/x, api_base: "`+up.url+`/v1", api_key: sk-x}
    model_info: {id: once}
  - model_name: short
    litellm_params: {model: openai/y, api_base: "`+short.url+`/v1", api_key: sk-x, timeout: 2}
    model_info: {id: short}
`)
	start := time.Now()
	code, h := chatOK(t, g, "once")
	if code != 200 || h.Get("x-litellm-attempted-retries") != "1" || time.Since(start) < time.Second {
		t.Fatalf("after a 429 with retry-after 1: %d, retries %s, in %v", code, h.Get("x-litellm-attempted-retries"), time.Since(start))
	}
	start = time.Now()
	code, h = chatOK(t, g, "short")
	if code != 429 || h.Get("retry-after") != "30" || time.Since(start) > time.Second || short.count() != 1 {
		t.Fatalf("a retry-after beyond the timeout: %d retry-after %q in %v, %d upstream calls", code, h.Get("retry-after"), time.Since(start), short.count())
	}
}

// simple-shuffle by weight: 3:1 gives a 75% share (plus or minus 3
// points) over 4,000 calls; order: the order-1 deployment takes every call
// while it is available.
func TestRouterWeightsAndPriorities(t *testing.T) {
	g := routerGateway(t, `  - model_name: w
    litellm_params: {model: mock/a, weight: 3}
    model_info: {id: heavy}
  - model_name: w
    litellm_params: {model: mock/b, weight: 1}
    model_info: {id: light}
  - model_name: o
    litellm_params: {model: mock/c, order: 2}
    model_info: {id: second}
  - model_name: o
    litellm_params: {model: mock/d, order: 1}
    model_info: {id: first}
`)
	heavy := 0
	for i := 0; i < 4000; i++ {
		code, h := chatOK(t, g, "w")
		if code != 200 {
			t.Fatalf("call %d: %d", i, code)
		}
		if h.Get("x-litellm-model-id") == "heavy" {
			heavy++
		}
	}
	if share := float64(heavy) / 4000; share < 0.72 || share > 0.78 {
		t.Fatalf("weight 3:1 gave the heavy deployment %.1f%% of calls", share*100)
	}
	for i := 0; i < 50; i++ {
		if _, h := chatOK(t, g, "o"); h.Get("x-litellm-model-id") != "first" {
			t.Fatalf("call %d went to %s while the order-1 deployment was available", i, h.Get("x-litellm-model-id"))
		}
	}
}

// A deployment's rpm holds exactly, also under concurrent calls: of 20
// calls at once to a deployment with rpm 5, exactly 5 reach it; the rest
// get a 429 with retry-after.
func TestRouterDeploymentRPMIsExact(t *testing.T) {
	up := newFakeUpstream(t)
	g := routerGateway(t, `  - model_name: limited
    litellm_params: {model: openai/x, api_base: "`+up.url+`/v1", api_key: sk-x, rpm: 5}
    model_info: {id: limited}
`)
	var wg sync.WaitGroup
	codes := make([]int, 20)
	retry := make([]string, 20)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, h, _ := g.doH(t, "POST", "/v1/chat/completions", masterKey, chatBody("limited", false))
			codes[i], retry[i] = code, h.Get("retry-after")
		}()
	}
	wg.Wait()
	ok := 0
	for i, c := range codes {
		switch c {
		case 200:
			ok++
		case 429:
			if n, err := strconv.Atoi(retry[i]); err != nil || n < 1 || n > 60 {
				t.Errorf("a 429 with retry-after %q", retry[i])
			}
		default:
			t.Errorf("status %d", c)
		}
	}
	if ok != 5 || up.count() != 5 {
		t.Fatalf("%d calls answered and %d reached the upstream, want exactly rpm 5", ok, up.count())
	}
}

// A request's own fallbacks (LiteLLM's body field) are tried when its
// model fails after retries; the field does not reach the upstream; a
// fallback the caller's key may not call is never tried.
func TestRouterRequestFallbacksStayInsideTheAllowlist(t *testing.T) {
	down := failing(t, 503, "", -1)
	good := newFakeUpstream(t)
	args, dir := emptyGateway(t)
	writeFiles(t, dir, map[string]string{
		"gateway.yaml": "general_settings:\n  master_key: os.environ/GATEWAY_MASTER_KEY\n  salt_key: os.environ/GATEWAY_SALT_KEY\n" +
			"model_list:\n" +
			"  - model_name: primary\n    litellm_params: {model: openai/p, api_base: \"" + down.url + "/v1\", api_key: sk-x}\n    model_info: {id: primary}\n" +
			"  - model_name: backup\n    litellm_params: {model: openai/b, api_base: \"" + good.url + "/v1\", api_key: sk-x}\n    model_info: {id: backup}\n",
		"teams.d/t.yaml": "team_id: fb-team\nkeys:\n  - token: " + configs.HashKey(keyA) + "\n    key_alias: all\n" +
			"  - token: " + configs.HashKey(keyB) + "\n    key_alias: narrow\n    models: [primary]\n",
	})
	g := startGateway(t, args...)
	body := map[string]any{"model": "primary", "fallbacks": []string{"backup"}, "timeout": 30,
		"messages": []any{map[string]any{"role": "user", "content": "hi"}}}
	code, h, raw := g.doH(t, "POST", "/v1/chat/completions", keyA, body)
	if code != 200 || h.Get("x-litellm-model-id") != "backup" || h.Get("x-litellm-attempted-fallbacks") != "1" {
		t.Fatalf("fallback: %d %s %s", code, h, raw)
	}
	if b := good.last().Body; b["fallbacks"] != nil || b["timeout"] != nil || b["model"] != "b" {
		t.Fatalf("the upstream got the router's fields: %v", b)
	}
	// The narrow key may call primary only: its fallback to backup is not
	// tried, and the call fails with primary's own error.
	before := good.count()
	code, _, raw = g.doH(t, "POST", "/v1/chat/completions", keyB, body)
	if code != 503 || good.count() != before {
		t.Fatalf("a fallback outside the key's models: %d %s (backup got %d calls)", code, raw, good.count()-before)
	}
}

// A team's own short timeout never cools down a global deployment other
// teams share: its timeouts are not the deployment's failures.
func TestRouterCallerTimeoutDoesNotCoolDown(t *testing.T) {
	slow := newFakeUpstream(t)
	slow.handler = func(w http.ResponseWriter, r *http.Request, body map[string]any) bool {
		time.Sleep(50 * time.Millisecond)
		return false
	}
	other := newFakeUpstream(t)
	args, dir := emptyGateway(t)
	writeFiles(t, dir, map[string]string{
		"gateway.yaml": `general_settings:
  master_key: os.environ/GATEWAY_MASTER_KEY
  salt_key: os.environ/GATEWAY_SALT_KEY
model_list:
  - model_name: shared
    litellm_params: {model: openai/s, api_base: "` + slow.url + `/v1", api_key: os.environ/GATEWAY_SALT_KEY, order: 1}
    model_info: {id: slow}
  - model_name: shared
    litellm_params: {model: openai/o, api_base: "` + other.url + `/v1", api_key: os.environ/GATEWAY_SALT_KEY, order: 2}
    model_info: {id: other}
`,
		"teams.d/t.yaml": "team_id: impatient\nkeys:\n  - token: " + configs.HashKey(keyA) + "\n    key_alias: k\n",
	})
	g := startGateway(t, args...)
	for i := 0; i < 10; i++ {
		body := map[string]any{"model": "shared", "timeout": 0.001, "messages": []any{map[string]any{"role": "user", "content": "hi"}}}
		if code, _, _ := g.doH(t, "POST", "/v1/chat/completions", keyA, body); code != 504 && code != 200 {
			t.Fatalf("short-timeout call %d: %d", i, code)
		}
	}
	// The slow deployment (order 1) still takes another caller's call.
	if code, h := chatOK(t, g, "shared"); code != 200 || h.Get("x-litellm-model-id") != "slow" {
		t.Fatalf("after a team's timeouts the shared deployment is skipped: %d %s", code, h.Get("x-litellm-model-id"))
	}
}

// LiteLLM's settings where LiteLLM users write them: litellm_settings'
// num_retries, router_settings' fallbacks and model_group_alias.
func TestRouterSettingsFromALiteLLMConfig(t *testing.T) {
	down := failing(t, 503, "", -1)
	good := newFakeUpstream(t)
	args, dir := emptyGateway(t)
	writeFiles(t, dir, map[string]string{"gateway.yaml": `general_settings:
  master_key: os.environ/GATEWAY_MASTER_KEY
  salt_key: os.environ/GATEWAY_SALT_KEY
model_list:
  - model_name: primary
    litellm_params: {model: openai/p, api_base: "` + down.url + `/v1", api_key: sk-x}
    model_info: {id: primary}
  - model_name: backup
    litellm_params: {model: openai/b, api_base: "` + good.url + `/v1", api_key: sk-x}
    model_info: {id: backup}
litellm_settings:
  num_retries: 0
router_settings:
  routing_strategy: least-busy
  fallbacks: [{"primary": ["backup"]}]
  model_group_alias: {"gpt-4": "backup"}
`})
	g := startGateway(t, args...)
	for _, line := range strings.Split(g.logsSoFar(t), "\n") {
		if strings.Contains(line, "level=WARN") && !strings.Contains(line, "plaintext key") && !strings.Contains(line, "does not exist;") {
			t.Errorf("an honoured setting gave a warning: %s", line)
		}
	}
	code, h := chatOK(t, g, "primary")
	if code != 200 || h.Get("x-litellm-model-id") != "backup" || h.Get("x-litellm-attempted-fallbacks") != "1" ||
		h.Get("x-litellm-attempted-retries") != "0" || down.count() != 1 {
		t.Fatalf("fallback with num_retries 0: %d %v (primary called %d times)", code, h, down.count())
	}
	if code, h := chatOK(t, g, "gpt-4"); code != 200 || h.Get("x-litellm-model-id") != "backup" {
		t.Fatalf("model_group_alias: %d %v", code, h)
	}
	if names := modelNames(t, g, masterKey); !slices.Contains(names, "gpt-4") {
		t.Fatalf("the alias is not listed: %v", names)
	}
}

// stream_first_byte_timeout: a stream whose first event is late is
// abandoned before the client sees a byte and retried on another
// deployment.
func TestRouterStreamFirstByteTimeout(t *testing.T) {
	slow := newFakeUpstream(t)
	slow.handler = func(w http.ResponseWriter, r *http.Request, _ map[string]any) bool {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		select { // headers at once, the first event too late
		case <-time.After(3 * time.Second):
		case <-r.Context().Done():
		}
		return true
	}
	fast := newFakeUpstream(t)
	args, dir := emptyGateway(t)
	writeFiles(t, dir, map[string]string{"gateway.yaml": `general_settings:
  master_key: os.environ/GATEWAY_MASTER_KEY
  salt_key: os.environ/GATEWAY_SALT_KEY
model_list:
  - model_name: s
    litellm_params: {model: openai/slow, api_base: "` + slow.url + `/v1", api_key: os.environ/GATEWAY_SALT_KEY, order: 1}
    model_info: {id: slow}
  - model_name: s
    litellm_params: {model: openai/fast, api_base: "` + fast.url + `/v1", api_key: os.environ/GATEWAY_SALT_KEY, order: 2}
    model_info: {id: fast}
router_settings:
  stream_first_byte_timeout: 0.3
`})
	g := startGateway(t, args...)
	start := time.Now()
	code, h, raw := g.doH(t, "POST", "/v1/chat/completions", masterKey, chatBody("s", true))
	if code != 200 || h.Get("x-litellm-model-id") != "fast" || !strings.Contains(string(raw), "first") || time.Since(start) > 2*time.Second {
		t.Fatalf("a late first byte: %d %v in %v: %.300s", code, h, time.Since(start), raw)
	}
}

// least-busy sends each call to the deployment with the fewest calls in
// flight; latency-based routing to the fastest one once both are known.
func TestRouterLeastBusyAndLatency(t *testing.T) {
	gate := make(chan struct{})
	held := func() *fakeUpstream {
		up := newFakeUpstream(t)
		up.handler = func(http.ResponseWriter, *http.Request, map[string]any) bool {
			<-gate
			return false
		}
		return up
	}
	a, b := held(), held()
	quick, slow := newFakeUpstream(t), newFakeUpstream(t)
	slow.handler = func(http.ResponseWriter, *http.Request, map[string]any) bool {
		time.Sleep(40 * time.Millisecond)
		return false
	}
	args, dir := emptyGateway(t)
	writeFiles(t, dir, map[string]string{"gateway.yaml": `general_settings:
  master_key: os.environ/GATEWAY_MASTER_KEY
  salt_key: os.environ/GATEWAY_SALT_KEY
model_list:
  - model_name: busy
    litellm_params: {model: openai/a, api_base: "` + a.url + `/v1", api_key: os.environ/GATEWAY_SALT_KEY}
    model_info: {id: a}
  - model_name: busy
    litellm_params: {model: openai/b, api_base: "` + b.url + `/v1", api_key: os.environ/GATEWAY_SALT_KEY}
    model_info: {id: b}
router_settings:
  routing_strategy: least-busy
`})
	g := startGateway(t, args...)
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); chatOK(t, g, "busy") }()
		for a.count()+b.count() < i+1 { // each call is in flight before the next starts
			time.Sleep(time.Millisecond)
		}
	}
	if a.count() != 5 || b.count() != 5 {
		t.Errorf("least-busy split 10 concurrent calls %d / %d, want 5 / 5", a.count(), b.count())
	}
	close(gate)
	wg.Wait()

	args, dir = emptyGateway(t)
	writeFiles(t, dir, map[string]string{"gateway.yaml": `general_settings:
  master_key: os.environ/GATEWAY_MASTER_KEY
  salt_key: os.environ/GATEWAY_SALT_KEY
model_list:
  - model_name: lat
    litellm_params: {model: openai/q, api_base: "` + quick.url + `/v1", api_key: os.environ/GATEWAY_SALT_KEY}
    model_info: {id: quick}
  - model_name: lat
    litellm_params: {model: openai/s, api_base: "` + slow.url + `/v1", api_key: os.environ/GATEWAY_SALT_KEY}
    model_info: {id: slow}
router_settings:
  routing_strategy: latency-based-routing
`})
	g = startGateway(t, args...)
	toQuick := 0
	for i := 0; i < 40; i++ {
		if _, h := chatOK(t, g, "lat"); h.Get("x-litellm-model-id") == "quick" {
			toQuick++
		}
	}
	if toQuick < 36 || slow.count() > 4 {
		t.Errorf("latency routing sent %d of 40 calls to the fast deployment (the slow one got %d)", toQuick, slow.count())
	}
}

// A retried call counts once toward the key's rpm and costs only the
// attempt that answered.
func TestRouterRetriesDoNotDoubleCount(t *testing.T) {
	once := failing(t, 500, "", 1) // its first call fails, then it works
	args, dir := emptyGateway(t)
	writeFiles(t, dir, map[string]string{
		"gateway.yaml": "general_settings:\n  master_key: os.environ/GATEWAY_MASTER_KEY\n  salt_key: os.environ/GATEWAY_SALT_KEY\n" +
			"model_list:\n  - model_name: priced\n    litellm_params: {model: openai/x, api_base: \"" + once.url + "/v1\", api_key: os.environ/GATEWAY_SALT_KEY, input_cost_per_token: 0.001, output_cost_per_token: 0.002}\n    model_info: {id: priced}\n",
		"teams.d/t.yaml": "team_id: rc-team\nkeys:\n  - token: " + configs.HashKey(keyA) + "\n    key_alias: k\n    rpm_limit: 2\n",
	})
	g := startGateway(t, args...)
	code, h, raw := g.doH(t, "POST", "/v1/chat/completions", keyA, chatBody("priced", false))
	if code != 200 || h.Get("x-litellm-attempted-retries") != "1" {
		t.Fatalf("the retried call: %d %v %s", code, h, raw)
	}
	cost := costOf(t, h)
	if want := 11*0.001 + 7*0.002; cost < want*0.999 || cost > want*1.001 {
		t.Fatalf("a retried call cost %v, want the answering attempt's %v", cost, want)
	}
	if code, _, raw := g.doH(t, "POST", "/v1/chat/completions", keyA, chatBody("priced", false)); code != 200 {
		t.Fatalf("the second call of rpm 2 after a retried one: %d %s", code, raw)
	}
	if code, _, _ := g.doH(t, "POST", "/v1/chat/completions", keyA, chatBody("priced", false)); code != 429 {
		t.Fatalf("the third call of rpm 2: %d", code)
	}
	spent := g.ok(t, "GET", "/team/info?team_id=rc-team", masterKey, nil)["team_info"].(map[string]any)["spend"].(float64)
	if want := 2 * (11*0.001 + 7*0.002); spent < want*0.999 || spent > want*1.001 {
		t.Fatalf("team spend %v after two answered calls, want %v", spent, want)
	}
}

// background_health_checks probe every deployment each interval and cool
// a failing one down before any call is sent to it.
func TestRouterBackgroundHealthChecks(t *testing.T) {
	bad := failing(t, 401, "", -1)
	good := newFakeUpstream(t)
	args, dir := emptyGateway(t)
	writeFiles(t, dir, map[string]string{"gateway.yaml": `general_settings:
  master_key: os.environ/GATEWAY_MASTER_KEY
  salt_key: os.environ/GATEWAY_SALT_KEY
  background_health_checks: true
  health_check_interval: 1
model_list:
  - model_name: hc
    litellm_params: {model: openai/bad, api_base: "` + bad.url + `/v1", api_key: os.environ/GATEWAY_SALT_KEY, order: 1}
    model_info: {id: bad}
  - model_name: hc
    litellm_params: {model: openai/good, api_base: "` + good.url + `/v1", api_key: os.environ/GATEWAY_SALT_KEY, order: 2}
    model_info: {id: good}
router_settings:
  cooldown_time: 60
`})
	g := startGateway(t, args...)
	deadline := time.Now().Add(5 * time.Second)
	for bad.count() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // the probe's outcome reaches the router
	probes := bad.count()
	if probes == 0 {
		t.Fatal("no health check reached the deployment")
	}
	// The 401 cooled the order-1 deployment down: calls go to order 2.
	if code, h := chatOK(t, g, "hc"); code != 200 || h.Get("x-litellm-model-id") != "good" || bad.count() != probes {
		t.Fatalf("after a failed health check: %d %s, the failing deployment got %d calls", code, h.Get("x-litellm-model-id"), bad.count()-probes)
	}
}

// A wildcard deployment ("openai/*") forwards any name under its prefix
// to the upstream model of that name.
func TestRouterWildcardDeployment(t *testing.T) {
	up := newFakeUpstream(t)
	g := routerGateway(t, `  - model_name: "openai/*"
    litellm_params: {model: "openai/*", api_base: "`+up.url+`/v1", api_key: sk-x}
    model_info: {id: wild}
`)
	for _, name := range []string{"openai/gpt-4o-mini", "openai/o3"} {
		code, h, raw := g.doH(t, "POST", "/v1/chat/completions", masterKey, chatBody(name, false))
		if code != 200 || h.Get("x-litellm-model-id") != "wild" || up.last().Body["model"] != strings.TrimPrefix(name, "openai/") ||
			!strings.Contains(string(raw), `"model":"`+name+`"`) {
			t.Fatalf("%s: %d %v upstream model %v: %s", name, code, h, up.last().Body["model"], raw)
		}
	}
	if code, _, _ := g.doH(t, "POST", "/v1/chat/completions", masterKey, chatBody("anthropic/claude", false)); code != 400 {
		t.Fatalf("a name outside the wildcard: %d", code)
	}
}

// A context-length error goes to context_window_fallbacks, a content
// policy refusal to content_policy_fallbacks; neither is retried on the
// model that refused (the same body would be refused again).
func TestRouterContextWindowAndContentPolicyFallbacks(t *testing.T) {
	refusing := func(code, message string) *fakeUpstream {
		up := newFakeUpstream(t)
		up.handler = func(w http.ResponseWriter, _ *http.Request, _ map[string]any) bool {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(400)
			_, _ = w.Write([]byte(`{"error":{"message":"` + message + `","type":"invalid_request_error","code":"` + code + `"}}`))
			return true
		}
		return up
	}
	small := refusing("context_length_exceeded", "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.")
	strict := refusing("content_filter", "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.")
	big, lenient := newFakeUpstream(t), newFakeUpstream(t)
	args, dir := emptyGateway(t)
	writeFiles(t, dir, map[string]string{"gateway.yaml": `general_settings:
  master_key: os.environ/GATEWAY_MASTER_KEY
  salt_key: os.environ/GATEWAY_SALT_KEY
model_list:
  - model_name: small
    litellm_params: {model: openai/small, api_base: "` + small.url + `/v1", api_key: os.environ/GATEWAY_SALT_KEY}
    model_info: {id: small}
  - model_name: big
    litellm_params: {model: openai/big, api_base: "` + big.url + `/v1", api_key: os.environ/GATEWAY_SALT_KEY}
    model_info: {id: big}
  - model_name: strict
    litellm_params: {model: openai/strict, api_base: "` + strict.url + `/v1", api_key: os.environ/GATEWAY_SALT_KEY}
    model_info: {id: strict}
  - model_name: lenient
    litellm_params: {model: openai/lenient, api_base: "` + lenient.url + `/v1", api_key: os.environ/GATEWAY_SALT_KEY}
    model_info: {id: lenient}
router_settings:
  context_window_fallbacks: [{"small": ["big"]}]
  content_policy_fallbacks: [{"strict": ["lenient"]}]
  fallbacks: [{"small": ["lenient"]}]
`})
	g := startGateway(t, args...)
	if code, h := chatOK(t, g, "small"); code != 200 || h.Get("x-litellm-model-id") != "big" || small.count() != 1 {
		t.Fatalf("context length: %d %v (small called %d times)", code, h, small.count())
	}
	if code, h := chatOK(t, g, "strict"); code != 200 || h.Get("x-litellm-model-id") != "lenient" || strict.count() != 1 {
		t.Fatalf("content policy: %d %v (strict called %d times)", code, h, strict.count())
	}
}

// A team's own fallbacks, by its public names (set through /team/update
// and written to its file), are resolved inside the team.
func TestRouterTeamFallbacks(t *testing.T) {
	down := failing(t, 503, "", -1)
	good := newFakeUpstream(t)
	args, dir := emptyGateway(t)
	writeFiles(t, dir, map[string]string{
		"teams.d/t.yaml": "team_id: tf-team\nkeys:\n  - token: " + configs.HashKey(keyA) + "\n    key_alias: k\n",
		"models.d/t.yaml": `model_list:
  - model_name: model_name_tf_1
    litellm_params: {model: openai/p, api_base: "` + down.url + `/v1", api_key: os.environ/GATEWAY_SALT_KEY}
    model_info: {id: tf-primary, team_id: tf-team, team_public_model_name: mine}
  - model_name: model_name_tf_2
    litellm_params: {model: openai/b, api_base: "` + good.url + `/v1", api_key: os.environ/GATEWAY_SALT_KEY}
    model_info: {id: tf-backup, team_id: tf-team, team_public_model_name: my-backup}
`,
	})
	g := startGateway(t, args...)
	g.ok(t, "POST", "/team/update", masterKey, map[string]any{"team_id": "tf-team", "fallbacks": []any{map[string]any{"mine": []string{"my-backup"}}}})
	data, err := os.ReadFile(filepath.Join(dir, "teams.d", "t.yaml"))
	if err != nil || !strings.Contains(string(data), "my-backup") {
		t.Fatalf("the team file lacks the fallbacks: %v %s", err, data)
	}
	code, h, raw := g.doH(t, "POST", "/v1/chat/completions", keyA, chatBody("mine", false))
	if code != 200 || h.Get("x-litellm-model-id") != "tf-backup" {
		t.Fatalf("team fallback: %d %v %s", code, h, raw)
	}
	// A fallback to a name the team does not have is refused at the write.
	if code, _, raw := g.do(t, "POST", "/team/update", masterKey, map[string]any{"team_id": "tf-team",
		"fallbacks": []any{map[string]any{"mine": []string{"not-a-model"}}}}); code != 400 || !strings.Contains(string(raw), "not-a-model") {
		t.Fatalf("a fallback to an unknown name: %d %s", code, raw)
	}
}
