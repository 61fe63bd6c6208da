package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/manage"
)

// Every key and team field means something: each field the four write
// endpoints accept is either enforced (its effect shows in /key/info or
// /team/info, and in the behaviour tests below) or refused with a 400
// that names it.

// fieldCase is one field sent to a write endpoint: the value, and what
// must follow (an effect checked on the stored object, or a 400).
type fieldCase struct {
	field  string
	value  any
	effect func(t *testing.T, obj map[string]any) // nil: want a 400 naming field
}

func has(key string, want any) func(t *testing.T, obj map[string]any) {
	return func(t *testing.T, obj map[string]any) {
		t.Helper()
		got, _ := json.Marshal(obj[key])
		exp, _ := json.Marshal(want)
		if string(got) != string(exp) {
			t.Errorf("%s = %s, want %s (object %v)", key, got, exp, obj)
		}
	}
}

var keyFieldCases = []fieldCase{
	{"key", "sk-custom-" + strings.Repeat("aB3xY9", 4), func(t *testing.T, obj map[string]any) {
		if obj["token"] != configs.HashKey("sk-custom-"+strings.Repeat("aB3xY9", 4)) {
			t.Errorf("custom key: token %v is not its sha256", obj["token"])
		}
	}},
	{"team_id", teamA, has("team_id", teamA)},
	{"key_alias", "ci", has("key_alias", "ci")},
	{"user_id", "u-1", has("user_id", "u-1")},
	{"models", []string{"m1"}, has("models", []string{"m1"})},
	{"duration", "2w", func(t *testing.T, obj map[string]any) {
		if obj["expires"] == nil {
			t.Errorf("duration 2w: no expires")
		}
	}},
	{"metadata", map[string]any{"tags": []string{"meta-tag"}, "owner": "x"}, has("metadata", map[string]any{"owner": "x", "tags": []string{"meta-tag"}})},
	{"blocked", true, has("blocked", true)},
	{"tpm_limit", 100, has("tpm_limit", 100)},
	{"rpm_limit", 10, has("rpm_limit", 10)},
	{"max_parallel_requests", 2, has("max_parallel_requests", 2)},
	{"max_budget", 5.5, has("max_budget", 5.5)},
	{"budget_duration", "1w", has("budget_duration", "1w")},
	{"tags", []string{"prod", "search"}, has("tags", []string{"prod", "search"})},
	{"allowed_routes", []string{"/chat/completions", "info_routes"}, has("allowed_routes", []string{"/chat/completions", "info_routes"})},
	{"soft_budget", 1.25, has("soft_budget", 1.25)},
	{"model_max_budget", map[string]any{"gpt-4o": map[string]any{"budget_limit": 2, "time_period": "1d"}, "cheap": 1},
		has("model_max_budget", map[string]any{"cheap": map[string]any{"budget_limit": 1}, "gpt-4o": map[string]any{"budget_limit": 2, "time_period": "1d"}})},
	{"model_rpm_limit", map[string]int{"gpt-4o": 3}, has("model_rpm_limit", map[string]int{"gpt-4o": 3})},
	{"model_tpm_limit", map[string]int{"gpt-4o": 300}, has("model_tpm_limit", map[string]int{"gpt-4o": 300})},
	// LiteLLM fields the gateway does not enforce: a 400 naming them.
	{"guardrails", []string{"pii"}, nil},
	{"permissions", map[string]any{"allow_pii_controls": true}, nil},
	{"enforced_params", []string{"user"}, nil},
	{"config", map[string]any{"x": 1}, nil},
	{"aliases", map[string]string{"a": "b"}, nil},
	{"organization_id", "org-1", nil},
	{"spend", 3, nil},
	{"object_permission", map[string]any{"mcp_servers": []string{"s"}}, nil},
	{"temp_budget_increase", 10, nil},
	{"no_such_field", 1, nil},
}

