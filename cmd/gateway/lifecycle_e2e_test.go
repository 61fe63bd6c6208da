package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/gateway"
	"github.com/llmgateway/gateway/spend"
)

// Key and team lifecycle, finite numbers and leaks through the management
// API (issue 11, observations 4, 9, 10, 11, 15 and 18), end to end.

const (
	lcTeam  = "lc-team"
	lcOther = "lc-other"
)

// lcChat calls model with key and returns the status and the body.
func lcChat(t *testing.T, g *gatewayProc, key, model string) (int, string) {
	t.Helper()
	code, _, raw := g.do(t, "POST", "/v1/chat/completions", key, map[string]any{"model": model, "messages": []any{map[string]any{"role": "user", "content": "hi"}}})
	return code, string(raw)
}

// lcPriced adds a priced mock model (public name name) to team.
func lcPriced(t *testing.T, g *gatewayProc, team, name string, price float64) {
	t.Helper()
	g.ok(t, "POST", "/model/new", masterKey, map[string]any{"model_name": name,
		"litellm_params": map[string]any{"model": "mock/" + name, "input_cost_per_token": price, "output_cost_per_token": price},
		"model_info":     map[string]any{"team_id": team}})
}

func lcTeamSpend(t *testing.T, g *gatewayProc, team string) float64 {
	t.Helper()
	info := g.ok(t, "GET", "/team/info?team_id="+team, masterKey, nil)
	return info["team_info"].(map[string]any)["spend"].(float64)
}

func lcKeyInfo(t *testing.T, g *gatewayProc, key string) map[string]any {
	t.Helper()
	return g.ok(t, "GET", "/key/info?key="+configs.HashKey(key), masterKey, nil)["info"].(map[string]any)
}

// lcMessage returns the error message of a non-200 answer, failing on a
// 200.
func lcMessage(t *testing.T, code int, m map[string]any, raw []byte) string {
	t.Helper()
	if code == 200 {
		t.Fatalf("expected an error, got 200: %s", raw)
	}
	return errorOf(t, m, raw)["message"].(string)
}

