package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/llmgateway/gateway/configs"
)

// Team governance end to end: every rule through the running server, with
// a fake upstream answering usage 11 prompt + 7 completion tokens.

const (
	govTeam  = "9a0c6a7e-5b8e-4c53-a0e1-0d7c3f1b2a44"
	govKey   = "sk-gov-key-0123456789abcdef0123456789"
	govKey2  = "sk-gov-key2-0123456789abcdef012345678"
	govUpKey = "sk-gov-upstream-secret"
)

// govClock is the injectable clock of the team actors (testClock).
type govClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *govClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *govClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// useClock makes the next gateways started in this test use a fake clock.
func useClock(t *testing.T) *govClock {
	c := &govClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	testClock = c.Now
	t.Cleanup(func() { testClock = nil })
	return c
}

// govConfig describes one team ("gov") with two keys; teamExtra and the
// key extras are YAML lines added to the team and to each key.
type govConfig struct {
	teamExtra, key1Extra, key2Extra string
}

// govSetup writes the configuration and returns serve's arguments. The
// team's models, all on the fake upstream:
//
//	gpt4o     openai/gpt-4o, priced from the table
//	priced    openai/custom with input 0.01 / output 0.02 per token
//	nousage   openai/nousage with stream_include_usage: false
//	old-azure azure/old with api_version 2024-06-01 (no stream usage)
//
// and a global model global-mock (mock provider) and global-other.
func govSetup(t *testing.T, up *fakeUpstream, c govConfig, stateDir string) []string {
	t.Helper()
	t.Setenv("GOV_UPSTREAM_KEY", govUpKey)
	t.Setenv("GATEWAY_MASTER_KEY", masterKey)
	dir := t.TempDir()
	if stateDir == "" {
		stateDir = filepath.Join(dir, "state")
	}
	indent := func(s, pre string) string {
		if s == "" {
			return ""
		}
		lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
		return pre + strings.Join(lines, "\n"+pre) + "\n"
	}
	writeFiles(t, dir, map[string]string{
		"gateway.yaml": "general_settings:\n  master_key: os.environ/GATEWAY_MASTER_KEY\n" + allowLoopback +
			"model_list:\n  - model_name: global-mock\n    litellm_params: {model: mock/global}\n" +
			"  - model_name: global-other\n    litellm_params: {model: mock/other}\n",
		"teams.d/gov.yaml": "team_id: " + govTeam + "\nteam_alias: gov\n" + c.teamExtra +
			"keys:\n  - token: " + configs.HashKey(govKey) + "\n    key_alias: gov-ci\n" + indent(c.key1Extra, "    ") +
			"  - token: " + configs.HashKey(govKey2) + "\n    key_alias: gov-two\n" + indent(c.key2Extra, "    "),
		"models.d/gov.yaml": `model_list:
  - model_name: gov-gpt4o
    litellm_params: {model: openai/gpt-4o, api_base: ` + up.url + `/v1, api_key: os.environ/GOV_UPSTREAM_KEY}
    model_info: {id: gov-1, team_id: ` + govTeam + `, team_public_model_name: gpt4o}
  - model_name: gov-priced
    litellm_params: {model: openai/custom, api_base: ` + up.url + `/v1, input_cost_per_token: 0.01, output_cost_per_token: 0.02}
    model_info: {id: gov-2, team_id: ` + govTeam + `, team_public_model_name: priced}
  - model_name: gov-nousage
    litellm_params: {model: openai/nousage, api_base: ` + up.url + `/v1, stream_include_usage: false, input_cost_per_token: 0.001}
    model_info: {id: gov-3, team_id: ` + govTeam + `, team_public_model_name: nousage}
  - model_name: gov-unpriced
    litellm_params: {model: openai/gov-unpriced-model, api_base: ` + up.url + `/v1}
    model_info: {id: gov-5, team_id: ` + govTeam + `, team_public_model_name: unpriced}
  - model_name: gov-old-azure
    litellm_params: {model: azure/old, api_base: ` + up.url + `, api_version: 2024-06-01, api_key: os.environ/GOV_UPSTREAM_KEY}
    model_info: {id: gov-4, team_id: ` + govTeam + `, team_public_model_name: old-azure, base_model: azure/gpt-4o-mini}
`,
	})
	up.handler = govStreams
	return []string{"--config", filepath.Join(dir, "gateway.yaml"), "--teams-dir", filepath.Join(dir, "teams.d"),
		"--models-dir", filepath.Join(dir, "models.d"), "--state-dir", stateDir}
}