var teamFieldCases = []fieldCase{
	{"team_id", teamB, has("team_id", teamB)},
	{"team_alias", "search", has("team_alias", "search")},
	{"organization_id", "org-1", has("organization_id", "org-1")},
	{"members_with_roles", []map[string]string{{"user_id": "u1", "role": "admin"}}, has("members_with_roles", []map[string]string{{"user_id": "u1", "role": "admin"}})},
	{"admins", []string{"a1"}, has("admins", []string{"a1"})},
	{"users", []string{"u2"}, has("members", []string{"u2"})},
	{"metadata", map[string]any{"tags": []string{"t"}}, has("metadata", map[string]any{"tags": []string{"t"}})},
	{"tpm_limit", 100, has("tpm_limit", 100)},
	{"rpm_limit", 10, has("rpm_limit", 10)},
	{"max_parallel_requests", 2, has("max_parallel_requests", 2)},
	{"max_budget", 5.5, has("max_budget", 5.5)},
	{"budget_duration", "2w", has("budget_duration", "2w")},
	{"models", []string{"m1"}, has("models", []string{"m1"})},
	{"blocked", true, has("blocked", true)},
	{"tags", []string{"prod"}, has("tags", []string{"prod"})},
	{"model_aliases", map[string]string{"fast": "m1"}, has("model_aliases", map[string]string{"fast": "m1"})},
	{"fallbacks", []map[string][]string{}, func(t *testing.T, obj map[string]any) {}},
	{"guardrails", []string{"pii"}, nil},
	{"model_rpm_limit", map[string]int{"m": 1}, nil},
	{"model_tpm_limit", map[string]int{"m": 1}, nil},
	{"model_max_budget", map[string]any{"m": 1}, nil},
	{"soft_budget", 1, nil},
	{"allowed_routes", []string{"/chat/completions"}, nil},
	{"team_member_budget", 1, nil},
	{"prompts", []string{"p"}, nil},
	{"no_such_field", 1, nil},
}

// TestEveryKeyAndTeamFieldIsEnforcedOrRefused sends each field of each
// write endpoint and wants its effect or a 400 naming it; and every
// accepted field (manage.KeyFields, manage.TeamFields) has a case here, so
// a field added there without a test fails.
func TestEveryKeyAndTeamFieldIsEnforcedOrRefused(t *testing.T) {
	for _, list := range []struct {
		accepted []string
		cases    []fieldCase
	}{{manage.KeyFields, keyFieldCases}, {manage.TeamFields, teamFieldCases}} {
		for _, f := range list.accepted {
			if !slices.ContainsFunc(list.cases, func(c fieldCase) bool { return c.field == f && c.effect != nil }) {
				t.Errorf("accepted field %q has no effect case in this test", f)
			}
		}
	}
	g := mockGateway(t)
	g.ok(t, "POST", "/team/new", masterKey, map[string]any{"team_id": teamA})

	refused := func(t *testing.T, code int, m map[string]any, raw []byte, field string) {
		t.Helper()
		if code != 400 {
			t.Fatalf("%s: %d %s, want a 400", field, code, raw)
		}
		if e := errorOf(t, m, raw); e["param"] != field || !strings.Contains(e["message"].(string), field) {
			t.Fatalf("%s: the 400 does not name it: %s", field, raw)
		}
	}
	for _, c := range keyFieldCases {
		for _, endpoint := range []string{"/key/generate", "/key/update"} {
			t.Run(endpoint+"/"+c.field, func(t *testing.T) {
				body := map[string]any{"team_id": teamA}
				var token string
				if endpoint == "/key/update" {
					if c.field == "key" || c.field == "team_id" {
						return // the key to change, and a key's team, which cannot change
					}
					gen := g.ok(t, "POST", "/key/generate", masterKey, map[string]any{"team_id": teamA})
					token = gen["token"].(string)
					body = map[string]any{"key": token}
				}
				body[c.field] = c.value
				code, m, raw := g.do(t, "POST", endpoint, masterKey, body)
				if c.effect == nil {
					refused(t, code, m, raw, c.field)
					return
				}
				if code != 200 {
					t.Fatalf("%s: %d %s", c.field, code, raw)
				}
				if token == "" {
					token = m["token"].(string)
				}
				info := g.ok(t, "GET", "/key/info?key="+token, masterKey, nil)
				c.effect(t, info["info"].(map[string]any))
			})
		}
	}
	for _, c := range teamFieldCases {
		for i, endpoint := range []string{"/team/new", "/team/update"} {
			t.Run(endpoint+"/"+c.field, func(t *testing.T) {
				id := teamB
				if c.field != "team_id" || endpoint == "/team/update" {
					id = strings.ReplaceAll(c.field, "_", "-") + "-" + []string{"new", "upd"}[i]
				}
				body := map[string]any{"team_id": id}
				if endpoint == "/team/update" {
					if c.field == "team_id" {
						return // names the team to change
					}
					g.ok(t, "POST", "/team/new", masterKey, map[string]any{"team_id": id})
				}
				if c.field != "team_id" {
					body[c.field] = c.value
				}
				code, m, raw := g.do(t, "POST", endpoint, masterKey, body)
				if c.effect == nil {
					refused(t, code, m, raw, c.field)
					return
				}
				if code != 200 {
					t.Fatalf("%s: %d %s", c.field, code, raw)
				}
				info := g.ok(t, "GET", "/team/info?team_id="+id, masterKey, nil)
				c.effect(t, info["team_info"].(map[string]any))
			})
		}
	}
	// Empty values of refused LiteLLM fields are "not set" (LiteLLM's UI
	// sends them so).
	g.ok(t, "POST", "/key/generate", masterKey, map[string]any{"team_id": teamA, "guardrails": []string{}, "permissions": map[string]any{}, "enforced_params": nil, "spend": 0})
}