// Observation 4: a price of 1e308 per token was accepted and two calls
// made the team's spend +Inf; /team/info, /team/list, /key/list answered
// 500 and the spend flush failed for every team. Every price, limit and
// budget is now finite and bounded, checked where every write goes
// through (the configuration's validation), and another team's spend is
// persisted whatever happens.
func TestLifecyclePricesAreFiniteAndBounded(t *testing.T) {
	args, dir := emptyGateway(t)
	g := startGateway(t, args...)
	g.ok(t, "POST", "/team/new", masterKey, map[string]any{"team_id": lcTeam, "members_with_roles": []any{map[string]any{"user_id": "ann", "role": "admin"}}})
	g.ok(t, "POST", "/team/new", masterKey, map[string]any{"team_id": lcOther})
	admin := g.ok(t, "POST", "/key/generate", masterKey, map[string]any{"team_id": lcTeam, "user_id": "ann"})["key"].(string)
	otherKey := g.ok(t, "POST", "/key/generate", masterKey, map[string]any{"team_id": lcOther})["key"].(string)
	lcPriced(t, g, lcOther, "cheap", 0.001)

	// The attack: a team key registers a model priced 1e308 per token and
	// calls it twice.
	for _, who := range []string{admin, masterKey} {
		code, m, raw := g.do(t, "POST", "/model/new", who, map[string]any{"model_name": "inf",
			"litellm_params": map[string]any{"model": "mock/inf", "input_cost_per_token": 1e308},
			"model_info":     map[string]any{"team_id": lcTeam}})
		if code != 400 || !strings.Contains(lcMessage(t, code, m, raw), "input_cost_per_token") || errorOf(t, m, raw)["param"] != "litellm_params.input_cost_per_token" {
			t.Errorf("price 1e308: %d %s, want 400 naming input_cost_per_token", code, raw)
		}
	}
	lcChat(t, g, admin, "inf")
	lcChat(t, g, admin, "inf")
	if code, body := lcChat(t, g, otherKey, "cheap"); code != 200 {
		t.Fatalf("the other team's call: %d %s", code, body)
	}
	// A price above $1 per token, through /model/update too.
	code, m, raw := g.do(t, "POST", "/model/new", masterKey, map[string]any{"model_name": "dear",
		"litellm_params": map[string]any{"model": "mock/dear", "output_cost_per_token": 0.5}, "model_info": map[string]any{"team_id": lcTeam}})
	if code != 200 {
		t.Fatalf("price 0.5: %d %s", code, raw)
	}
	id := m["model_id"].(string)
	code, m, raw = g.do(t, "POST", "/model/update", masterKey, map[string]any{"model_info": map[string]any{"id": id}, "litellm_params": map[string]any{"output_cost_per_token": 2}})
	if code != 400 || !strings.Contains(lcMessage(t, code, m, raw), "output_cost_per_token") {
		t.Errorf("price 2 by /model/update: %d %s", code, raw)
	}
	// Budgets: bounded, whoever sets them.
	for _, c := range []struct {
		path  string
		body  map[string]any
		field string
	}{
		{"/team/new", map[string]any{"team_id": "huge", "max_budget": 1e300}, "max_budget"},
		{"/team/update", map[string]any{"team_id": lcTeam, "max_budget": 1e300}, "max_budget"},
		{"/team/update", map[string]any{"team_id": lcTeam, "max_budget": -1}, "max_budget"},
		{"/key/generate", map[string]any{"team_id": lcTeam, "max_budget": 1e300}, "max_budget"},
		{"/team/update", map[string]any{"team_id": lcTeam, "rpm_limit": -5}, "rpm_limit"},
	} {
		code, m, raw := g.do(t, "POST", c.path, masterKey, c.body)
		if code != 400 || !strings.Contains(lcMessage(t, code, m, raw), c.field) || errorOf(t, m, raw)["param"] != c.field {
			t.Errorf("%s %v: %d %s, want 400 naming %s", c.path, c.body, code, raw, c.field)
		}
	}
	// Everything still answers, for the master and for the team.
	for _, p := range []string{"/team/info?team_id=" + lcTeam, "/team/list", "/key/list"} {
		g.ok(t, "GET", p, masterKey, nil)
		g.ok(t, "GET", p, admin, nil)
	}
	g.ok(t, "POST", "/team/update", masterKey, map[string]any{"team_id": lcTeam, "team_alias": "still-works"})

	// A hand-written file with such a price is refused with its position.
	writeFiles(t, dir, map[string]string{"models.d/hand.yaml": "model_list:\n  - model_name: hand\n    litellm_params:\n      model: mock/hand\n      input_cost_per_token: 1e308\n"})
	code, _, raw = g.do(t, "POST", "/config/reload", masterKey, nil)
	if code != 422 || !strings.Contains(string(raw), "hand.yaml:5:29") || !strings.Contains(string(raw), "input_cost_per_token") {
		t.Errorf("reload with a 1e308 price: %d %s", code, raw)
	}
	_ = os.Remove(filepath.Join(dir, "models.d", "hand.yaml"))

	// The other team's spend was persisted: it survives a restart.
	before := lcTeamSpend(t, g, lcOther)
	if before <= 0 {
		t.Fatalf("the other team's spend: %v", before)
	}
	g.stop()
	g = startGateway(t, args...)
	if after := lcTeamSpend(t, g, lcOther); after != before {
		t.Errorf("the other team's spend after a restart: %v, want %v", after, before)
	}
	if s := lcTeamSpend(t, g, lcTeam); math.IsNaN(s) || math.IsInf(s, 0) {
		t.Errorf("team spend %v", s)
	}
}