// govStreams answers streams like OpenAI: content chunks, then, only when
// asked with stream_options.include_usage, a final usage chunk with no
// choices (usage 11 + 7).
func govStreams(w http.ResponseWriter, _ *http.Request, body map[string]any) bool {
	if s, _ := body["stream"].(bool); !s {
		return false
	}
	opts, _ := body["stream_options"].(map[string]any)
	withUsage, _ := opts["include_usage"].(bool)
	w.Header().Set("Content-Type", "text/event-stream")
	model, _ := body["model"].(string)
	for _, c := range []string{"Hello", " there", ", friend"} {
		usage := ""
		if withUsage {
			usage = `,"usage":null`
		}
		fmt.Fprintf(w, "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":%q,\"choices\":[{\"index\":0,\"delta\":{\"content\":%q},\"finish_reason\":null}]%s}\n\n", model, c, usage)
	}
	if withUsage {
		fmt.Fprintf(w, "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":%q,\"choices\":[],\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":7,\"total_tokens\":18}}\n\n", model)
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
	return true
}

// govClient allows many concurrent connections to the gateway.
var govClient = &http.Client{Transport: &http.Transport{MaxIdleConns: 1000, MaxIdleConnsPerHost: 1000}, Timeout: 30 * time.Second}

type govResp struct {
	status int
	header http.Header
	body   []byte
	err    map[string]any
}

// govChat posts a chat completion; it is safe in any goroutine.
func govChat(addr, key, model string, extra string) (*govResp, error) {
	body := `{"model":` + strconv.Quote(model) + `,"messages":[{"role":"user","content":"Hello, gateway!"}]` + extra + `}`
	req, err := http.NewRequest("POST", "http://"+addr+"/v1/chat/completions", strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := govClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	r := &govResp{status: resp.StatusCode, header: resp.Header, body: raw}
	var m map[string]any
	if json.Unmarshal(raw, &m) == nil {
		r.err, _ = m["error"].(map[string]any)
	}
	return r, nil
}

func mustChat(t *testing.T, addr, key, model, extra string) *govResp {
	t.Helper()
	r, err := govChat(addr, key, model, extra)
	if err != nil {
		t.Fatalf("chat %s: %v", model, err)
	}
	return r
}

// expect checks a status and, for errors, that the message says each of says.
func (r *govResp) expect(t *testing.T, status int, says ...string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	if status == 429 && r.header.Get("retry-after") == "" {
		t.Fatalf("429 without retry-after: %s", r.body)
	}
	for _, s := range says {
		msg := ""
		if r.err != nil {
			msg, _ = r.err["message"].(string)
		}
		if !strings.Contains(msg, s) {
			t.Fatalf("message %q does not say %q", msg, s)
		}
	}
}

func TestGovernanceAllowlists(t *testing.T) {
	up := newFakeUpstream(t)
	g := startGateway(t, govSetup(t, up, govConfig{
		teamExtra: "models: [global-mock]\nmodel_aliases: {other: global-other}\n",
		key2Extra: "models: [gpt4o]",
	}, "")...)
	// The list allows global-mock; the team's own models and its explicit
	// aliases count as allowed too.
	mustChat(t, g.addr, govKey, "global-mock", "").expect(t, 200)
	mustChat(t, g.addr, govKey, "gpt4o", "").expect(t, 200)
	mustChat(t, g.addr, govKey, "other", "").expect(t, 200)
	r := mustChat(t, g.addr, govKey, "global-other", "")
	r.expect(t, 403, `Team=`+govTeam+` is not allowed to call model "global-other"`, "allowed models:", "global-mock", "gpt4o", "other")
	if r.err["type"] != "permission_error" || r.err["code"] != "403" {
		t.Errorf("envelope %s", r.body)
	}
	// A name that exists nowhere stays a 400 (the allowlist leaks nothing).
	mustChat(t, g.addr, govKey, "no-such", "").expect(t, 400)
	// The key's own list applies inside the team's.
	mustChat(t, g.addr, govKey2, "gpt4o", "").expect(t, 200)
	mustChat(t, g.addr, govKey2, "global-mock", "").expect(t, 403, `Key=gov-two is not allowed to call model "global-mock"; allowed models: gpt4o`)
}

func TestGovernanceBlocked(t *testing.T) {
	up := newFakeUpstream(t)
	g := startGateway(t, govSetup(t, up, govConfig{key2Extra: "blocked: true"}, "")...)
	mustChat(t, g.addr, govKey, "gpt4o", "").expect(t, 200)
	mustChat(t, g.addr, govKey2, "gpt4o", "").expect(t, 403, "Key=gov-two is blocked. Ask an admin to unblock it via /key/unblock")

	up2 := newFakeUpstream(t)
	g2 := startGateway(t, govSetup(t, up2, govConfig{teamExtra: "blocked: true\n"}, "")...)
	r := mustChat(t, g2.addr, govKey, "gpt4o", "")
	r.expect(t, 403)
	if msg := r.err["message"]; msg != "Team="+govTeam+" is blocked. Ask an admin to unblock it via /team/unblock" {
		t.Fatalf("message %q", msg)
	}
	if up2.count() != 0 {
		t.Error("a blocked team's call reached the upstream")
	}
}

func TestGovernanceRPMSlidingWindow(t *testing.T) {
	clock := useClock(t)
	up := newFakeUpstream(t)
	g := startGateway(t, govSetup(t, up, govConfig{teamExtra: "rpm_limit: 3\n", key2Extra: "rpm_limit: 1"}, "")...)
	for i := 0; i < 3; i++ {
		r := mustChat(t, g.addr, govKey, "gpt4o", "")
		r.expect(t, 200)
		if got := r.header.Get("x-ratelimit-remaining-requests"); got != strconv.Itoa(2-i) {
			t.Errorf("call %d: x-ratelimit-remaining-requests %q, want %d", i, got, 2-i)
		}
		clock.Advance(15 * time.Second)
	}
	// at 45 s: three calls in the last 60 s
	r := mustChat(t, g.addr, govKey, "gpt4o", "")
	r.expect(t, 429, "Team="+govTeam, "rpm_limit 3", "2026-03-01T12:01:00Z")
	if r.header.Get("retry-after") != "15" || r.err["type"] != "rate_limit_error" {
		t.Fatalf("retry-after %q type %v, want 15 s until the first call slides out", r.header.Get("retry-after"), r.err["type"])
	}
	clock.Advance(15 * time.Second) // 60 s: the first call slid out
	mustChat(t, g.addr, govKey, "gpt4o", "").expect(t, 200)
	mustChat(t, g.addr, govKey, "gpt4o", "").expect(t, 429, "rpm_limit 3")
	clock.Advance(15 * time.Second)
	// the key's own limit, inside the team's
	mustChat(t, g.addr, govKey2, "gpt4o", "").expect(t, 200)
	clock.Advance(15 * time.Second)
	mustChat(t, g.addr, govKey2, "gpt4o", "").expect(t, 429, "Key=gov-two", "rpm_limit 1")
}

func TestGovernanceTPMIncludingStream(t *testing.T) {
	clock := useClock(t)
	up := newFakeUpstream(t)
	g := startGateway(t, govSetup(t, up, govConfig{teamExtra: "tpm_limit: 30\n"}, "")...)
	r := mustChat(t, g.addr, govKey, "gpt4o", "") // 18 tokens
	r.expect(t, 200)
	if got := r.header.Get("x-ratelimit-remaining-tokens"); got != "12" {
		t.Errorf("x-ratelimit-remaining-tokens %q, want 12", got)
	}
	// A stream: the gateway asks the upstream for usage and strips the
	// usage chunk the client did not ask for.
	r = mustChat(t, g.addr, govKey, "gpt4o", `,"stream":true`)
	r.expect(t, 200)
	if got := up.last().Body["stream_options"]; fmt.Sprint(got) != "map[include_usage:true]" {
		t.Fatalf("upstream stream_options %v, want include_usage true", got)
	}
	if bytes.Contains(r.body, []byte(`"prompt_tokens"`)) || !bytes.HasSuffix(r.body, []byte("data: [DONE]\n\n")) {
		t.Fatalf("client stream carries the gateway's usage chunk or lacks [DONE]:\n%s", r.body)
	}
	if r.header.Get("x-ratelimit-remaining-tokens") != "12" {
		t.Errorf("stream x-ratelimit-remaining-tokens %q", r.header.Get("x-ratelimit-remaining-tokens"))
	}
	// 36 tokens in the last minute >= 30: refused until they slide out.
	r = mustChat(t, g.addr, govKey, "gpt4o", "")
	r.expect(t, 429, "tpm_limit 30")
	clock.Advance(61 * time.Second)
	// A client that asks for stream usage gets the chunk.
	r = mustChat(t, g.addr, govKey, "gpt4o", `,"stream":true,"stream_options":{"include_usage":true}`)
	r.expect(t, 200)
	if !bytes.Contains(r.body, []byte(`"prompt_tokens":11`)) {
		t.Fatalf("the client asked for usage and did not get it:\n%s", r.body)
	}
	clock.Advance(61 * time.Second)
	// Upstreams that cannot report stream usage (opt-out; Azure before
	// 2024-10-21): the gateway counts the tokens with a tokenizer.
	for _, model := range []string{"nousage", "old-azure"} {
		r = mustChat(t, g.addr, govKey, model, `,"stream":true`)
		r.expect(t, 200)
		if _, asked := up.last().Body["stream_options"]; asked {
			t.Fatalf("%s: the gateway asked for stream usage", model)
		}
		// The next call's headers show the tokens counted for the stream
		// (a stream's remaining-tokens is the figure at its admission).
		r = mustChat(t, g.addr, govKey, "gpt4o", `,"stream":true`)
		r.expect(t, 200)
		left, _ := strconv.Atoi(r.header.Get("x-ratelimit-remaining-tokens"))
		// the prompt (about 10 tokens) and "Hello there, friend" (4 or 5)
		if used := 30 - left; used < 10 || used > 25 {
			t.Fatalf("%s: %d streamed tokens counted, want about 15", model, used)
		}
		clock.Advance(61 * time.Second)
	}
}

// countingUpstream makes up count the calls in flight and hold each for d.
func countingUpstream(up *fakeUpstream, d time.Duration) (peak *atomic.Int64) {
	var cur atomic.Int64
	peak = &atomic.Int64{}
	up.handler = func(w http.ResponseWriter, r *http.Request, body map[string]any) bool {
		n := cur.Add(1)
		defer cur.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(d)
		return govStreams(w, r, body)
	}
	return peak
}

func burst(t *testing.T, n int, call func() (*govResp, error)) map[int]int {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	var errs []error
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r, err := call()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			if r.status == 429 && r.header.Get("retry-after") == "" {
				errs = append(errs, fmt.Errorf("429 without retry-after: %s", r.body))
			}
			codes[r.status]++
		}()
	}
	close(start)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d requests failed, first: %v", len(errs), errs[0])
	}
	return codes
}