// Bad values of the enforced fields are 400s that name them.
func TestKeyFieldsBadValues(t *testing.T) {
	args, _ := emptyGateway(t)
	g := startGateway(t, args...)
	g.ok(t, "POST", "/team/new", masterKey, map[string]any{"team_id": teamA})
	for _, c := range []struct {
		field string
		value any
		says  string
	}{
		{"tags", []string{""}, "empty"},
		{"tags", []string{strings.Repeat("x", 200)}, "longer than 128"},
		{"tags", "prod", "list of strings"},
		{"metadata", map[string]any{"tags": "prod"}, "metadata.tags"},
		{"allowed_routes", []string{"everything"}, "route group"},
		{"allowed_routes", []string{"/a*b"}, "trailing *"},
		{"soft_budget", -1, "negative"},
		{"model_max_budget", map[string]any{"m": map[string]any{"time_period": "1d"}}, "budget_limit"},
		{"model_max_budget", map[string]any{"m": map[string]any{"budget_limit": 1, "time_period": "1y"}}, "time_period"},
		{"model_rpm_limit", map[string]any{"m": -1}, "negative"},
		{"model_tpm_limit", map[string]any{"m": "x"}, "model_tpm_limit"},
		{"budget_duration", "1y", "w or mo"},
		{"key", "not-sk-0123456789abcdefghijkl", `start with "sk-"`},
		{"key", "sk-short", "characters"},
		{"key", "sk-aaaaaaaaaaaaaaaaaaaaaaaaaaaa", "too easy to guess"},
	} {
		code, m, raw := g.do(t, "POST", "/key/generate", masterKey, map[string]any{"team_id": teamA, c.field: c.value})
		if code != 400 {
			t.Errorf("%s=%v: %d %s, want 400", c.field, c.value, code, raw)
			continue
		}
		e := errorOf(t, m, raw)
		if e["param"] != c.field || !strings.Contains(e["message"].(string), c.says) {
			t.Errorf("%s=%v: %s, want param %s and %q", c.field, c.value, raw, c.field, c.says)
		}
	}
	code, m, raw := g.do(t, "POST", "/team/new", masterKey, map[string]any{"team_id": teamB, "tags": []string{"ok", ""}})
	if code != 400 || errorOf(t, m, raw)["param"] != "tags" {
		t.Errorf("team tags with an empty one: %d %s", code, raw)
	}
}