// One team's absurd spend state (unreadable records, a negative spend,
// the largest float64) neither breaks that team's answers nor stops
// another team's spend from being persisted.
func TestLifecycleAbsurdStateDoesNotStopOthers(t *testing.T) {
	args, dir := emptyGateway(t)
	state := filepath.Join(dir, "state")
	if err := os.MkdirAll(state, 0o700); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(filepath.Join(state, spend.FileName), 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		root, err := tx.CreateBucketIfNotExists([]byte("teams"))
		if err != nil {
			return err
		}
		for team, records := range map[string]map[string]string{
			"absurd":   {"team": `{"spend": 1e999}`, "key:x": `{"spend": NaN}`},
			"negative": {"team": `{"spend": -1e300}`},
			"maxed":    {"team": fmt.Sprintf(`{"spend": %v}`, math.MaxFloat64)},
		} {
			tb, err := root.CreateBucketIfNotExists([]byte(team))
			if err != nil {
				return err
			}
			for k, v := range records {
				if err := tb.Put([]byte(k), []byte(v)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	_ = db.Close()
	if err != nil {
		t.Fatal(err)
	}
	g := startGateway(t, args...)
	keys := map[string]string{}
	for _, team := range []string{"absurd", "negative", "maxed", "fine"} {
		g.ok(t, "POST", "/team/new", masterKey, map[string]any{"team_id": team, "max_budget": 1000})
		lcPriced(t, g, team, "m-"+team, 0.001)
		keys[team] = g.ok(t, "POST", "/key/generate", masterKey, map[string]any{"team_id": team})["key"].(string)
	}
	for _, team := range []string{"absurd", "negative", "fine"} {
		if code, body := lcChat(t, g, keys[team], "m-"+team); code != 200 {
			t.Errorf("%s: %d %s", team, code, body)
		}
	}
	// The largest float64 is an exhausted budget, and adding to it stays
	// finite.
	if code, body := lcChat(t, g, keys["maxed"], "m-maxed"); code != 429 {
		t.Errorf("maxed: %d %s", code, body)
	}
	for _, team := range []string{"absurd", "negative", "maxed", "fine"} {
		if s := lcTeamSpend(t, g, team); math.IsNaN(s) || math.IsInf(s, 0) || s < 0 {
			t.Errorf("%s spend %v", team, s)
		}
	}
	g.ok(t, "GET", "/team/list", masterKey, nil)
	want := lcTeamSpend(t, g, "fine")
	logs := g.logsSoFar(t)
	if !strings.Contains(logs, "cannot be read") || !strings.Contains(logs, "impossible spend") {
		t.Errorf("the bad records were not logged:\n%s", logs)
	}
	g.stop()
	g = startGateway(t, args...)
	if got := lcTeamSpend(t, g, "fine"); got != want || got <= 0 {
		t.Errorf("fine's spend after a restart: %v, want %v", got, want)
	}
	if got := lcTeamSpend(t, g, "negative"); got <= 0 || got > 1 {
		t.Errorf("negative's spend after a restart: %v (a negative stored spend counts 0, then its call)", got)
	}
}

// Observation 9: /key/regenerate reset the key's spend, so an exhausted
// budget worked again. The regenerated key keeps its spend and budget
// period, across a restart too.
func TestLifecycleRegenerateKeepsSpend(t *testing.T) {
	args, dir := emptyGateway(t)
	g := startGateway(t, args...)
	g.ok(t, "POST", "/team/new", masterKey, map[string]any{"team_id": lcTeam})
	lcPriced(t, g, lcTeam, "m", 0.01)
	key := g.ok(t, "POST", "/key/generate", masterKey, map[string]any{"team_id": lcTeam, "max_budget": 0.01, "budget_duration": "30d"})["key"].(string)
	if code, body := lcChat(t, g, key, "m"); code != 200 {
		t.Fatalf("first call: %d %s", code, body)
	}
	if code, body := lcChat(t, g, key, "m"); code != 429 || !strings.Contains(body, "Budget has been exceeded") {
		t.Fatalf("over budget: %d %s", code, body)
	}
	before := lcKeyInfo(t, g, key)
	nk := g.ok(t, "POST", "/key/regenerate", masterKey, map[string]any{"key": key})["key"].(string)
	if code, body := lcChat(t, g, nk, "m"); code != 429 || !strings.Contains(body, "Budget has been exceeded") {
		t.Errorf("the regenerated key: %d %s, want 429 (the budget stays exhausted)", code, body)
	}
	after := lcKeyInfo(t, g, nk)
	if after["spend"] != before["spend"] || after["budget_reset_at"] != before["budget_reset_at"] {
		t.Errorf("spend %v -> %v, budget_reset_at %v -> %v", before["spend"], after["spend"], before["budget_reset_at"], after["budget_reset_at"])
	}
	// Twice, and across a restart.
	nk2 := g.ok(t, "POST", "/key/regenerate", masterKey, map[string]any{"key": nk})["key"].(string)
	g.stop()
	g = startGateway(t, args...)
	if code, body := lcChat(t, g, nk2, "m"); code != 429 {
		t.Errorf("after a second regenerate and a restart: %d %s", code, body)
	}
	if a := lcKeyInfo(t, g, nk2); a["spend"] != before["spend"] || a["budget_reset_at"] != before["budget_reset_at"] {
		t.Errorf("after restart: %v", a)
	}
	file, _ := os.ReadFile(filepath.Join(dir, "teams.d", lcTeam+".yaml"))
	if !strings.Contains(string(file), "key_id: "+configs.HashKey(key)) {
		t.Errorf("the team file does not record the key's spend id:\n%s", file)
	}
}

// Observation 9: a team created again with a deleted team's id inherited
// its spend. It starts at zero, across a restart too.
func TestLifecycleRecreatedTeamStartsAtZero(t *testing.T) {
	args, _ := emptyGateway(t)
	g := startGateway(t, args...)
	g.ok(t, "POST", "/team/new", masterKey, map[string]any{"team_id": lcTeam, "max_budget": 0.01})
	g.ok(t, "POST", "/team/new", masterKey, map[string]any{"team_id": lcOther})
	lcPriced(t, g, lcTeam, "m", 0.01)
	lcPriced(t, g, lcOther, "o", 0.001)
	key := g.ok(t, "POST", "/key/generate", masterKey, map[string]any{"team_id": lcTeam})["key"].(string)
	other := g.ok(t, "POST", "/key/generate", masterKey, map[string]any{"team_id": lcOther})["key"].(string)
	lcChat(t, g, key, "m")
	lcChat(t, g, other, "o")
	if code, _ := lcChat(t, g, key, "m"); code != 429 {
		t.Fatalf("the team's budget is not exhausted: %d", code)
	}
	otherSpend := lcTeamSpend(t, g, lcOther)
	g.ok(t, "POST", "/team/delete", masterKey, map[string]any{"team_ids": []string{lcTeam}})
	g.ok(t, "POST", "/team/new", masterKey, map[string]any{"team_id": lcTeam, "max_budget": 0.01})
	if s := lcTeamSpend(t, g, lcTeam); s != 0 {
		t.Errorf("the re-created team's spend: %v, want 0", s)
	}
	lcPriced(t, g, lcTeam, "m", 0.01)
	key = g.ok(t, "POST", "/key/generate", masterKey, map[string]any{"team_id": lcTeam})["key"].(string)
	if code, body := lcChat(t, g, key, "m"); code != 200 {
		t.Errorf("the re-created team's first call: %d %s", code, body)
	}
	g.stop()
	g = startGateway(t, args...)
	if s := lcTeamSpend(t, g, lcOther); s != otherSpend {
		t.Errorf("the other team's spend: %v, want %v", s, otherSpend)
	}
	g.ok(t, "POST", "/team/delete", masterKey, map[string]any{"team_ids": []string{lcTeam}})
	g.stop()
	g = startGateway(t, args...)
	g.ok(t, "POST", "/team/new", masterKey, map[string]any{"team_id": lcTeam})
	if s := lcTeamSpend(t, g, lcTeam); s != 0 {
		t.Errorf("re-created after a restart: spend %v, want 0", s)
	}
}

// Observation 10: keys of a blocked team could still /key/generate,
// /model/new and /team/member_add. A blocked team's keys and a blocked
// key get 403 on every management endpoint; only the master key unblocks
// what it blocked.
func TestLifecycleBlockedCanDoNothing(t *testing.T) {
	args, _ := emptyGateway(t)
	g := startGateway(t, args...)
	g.ok(t, "POST", "/team/new", masterKey, map[string]any{"team_id": lcTeam, "members_with_roles": []any{map[string]any{"user_id": "ann", "role": "admin"}}})
	admin := g.ok(t, "POST", "/key/generate", masterKey, map[string]any{"team_id": lcTeam, "user_id": "ann"})["key"].(string)
	admin2 := g.ok(t, "POST", "/key/generate", masterKey, map[string]any{"team_id": lcTeam, "user_id": "ann"})["key"].(string)
	calls := []struct {
		method, path string
		body         any
	}{
		{"POST", "/key/generate", map[string]any{"team_id": lcTeam}},
		{"POST", "/model/new", map[string]any{"model_name": "x", "litellm_params": map[string]any{"model": "mock/x"}}},
		{"POST", "/team/member_add", map[string]any{"team_id": lcTeam, "member": map[string]any{"user_id": "eve", "role": "admin"}}},
		{"GET", "/team/info?team_id=" + lcTeam, nil},
		{"GET", "/key/list", nil},
		{"GET", "/key/info", nil},
		{"GET", "/model/info", nil},
		{"GET", "/v1/models", nil},
		{"POST", "/key/unblock", map[string]any{"key": admin}},
		{"POST", "/team/unblock", map[string]any{"team_id": lcTeam}},
	}
	check := func(key, what string) {
		t.Helper()
		for _, c := range calls {
			code, m, raw := g.do(t, c.method, c.path, key, c.body)
			if code != 403 || !strings.Contains(lcMessage(t, code, m, raw), "blocked") {
				t.Errorf("%s: %s %s: %d %s, want 403", what, c.method, c.path, code, raw)
			}
		}
	}
	g.ok(t, "POST", "/team/block", masterKey, map[string]any{"team_id": lcTeam})
	check(admin, "blocked team")
	g.ok(t, "POST", "/team/unblock", masterKey, map[string]any{"team_id": lcTeam})
	g.ok(t, "POST", "/key/generate", admin, map[string]any{"team_id": lcTeam})

	g.ok(t, "POST", "/key/block", masterKey, map[string]any{"key": admin})
	check(admin, "blocked key")
	// Another admin of the team cannot lift what the master set.
	code, m, raw := g.do(t, "POST", "/key/unblock", admin2, map[string]any{"key": admin})
	if code != 403 || !strings.Contains(lcMessage(t, code, m, raw), "master key") {
		t.Errorf("a team admin unblocking a key the master blocked: %d %s", code, raw)
	}
	g.ok(t, "POST", "/key/unblock", masterKey, map[string]any{"key": admin})
	g.ok(t, "GET", "/key/info", admin, nil)
	// What a team admin blocked, a team admin may unblock.
	g.ok(t, "POST", "/key/block", admin2, map[string]any{"key": admin})
	g.ok(t, "POST", "/key/unblock", admin2, map[string]any{"key": admin})
	g.ok(t, "GET", "/key/info", admin, nil)
}

// Observation 11: a team admin (or the key itself, when its user is an
// admin) removed the rpm_limit and max_budget the master set on its key.
// Limits the master set change only with the master key (the file
// records who set each, in set_by), and a team admin gives a key at most
// the team's own limits.
func TestLifecycleMasterLimitsStayMasters(t *testing.T) {
	args, dir := emptyGateway(t)
	g := startGateway(t, args...)
	g.ok(t, "POST", "/team/new", masterKey, map[string]any{"team_id": lcTeam, "rpm_limit": 100, "max_budget": 10,
		"members_with_roles": []any{map[string]any{"user_id": "ann", "role": "admin"}}})
	admin := g.ok(t, "POST", "/key/generate", masterKey, map[string]any{"team_id": lcTeam, "user_id": "ann", "rpm_limit": 5, "max_budget": 1})["key"].(string)
	token := configs.HashKey(admin)
	for _, c := range []map[string]any{
		{"key": token, "rpm_limit": nil},
		{"key": token, "max_budget": nil},
		{"key": token, "max_budget": 5},
		{"key": token, "rpm_limit": 50},
	} {
		code, m, raw := g.do(t, "POST", "/key/update", admin, c)
		if code != 403 || !strings.Contains(lcMessage(t, code, m, raw), "set by the master key") {
			t.Errorf("the key itself (an admin) changing a master limit %v: %d %s", c, code, raw)
		}
	}
	if ki := lcKeyInfo(t, g, admin); ki["rpm_limit"] != 5.0 || ki["max_budget"] != 1.0 {
		t.Errorf("the master's limits changed: %v", ki)
	}
	// Unchanged values and other fields are fine.
	g.ok(t, "POST", "/key/update", admin, map[string]any{"key": token, "rpm_limit": 5, "key_alias": "ann"})

	// A team admin gives a key at most the team's limits...
	for _, c := range []map[string]any{
		{"team_id": lcTeam, "rpm_limit": 101},
		{"team_id": lcTeam, "max_budget": 10.5},
	} {
		code, m, raw := g.do(t, "POST", "/key/generate", admin, c)
		if code != 403 || !strings.Contains(lcMessage(t, code, m, raw), "team's") {
			t.Errorf("a key above the team's limits %v: %d %s", c, code, raw)
		}
	}
	k2 := g.ok(t, "POST", "/key/generate", admin, map[string]any{"team_id": lcTeam, "rpm_limit": 100, "max_budget": 10})["key"].(string)
	// ... and may change what it set itself.
	g.ok(t, "POST", "/key/update", admin, map[string]any{"key": k2, "rpm_limit": nil, "max_budget": 2})
	code, _, raw := g.do(t, "POST", "/key/update", admin, map[string]any{"key": k2, "max_budget": 11})
	if code != 403 {
		t.Errorf("an update above the team's budget: %d %s", code, raw)
	}
	// The master may do anything.
	g.ok(t, "POST", "/key/update", masterKey, map[string]any{"key": token, "rpm_limit": nil, "max_budget": 50})
	g.ok(t, "POST", "/key/update", masterKey, map[string]any{"key": token, "rpm_limit": 5})

	file, _ := os.ReadFile(filepath.Join(dir, "teams.d", lcTeam+".yaml"))
	if !strings.Contains(string(file), "set_by:") || !strings.Contains(string(file), "rpm_limit: master") || !strings.Contains(string(file), "max_budget: ann (") {
		t.Errorf("the team file does not record who set the limits:\n%s", file)
	}
	// A limit in a hand-written key (no set_by) counts as the master's.
	writeFiles(t, dir, map[string]string{"teams.d/hand.yaml": "team_id: hand\nmembers_with_roles: [{user_id: bo, role: admin}]\nkeys:\n" +
		"  - token: " + configs.HashKey("sk-hand-admin-0123456789") + "\n    user_id: bo\n    rpm_limit: 3\n"})
	g.ok(t, "POST", "/config/reload", masterKey, nil)
	code, m, raw := g.do(t, "POST", "/key/update", "sk-hand-admin-0123456789", map[string]any{"key": "sk-hand-admin-0123456789", "rpm_limit": nil})
	if code != 403 || !strings.Contains(lcMessage(t, code, m, raw), "master") {
		t.Errorf("a hand-written limit: %d %s", code, raw)
	}
}

// Observation 15 (management part): for a team key, another team's
// objects answer exactly as missing ones; /model/info masks the query
// string of api_base for callers that do not own the deployment; and
// general_settings.max_team_models bounds a team's deployments.
func TestLifecycleNoLeaks(t *testing.T) {
	args, dir := emptyGateway(t)
	writeFiles(t, dir, map[string]string{"gateway.yaml": "general_settings:\n  master_key: os.environ/GATEWAY_MASTER_KEY\n  salt_key: os.environ/GATEWAY_SALT_KEY\n  max_team_models: 3\n"})
	g := startGateway(t, args...)
	for _, team := range []string{lcTeam, lcOther} {
		g.ok(t, "POST", "/team/new", masterKey, map[string]any{"team_id": team, "members_with_roles": []any{map[string]any{"user_id": "ann", "role": "admin"}}})
	}
	mine := g.ok(t, "POST", "/key/generate", masterKey, map[string]any{"team_id": lcTeam, "user_id": "ann"})["key"].(string)
	theirs := g.ok(t, "POST", "/key/generate", masterKey, map[string]any{"team_id": lcOther, "user_id": "ann"})["key"].(string)
	theirToken := configs.HashKey(theirs)
	theirModel := g.ok(t, "POST", "/model/new", theirs, map[string]any{"model_name": "t", "litellm_params": map[string]any{"model": "mock/t"}})["model_id"].(string)
	missingToken := configs.HashKey("sk-does-not-exist-anywhere")
	missingModel := "00000000-0000-0000-0000-000000000000"
	missingTeam := "no-such-team"

	type probe struct {
		method, path string
		body         any
	}
	pairs := []struct {
		name            string
		other, missing  probe
		otherID, missID string
	}{
		{"team/info", probe{"GET", "/team/info?team_id=" + lcOther, nil}, probe{"GET", "/team/info?team_id=" + missingTeam, nil}, lcOther, missingTeam},
		{"team/member_add", probe{"POST", "/team/member_add", map[string]any{"team_id": lcOther, "member": map[string]any{"user_id": "x"}}},
			probe{"POST", "/team/member_add", map[string]any{"team_id": missingTeam, "member": map[string]any{"user_id": "x"}}}, lcOther, missingTeam},
		{"team/member_delete", probe{"POST", "/team/member_delete", map[string]any{"team_id": lcOther, "user_id": "ann"}},
			probe{"POST", "/team/member_delete", map[string]any{"team_id": missingTeam, "user_id": "ann"}}, lcOther, missingTeam},
		{"key/generate", probe{"POST", "/key/generate", map[string]any{"team_id": lcOther}}, probe{"POST", "/key/generate", map[string]any{"team_id": missingTeam}}, lcOther, missingTeam},
		{"key/list", probe{"GET", "/key/list?team_id=" + lcOther, nil}, probe{"GET", "/key/list?team_id=" + missingTeam, nil}, lcOther, missingTeam},
		{"key/info", probe{"GET", "/key/info?key=" + theirToken, nil}, probe{"GET", "/key/info?key=" + missingToken, nil}, theirToken, missingToken},
		{"key/update", probe{"POST", "/key/update", map[string]any{"key": theirToken, "key_alias": "x"}}, probe{"POST", "/key/update", map[string]any{"key": missingToken, "key_alias": "x"}}, theirToken, missingToken},
		{"key/regenerate", probe{"POST", "/key/regenerate", map[string]any{"key": theirToken}}, probe{"POST", "/key/regenerate", map[string]any{"key": missingToken}}, theirToken, missingToken},
		{"key/regenerate path", probe{"POST", "/key/" + theirToken + "/regenerate", nil}, probe{"POST", "/key/" + missingToken + "/regenerate", nil}, theirToken, missingToken},
		{"key/block", probe{"POST", "/key/block", map[string]any{"key": theirToken}}, probe{"POST", "/key/block", map[string]any{"key": missingToken}}, theirToken, missingToken},
		{"key/unblock", probe{"POST", "/key/unblock", map[string]any{"key": theirToken}}, probe{"POST", "/key/unblock", map[string]any{"key": missingToken}}, theirToken, missingToken},
		{"key/delete", probe{"POST", "/key/delete", map[string]any{"keys": []string{theirToken}}}, probe{"POST", "/key/delete", map[string]any{"keys": []string{missingToken}}}, theirToken, missingToken},
		{"model/info one", probe{"GET", "/model/info?litellm_model_id=" + theirModel, nil}, probe{"GET", "/model/info?litellm_model_id=" + missingModel, nil}, theirModel, missingModel},
		{"model/update", probe{"POST", "/model/update", map[string]any{"model_info": map[string]any{"id": theirModel, "note": "x"}}},
			probe{"POST", "/model/update", map[string]any{"model_info": map[string]any{"id": missingModel, "note": "x"}}}, theirModel, missingModel},
		{"model/delete", probe{"POST", "/model/delete", map[string]any{"id": theirModel}}, probe{"POST", "/model/delete", map[string]any{"id": missingModel}}, theirModel, missingModel},
		{"model/new into their team", probe{"POST", "/model/new", map[string]any{"model_name": "y", "litellm_params": map[string]any{"model": "mock/y"}, "model_info": map[string]any{"team_id": lcOther}}},
			probe{"POST", "/model/new", map[string]any{"model_name": "y", "litellm_params": map[string]any{"model": "mock/y"}, "model_info": map[string]any{"team_id": missingTeam}}}, lcOther, missingTeam},
	}
	for _, p := range pairs {
		t.Run(p.name, func(t *testing.T) {
			c1, _, r1 := g.do(t, p.other.method, p.other.path, mine, p.other.body)
			c2, _, r2 := g.do(t, p.missing.method, p.missing.path, mine, p.missing.body)
			a := strings.ReplaceAll(string(r1), p.otherID, "<ID>")
			b := strings.ReplaceAll(string(r2), p.missID, "<ID>")
			if c1 != c2 || a != b {
				t.Errorf("another team's object and a missing one answer differently:\n  theirs:  %d %s\n  missing: %d %s", c1, r1, c2, r2)
			}
			if c1 != 404 {
				t.Errorf("status %d, want 404: %s", c1, r1)
			}
		})
	}
	// Nothing of theirs changed.
	if k := lcKeyInfo(t, g, theirs); k["blocked"] != false || k["key_alias"] != nil {
		t.Errorf("their key changed: %v", k)
	}
	g.ok(t, "GET", "/key/info", theirs, nil)

	// /model/info: the query string of a global model's api_base is masked
	// for team keys; its owner (the master) sees it.
	g.ok(t, "POST", "/model/new", masterKey, map[string]any{"model_name": "az",
		"litellm_params": map[string]any{"model": "azure/gpt", "api_base": "https://ops.example.com/openai?api-key=OPERATOR-SECRET&tenant=t1", "api_version": "2024-10-21"}})
	_, _, raw := g.do(t, "GET", "/model/info", mine, nil)
	if strings.Contains(string(raw), "OPERATOR-SECRET") || !strings.Contains(string(raw), "api-key=****") {
		t.Errorf("a team key's /model/info shows the global model's api_base query: %s", raw)
	}
	if _, _, raw := g.do(t, "GET", "/model/info", masterKey, nil); !strings.Contains(string(raw), "OPERATOR-SECRET") {
		t.Errorf("the master's /model/info: %s", raw)
	}

	// max_team_models: 3 (they have one already).
	for i := 0; i < 2; i++ {
		g.ok(t, "POST", "/model/new", theirs, map[string]any{"model_name": fmt.Sprintf("n%d", i), "litellm_params": map[string]any{"model": "mock/n"}})
	}
	code, m, raw := g.do(t, "POST", "/model/new", theirs, map[string]any{"model_name": "n3", "litellm_params": map[string]any{"model": "mock/n"}})
	if code != 403 || !strings.Contains(lcMessage(t, code, m, raw), "max_team_models") {
		t.Errorf("a fourth model with max_team_models 3: %d %s", code, raw)
	}
	// Other teams are not affected.
	g.ok(t, "POST", "/model/new", mine, map[string]any{"model_name": "mine", "litellm_params": map[string]any{"model": "mock/n"}})
}

// Observation 18: /team/new with body null created a team; every
// JSON-body management endpoint takes an object only. /model/new accepts
// every litellm_params key the README lists (stream_include_usage).
func TestLifecycleBodiesAreObjects(t *testing.T) {
	args, _ := emptyGateway(t)
	g := startGateway(t, args...)
	g.ok(t, "POST", "/team/new", masterKey, map[string]any{"team_id": lcTeam})
	var posts []string
	for _, r := range gateway.Routes() {
		// Every POST with a JSON body (transcriptions take a multipart form:
		// parseForm's tests cover them).
		if r.Method == "POST" && !strings.Contains(r.Path, "chat/completions") && r.Path != "/config/reload" &&
			!strings.HasSuffix(r.Path, "audio/transcriptions") {
			posts = append(posts, strings.ReplaceAll(r.Path, "{key}", "sk-whatever"))
		}
	}
	if len(posts) < 15 {
		t.Fatalf("too few management POST routes: %v", posts)
	}
	for _, p := range posts {
		for _, body := range []string{"null", "[]", `"x"`, "5", "true"} {
			if p == "/key/sk-whatever/regenerate" {
				continue // its key is in the path; the body is not read
			}
			code, m, raw := g.do(t, "POST", p, masterKey, body)
			if strings.HasPrefix(p, "/v1/messages") { // Anthropic's error shape
				if e := anthropicErrorOf(t, m, raw); code != 400 || !strings.Contains(e["message"].(string), "JSON object") {
					t.Errorf("POST %s with %s: %d %s, want 400", p, body, code, raw)
				}
				continue
			}
			if code != 400 || !strings.Contains(lcMessage(t, code, m, raw), "JSON object") {
				t.Errorf("POST %s with %s: %d %s, want 400", p, body, code, raw)
			}
		}
	}
	code, _, raw := g.do(t, "GET", "/team/list", masterKey, nil)
	var list []any
	if err := json.Unmarshal(raw, &list); code != 200 || err != nil || len(list) != 1 {
		t.Errorf("teams after the null bodies: %d %s", code, raw)
	}
	m := g.ok(t, "POST", "/model/new", masterKey, map[string]any{"model_name": "s", "litellm_params": map[string]any{"model": "mock/s", "stream_include_usage": false}, "model_info": map[string]any{"team_id": lcTeam}})
	if p := m["litellm_params"].(map[string]any); p["stream_include_usage"] != false {
		t.Errorf("stream_include_usage was not stored: %v", m)
	}
}