func TestGovernanceParallelLimit(t *testing.T) {
	up := newFakeUpstream(t)
	args := govSetup(t, up, govConfig{teamExtra: "max_parallel_requests: 5\n"}, "")
	peak := countingUpstream(up, 200*time.Millisecond)
	g := startGateway(t, args...)
	codes := burst(t, 200, func() (*govResp, error) { return govChat(g.addr, govKey, "gpt4o", "") })
	if p := peak.Load(); p > 5 {
		t.Fatalf("the upstream saw %d calls at once, want at most 5", p)
	}
	if codes[200] < 5 || codes[200]+codes[429] != 200 {
		t.Fatalf("answers %v: want at least 5 successes and the rest 429", codes)
	}
	// Every finished call, streams and failures included, freed its slot.
	for i := 0; i < 3; i++ {
		mustChat(t, g.addr, govKey, "gpt4o", `,"stream":true`).expect(t, 200)
		mustChat(t, g.addr, govKey, "no-such-model", "").expect(t, 400)
	}
	codes = burst(t, 5, func() (*govResp, error) { return govChat(g.addr, govKey, "gpt4o", "") })
	if codes[200] != 5 {
		t.Fatalf("after the burst 5 parallel calls got %v: slots leaked", codes)
	}
}

func TestGovernanceExactRPMUnderConcurrency(t *testing.T) {
	up := newFakeUpstream(t)
	g := startGateway(t, govSetup(t, up, govConfig{teamExtra: "rpm_limit: 100\n"}, "")...)
	codes := burst(t, 500, func() (*govResp, error) { return govChat(g.addr, govKey, "gpt4o", "") })
	if codes[200] != 100 || codes[429] != 400 {
		t.Fatalf("answers %v, want exactly 100 x 200 and 400 x 429", codes)
	}
	if up.count() != 100 {
		t.Fatalf("the upstream saw %d calls, want 100", up.count())
	}
	// /team/info shows the live use of the limits: the 100 requests of the
	// current window, none in flight, no tpm window without a tpm_limit.
	live := g.ok(t, "GET", "/team/info?team_id="+govTeam, masterKey, nil)["team_info"].(map[string]any)["live_usage"].(map[string]any)
	if live["rpm_current"] != 100.0 || live["parallel_requests"] != 0.0 || live["tpm_current"] != nil {
		t.Fatalf("live_usage %v", live)
	}
}