// A custom key value works, is stored as its sha256 only, and cannot take
// the value of any other key (another team's included, without saying
// whose).
func TestCustomKeyE2E(t *testing.T) {
	args, dir := emptyGateway(t)
	g := startGateway(t, args...)
	g.ok(t, "POST", "/team/new", masterKey, map[string]any{"team_id": teamA, "members_with_roles": []map[string]string{{"user_id": "boss", "role": "admin"}}})
	g.ok(t, "POST", "/team/new", masterKey, map[string]any{"team_id": teamB, "team_alias": "secret-team-name"})
	custom := "sk-my-own-Key-7f3a9c2e41b8d605"
	gen := g.ok(t, "POST", "/key/generate", masterKey, map[string]any{"team_id": teamB, "key": custom})
	if gen["key"] != custom || gen["token"] != configs.HashKey(custom) {
		t.Fatalf("custom key answer: %v", gen)
	}
	grepTree(t, dir, custom)
	if info := g.ok(t, "GET", "/key/info", custom, nil); info["info"].(map[string]any)["team_id"] != teamB {
		t.Fatalf("the custom key does not authenticate as its team's: %v", info)
	}
	admin := g.ok(t, "POST", "/key/generate", masterKey, map[string]any{"team_id": teamA, "user_id": "boss"})["key"].(string)
	for _, k := range []string{masterKey, custom} {
		code, m, raw := g.do(t, "POST", "/key/generate", admin, map[string]any{"team_id": teamA, "key": k})
		if k == masterKey && code == 400 && errorOf(t, m, raw)["param"] == "key" {
			continue // the master key is too short to be a custom key anyway
		}
		if code != 400 || errorOf(t, m, raw)["param"] != "key" || !strings.Contains(string(raw), "already in use") {
			t.Fatalf("a used value: %d %s", code, raw)
		}
		if strings.Contains(string(raw), teamB) || strings.Contains(string(raw), "secret-team-name") {
			t.Fatalf("the refusal names the other team: %s", raw)
		}
	}
}

// allowed_routes: a key calls only the routes listed; another is a 403
// that names the route and the setting.
func TestAllowedRoutesE2E(t *testing.T) {
	g := mockGateway(t)
	g.ok(t, "POST", "/team/new", masterKey, map[string]any{"team_id": teamA})
	chatOnly := g.ok(t, "POST", "/key/generate", masterKey, map[string]any{"team_id": teamA, "allowed_routes": []string{"/chat/completions"}})["key"].(string)
	llm := g.ok(t, "POST", "/key/generate", masterKey, map[string]any{"team_id": teamA, "allowed_routes": []string{"llm_api_routes"}})["key"].(string)
	chat := map[string]any{"model": "m1", "messages": []map[string]string{{"role": "user", "content": "hi"}}}
	for _, p := range []string{"/chat/completions", "/v1/chat/completions", "/openai/deployments/m1/chat/completions?api-version=2024-10-21"} {
		if code, _, raw := g.do(t, "POST", p, chatOnly, chat); code != 200 {
			t.Errorf("%s with /chat/completions allowed: %d %s", p, code, raw)
		}
	}
	for _, p := range []string{"/v1/models", "/key/info"} {
		code, m, raw := g.do(t, "GET", p, chatOnly, nil)
		if code != 403 {
			t.Fatalf("%s outside allowed_routes: %d %s", p, code, raw)
		}
		msg := errorOf(t, m, raw)["message"].(string)
		if !strings.Contains(msg, "allowed_routes") || !strings.Contains(msg, strings.TrimPrefix(p, "/v1")) {
			t.Errorf("the 403 must name the route and allowed_routes: %s", msg)
		}
	}
	if code, _, raw := g.do(t, "GET", "/v1/models", llm, nil); code != 200 {
		t.Errorf("llm_api_routes must allow /v1/models: %d %s", code, raw)
	}
	if code, _, _ := g.do(t, "GET", "/key/info", llm, nil); code != 403 {
		t.Errorf("llm_api_routes must not allow /key/info: %d", code)
	}
}