func TestGovernanceBudgetExceededAndReset(t *testing.T) {
	clock := useClock(t)
	up := newFakeUpstream(t)
	g := startGateway(t, govSetup(t, up, govConfig{teamExtra: "max_budget: 0.5\nbudget_duration: 1d\n"}, "")...)
	// priced: 11 * 0.01 + 7 * 0.02 = 0.25 per call
	r := mustChat(t, g.addr, govKey, "priced", "")
	r.expect(t, 200)
	if c, _ := strconv.ParseFloat(r.header.Get("x-litellm-response-cost"), 64); math.Abs(c-0.25) > 1e-12 {
		t.Fatalf("x-litellm-response-cost %q, want 0.25", r.header.Get("x-litellm-response-cost"))
	}
	mustChat(t, g.addr, govKey, "priced", `,"stream":true`).expect(t, 200) // streams cost too
	r = mustChat(t, g.addr, govKey, "priced", "")
	r.expect(t, 429, "Team="+govTeam, "spend 0.5 USD", "max_budget 0.5 USD", "resets at 2026-03-02T12:00:00Z")
	if r.err["type"] != "budget_exceeded" || r.header.Get("retry-after") != "86400" {
		t.Fatalf("type %v retry-after %q", r.err["type"], r.header.Get("retry-after"))
	}
	clock.Advance(23 * time.Hour)
	mustChat(t, g.addr, govKey, "priced", "").expect(t, 429, "budget")
	clock.Advance(time.Hour) // budget_reset_at: spend back to 0
	mustChat(t, g.addr, govKey, "priced", "").expect(t, 200)
	mustChat(t, g.addr, govKey, "priced", "").expect(t, 200)
	mustChat(t, g.addr, govKey, "priced", "").expect(t, 429, "spend 0.5 USD", "resets at 2026-03-03T12:00:00Z")

	// A key's budget applies inside the team's.
	clock.Advance(24 * time.Hour)
	up2 := newFakeUpstream(t)
	g2 := startGateway(t, govSetup(t, up2, govConfig{key2Extra: "max_budget: 0.3"}, "")...)
	mustChat(t, g2.addr, govKey2, "priced", "").expect(t, 200)
	mustChat(t, g2.addr, govKey2, "priced", "").expect(t, 200)
	mustChat(t, g2.addr, govKey2, "priced", "").expect(t, 429, "Key=gov-two", "spend 0.5 USD", "never resets")
	mustChat(t, g2.addr, govKey, "priced", "").expect(t, 200)
}

func TestGovernancePrices(t *testing.T) {
	up := newFakeUpstream(t)
	g := startGateway(t, govSetup(t, up, govConfig{}, "")...)
	cases := []struct {
		model string
		want  float64
	}{
		{"gpt4o", 11*2.5e-6 + 7*1e-5},        // the table's gpt-4o
		{"priced", 11*0.01 + 7*0.02},         // litellm_params override
		{"old-azure", 11*1.65e-7 + 7*6.6e-7}, // model_info.base_model azure/gpt-4o-mini
		{"unpriced", 0},                      // unpriced: 0, never fails
		{"unpriced", 0},                      // (and warns once)
		{"nousage", 11 * 0.001},              // one override set: output costs 0
	}
	for _, c := range cases {
		r := mustChat(t, g.addr, govKey, c.model, "")
		r.expect(t, 200)
		got, err := strconv.ParseFloat(r.header.Get("x-litellm-response-cost"), 64)
		if err != nil || math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%s: cost %q, want %g", c.model, r.header.Get("x-litellm-response-cost"), c.want)
		}
	}
	if logs := g.finalLogs(); strings.Count(logs, "gov-unpriced-model") != 1 {
		t.Errorf("%d unpriced warnings, want 1:\n%s", strings.Count(logs, "gov-unpriced-model"), logs)
	}
}