// mockGateway is emptyGateway with a global model m1 (mock provider).
func mockGateway(t *testing.T) *gatewayProc {
	t.Helper()
	args, _ := emptyGateway(t)
	b, err := os.ReadFile(args[1])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(args[1], append(b, []byte("model_list:\n  - model_name: m1\n    litellm_params: {model: mock/m1}\n")...), 0o600); err != nil {
		t.Fatal(err)
	}
	return startGateway(t, args...)
}

// keyfieldsGov is the governance team (govSetup) with extra general
// settings lines.
func keyfieldsGov(t *testing.T, up *fakeUpstream, c govConfig, general string) []string {
	t.Helper()
	args := govSetup(t, up, c, "")
	b, err := os.ReadFile(args[1])
	if err != nil {
		t.Fatal(err)
	}
	out := strings.Replace(string(b), "general_settings:\n", "general_settings:\n"+general, 1)
	if err := os.WriteFile(args[1], []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	return args
}

// Per-model limits of a key: model_rpm_limit and model_max_budget refuse
// with 429 (retry-after) for that model only. A call to "priced" costs
// 0.25 USD (11 * 0.01 + 7 * 0.02).
func TestKeyModelLimitsE2E(t *testing.T) {
	clock := useClock(t)
	up := newFakeUpstream(t)
	args := keyfieldsGov(t, up, govConfig{
		key1Extra: "model_rpm_limit: {priced: 2}\nmodel_tpm_limit: {gpt4o: 10}",
		key2Extra: "model_max_budget: {priced: {budget_limit: 0.3, time_period: 1d}}",
	}, "")
	g := startGateway(t, args...)

	mustChat(t, g.addr, govKey, "priced", "").expect(t, 200)
	mustChat(t, g.addr, govKey, "priced", "").expect(t, 200)
	r := mustChat(t, g.addr, govKey, "priced", "")
	r.expect(t, 429, "model_rpm_limit[priced]", "Key=gov-ci")
	mustChat(t, g.addr, govKey, "gpt4o", "").expect(t, 200) // another model is not limited by it
	mustChat(t, g.addr, govKey, "gpt4o", "").expect(t, 429, "model_tpm_limit[gpt4o]")
	clock.Advance(61 * time.Second)
	mustChat(t, g.addr, govKey, "priced", "").expect(t, 200)

	mustChat(t, g.addr, govKey2, "priced", "").expect(t, 200)
	mustChat(t, g.addr, govKey2, "priced", "").expect(t, 200) // 0.25 < 0.3 at admission
	mustChat(t, g.addr, govKey2, "priced", "").expect(t, 429, "model_max_budget[priced]", "0.5")
	mustChat(t, g.addr, govKey2, "gpt4o", "").expect(t, 200)
	clock.Advance(25 * time.Hour)
	mustChat(t, g.addr, govKey2, "priced", "").expect(t, 200)
}

// soft_budget: once the key's spend crosses it, a log line, a metric, the
// x-litellm-key-soft-budget header on later calls, and one webhook POST
// per period that names the key by alias and token, never by value.
func TestSoftBudgetE2E(t *testing.T) {
	useClock(t)
	var mu sync.Mutex
	var posts [][]byte
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		posts = append(posts, b)
		mu.Unlock()
	}))
	t.Cleanup(hook.Close)
	t.Setenv("GATEWAY_TEST_ALERT_URL", hook.URL+"/alert")
	up := newFakeUpstream(t)
	args := keyfieldsGov(t, up, govConfig{key1Extra: "soft_budget: 0.3"}, "  alerting_webhook_url: os.environ/GATEWAY_TEST_ALERT_URL\n")
	g := startGateway(t, args...)
	// The counter is process-wide (go test -count=2): compare before and after.
	softMetric := func() float64 {
		_, _, raw := g.do(t, "GET", "/metrics", masterKey, nil)
		prefix := `gateway_soft_budget_crossed_total{team="` + govTeam + `"} `
		for _, line := range strings.Split(string(raw), "\n") {
			if v, ok := strings.CutPrefix(line, prefix); ok {
				n, _ := strconv.ParseFloat(v, 64)
				return n
			}
		}
		return 0
	}
	before := softMetric()

	if r := mustChat(t, g.addr, govKey, "priced", ""); r.status != 200 || r.header.Get("x-litellm-key-soft-budget") != "" {
		t.Fatalf("under the soft budget: %d %v", r.status, r.header)
	}
	mustChat(t, g.addr, govKey, "priced", "").expect(t, 200) // 0.5 now: crossed
	for i := 0; i < 2; i++ {
		r := mustChat(t, g.addr, govKey, "priced", "")
		if r.status != 200 || r.header.Get("x-litellm-key-soft-budget") != "0.3" {
			t.Fatalf("over the soft budget: %d header %q", r.status, r.header.Get("x-litellm-key-soft-budget"))
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(posts)
		mu.Unlock()
		if n > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	mu.Lock()
	got := slices.Clone(posts)
	mu.Unlock()
	if len(got) != 1 {
		t.Fatalf("webhook posts: %d, want exactly 1: %q", len(got), got)
	}
	var alert map[string]any
	if err := json.Unmarshal(got[0], &alert); err != nil || alert["event"] != "soft_budget_crossed" || alert["key_alias"] != "gov-ci" ||
		alert["token"] != configs.HashKey(govKey) || alert["team_id"] != govTeam || alert["soft_budget"] != 0.3 {
		t.Fatalf("alert: %s", got[0])
	}
	if strings.Contains(string(got[0]), govKey) {
		t.Fatalf("the alert holds the key: %s", got[0])
	}
	if after := softMetric(); after != before+1 {
		t.Errorf("gateway_soft_budget_crossed_total went from %v to %v, want +1", before, after)
	}
	logs := g.finalLogs()
	if strings.Count(logs, "crossed its soft budget") != 1 || strings.Contains(logs, govKey) || strings.Contains(logs, hook.URL) {
		t.Errorf("want one soft budget line, without the key or the webhook URL:\n%s", logs)
	}
}

// budget_reset_calendar: a 1d budget resets at midnight in the configured
// time zone, not 24 hours after the period started.
func TestBudgetCalendarResetE2E(t *testing.T) {
	clock := useClock(t) // 2026-03-01 12:00 UTC, a Sunday
	up := newFakeUpstream(t)
	args := keyfieldsGov(t, up, govConfig{key1Extra: "max_budget: 0.3\nbudget_duration: 1d"},
		"  budget_reset_calendar: true\n  budget_reset_timezone: Europe/Paris\n")
	g := startGateway(t, args...)
	mustChat(t, g.addr, govKey, "priced", "").expect(t, 200)
	mustChat(t, g.addr, govKey, "priced", "").expect(t, 200)
	// Midnight in Paris (UTC+1 in March) is 23:00 UTC.
	mustChat(t, g.addr, govKey, "priced", "").expect(t, 429, "resets at 2026-03-01T23:00:00Z")
	clock.Advance(11*time.Hour + time.Second)
	mustChat(t, g.addr, govKey, "priced", "").expect(t, 200)
	if _, err := os.Stat(filepath.Dir(args[1])); err != nil {
		t.Fatal(err)
	}
}