func TestGovernanceStateDirRefusedUnderConfig(t *testing.T) {
	up := newFakeUpstream(t)
	args := govSetup(t, up, govConfig{}, "")
	teams := args[3]
	args[len(args)-1] = filepath.Join(teams, ".state")
	logs := &syncBuffer{}
	if code := serve(t.Context(), append(args, "--addr", "127.0.0.1:0"), logs, nil); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if !strings.Contains(logs.String(), "outside the configuration folders") {
		t.Fatalf("log does not explain: %s", logs.String())
	}
}

func TestGovernanceSpendKeptAcrossRestart(t *testing.T) {
	up := newFakeUpstream(t)
	state := filepath.Join(t.TempDir(), "state")
	args := govSetup(t, up, govConfig{teamExtra: "max_budget: 0.5\n", key1Extra: "max_budget: 10"}, state)
	g := startGateway(t, args...)
	mustChat(t, g.addr, govKey, "priced", "").expect(t, 200)
	mustChat(t, g.addr, govKey, "priced", `,"stream":true`).expect(t, 200)
	if code := g.stop(); code != 0 {
		t.Fatalf("exit %d:\n%s", code, g.logs.String())
	}
	g = startGateway(t, args...)
	mustChat(t, g.addr, govKey, "priced", "").expect(t, 429, "spend 0.5 USD")
}

// buildGateway compiles the gateway binary once per test run.
func buildGateway(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "gateway")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// runGateway starts the binary on a free port and waits until it is ready.
func runGateway(t *testing.T, bin string, args []string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve"}, append(args, "--addr", "127.0.0.1:0")...)...)
	cmd.Env = os.Environ()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addrc := make(chan string, 1)
	var logs syncBuffer
	go func() {
		sc := bufio.NewScanner(stderr)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			logs.Write([]byte(line + "\n"))
			if i := strings.Index(line, "addr="); !sent && i >= 0 && strings.Contains(line, "gateway listening") {
				addrc <- strings.Fields(line[i+5:])[0]
				sent = true
			}
		}
	}()
	var addr string
	select {
	case addr = <-addrc:
	case <-time.After(30 * time.Second):
		t.Fatalf("the gateway did not start:\n%s", logs.String())
	}
	// Poll readiness.
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/health/readiness")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return cmd, addr
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready: %v\n%s", err, logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestGovernanceSpendSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildGateway(t)
	up := newFakeUpstream(t)
	state := filepath.Join(t.TempDir(), "state")
	args := govSetup(t, up, govConfig{teamExtra: "max_budget: 0.75\n"}, state)
	cmd, addr := runGateway(t, bin, args)
	for i := 0; i < 3; i++ { // 0.75
		mustChat(t, addr, govKey, "priced", "").expect(t, 200)
	}
	time.Sleep(time.Second) // at most the last second may be lost
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	_, addr = runGateway(t, bin, args)
	mustChat(t, addr, govKey, "priced", "").expect(t, 429, "spend 0.75 USD", "max_budget 0.75 USD")
}
