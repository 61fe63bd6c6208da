package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmgateway/gateway/configs"
)

const saltKey = "test-salt-key-0123456789"

// ok sends a request that must answer 200 and returns the decoded body.
func (g *gatewayProc) ok(t *testing.T, method, path, key string, body any) map[string]any {
	t.Helper()
	code, m, raw := g.do(t, method, path, key, body)
	if code != 200 {
		t.Fatalf("%s %s: %d %s", method, path, code, raw)
	}
	return m
}

// emptyGateway writes a settings file with master and salt keys and empty
// teams.d / models.d, and returns the serve args and the folder.
func emptyGateway(t *testing.T) ([]string, string) {
	t.Helper()
	t.Setenv("GATEWAY_MASTER_KEY", masterKey)
	t.Setenv("GATEWAY_SALT_KEY", saltKey)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"gateway.yaml": "general_settings:\n  master_key: os.environ/GATEWAY_MASTER_KEY\n  salt_key: os.environ/GATEWAY_SALT_KEY\n" + allowLoopback})
	return []string{"--config", filepath.Join(dir, "gateway.yaml"), "--teams-dir", filepath.Join(dir, "teams.d"),
		"--models-dir", filepath.Join(dir, "models.d"), "--state-dir", filepath.Join(dir, "state")}, dir
}

func modelNames(t *testing.T, g *gatewayProc, key string) []string {
	t.Helper()
	m := g.ok(t, "GET", "/v1/models", key, nil)
	var out []string
	for _, d := range m["data"].([]any) {
		out = append(out, d.(map[string]any)["id"].(string))
	}
	return out
}

func aliasesOf(t *testing.T, g *gatewayProc, key, team string) map[string]any {
	t.Helper()
	info := g.ok(t, "GET", "/team/info?team_id="+team, key, nil)
	return info["team_info"].(map[string]any)["litellm_model_table"].(map[string]any)["model_aliases"].(map[string]any)
}

// grepTree fails if any file under dir contains secret.
func grepTree(t *testing.T, dir, secret string) {
	t.Helper()
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if b, _ := os.ReadFile(p); strings.Contains(string(b), secret) {
			t.Errorf("%s holds the plaintext secret:\n%s", p, b)
		}
		return nil
	})
}

// The seed's flow, end to end: a team adds its own model with its own raw
// upstream key and calls it by its public name, across a restart, until
// the model is deleted.
func TestSeedFlowEndToEnd(t *testing.T) {
	up := newFakeUpstream(t)
	args, dir := emptyGateway(t)
	g := startGateway(t, args...)

	team := g.ok(t, "POST", "/team/new", masterKey, `{"team_id": "`+teamA+`", "team_alias": "search",
		"members_with_roles": [{"role": "admin", "user_id": "user-1234"}]}`)
	if team["team_id"] != teamA || team["created_by"] != "master" || team["created_at"] == nil || team["litellm_model_table"] == nil {
		t.Fatalf("/team/new answer: %v", team)
	}
	gen := g.ok(t, "POST", "/key/generate", masterKey, map[string]any{"team_id": teamA, "key_alias": "seed-key", "user_id": "user-1234"})
	teamKey, _ := gen["key"].(string)
	if !strings.HasPrefix(teamKey, "sk-") || len(teamKey) < 3+22 || gen["token"] != configs.HashKey(teamKey) {
		t.Fatalf("/key/generate answer: %v", gen)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "teams.d", teamA+".yaml")); strings.Contains(string(b), teamKey) || !strings.Contains(string(b), configs.HashKey(teamKey)) {
		t.Fatalf("team file must hold the key's hash only:\n%s", b)
	}

	// The seed's /model/new, pointed at the fake upstream, with the team key.
	model := g.ok(t, "POST", "/model/new", teamKey, `{
  "model_name": "my-team-model",
  "litellm_params": {
    "model": "openai/gpt-4o",
    "custom_llm_provider": "openai",
    "api_key": "`+upKeyA+`",
    "api_base": "`+up.url+`/v1",
    "api_version": "2023-12-01-preview"
  },
  "model_info": {
    "team_id": "`+teamA+`"
  }
}`)
	id, _ := model["model_id"].(string)
	internal := "model_name_" + teamA + "_" + id
	if id == "" || model["model_name"] != internal {
		t.Fatalf("/model/new answer: %v", model)
	}
	if s := fmt.Sprint(model); strings.Contains(s, upKeyA) {
		t.Fatalf("/model/new shows the upstream key: %s", s)
	}
	file := filepath.Join(dir, "models.d", teamA, id+".yaml")
	if b, err := os.ReadFile(file); err != nil || !strings.Contains(string(b), "api_key: enc:v2:") || !strings.Contains(string(b), "created_by: seed-key") {
		t.Fatalf("model file %s: %v\n%s", file, err, b)
	}
	grepTree(t, dir, upKeyA)

	check := func(g *gatewayProc) {
		t.Helper()
		client := openaiClient(g, teamKey)
		resp, err := client.Chat.Completions.New(context.Background(), userSays("my-team-model", "What's the weather like in Boston today?"))
		if err != nil {
			t.Fatalf("chat my-team-model: %v\n%s", err, g.logs.String())
		}
		if resp.Model != "my-team-model" {
			t.Errorf("answer model %q", resp.Model)
		}
		got := up.last()
		if got.Header.Get("Authorization") != "Bearer "+upKeyA || got.Body["model"] != "gpt-4o" {
			t.Errorf("upstream got Authorization %q model %v", got.Header.Get("Authorization"), got.Body["model"])
		}
		if a := aliasesOf(t, g, teamKey, teamA); a["my-team-model"] != internal {
			t.Errorf("/team/info model_aliases = %v, want my-team-model -> %s", a, internal)
		}
	}
	check(g)

	// Another team cannot call it.
	g.ok(t, "POST", "/team/new", masterKey, map[string]any{"team_id": teamB, "team_alias": "other"})
	other := g.ok(t, "POST", "/key/generate", masterKey, map[string]any{"team_id": teamB})["key"].(string)
	for _, name := range []string{"my-team-model", internal} {
		code, m, raw := g.do(t, "POST", "/v1/chat/completions", other, map[string]any{"model": name, "messages": []any{map[string]any{"role": "user", "content": "hi"}}})
		if code != 400 || !strings.Contains(errorOf(t, m, raw)["message"].(string), "does not exist") {
			t.Errorf("other team calling %s: %d %s", name, code, raw)
		}
	}

	// Restart on the same folders: everything is still there.
	if code := g.stop(); code != 0 {
		t.Fatalf("stop: %d", code)
	}
	g = startGateway(t, args...)
	check(g)

	g.ok(t, "POST", "/model/delete", teamKey, map[string]any{"id": id})
	if a := aliasesOf(t, g, teamKey, teamA); a["my-team-model"] != nil {
		t.Errorf("ghost alias after delete: %v", a)
	}
	for _, n := range modelNames(t, g, teamKey) {
		if n == "my-team-model" {
			t.Error("my-team-model still in /v1/models")
		}
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Errorf("model file still on disk: %v", err)
	}
	// The team's model folder, empty now, is gone; models.d stays.
	if _, err := os.Stat(filepath.Dir(file)); !os.IsNotExist(err) {
		t.Errorf("the empty model folder %s is still there: %v", filepath.Dir(file), err)
	}
	if _, err := os.Stat(filepath.Dir(filepath.Dir(file))); err != nil {
		t.Errorf("models.d was removed: %v", err)
	}
	code, _, raw := g.do(t, "POST", "/v1/chat/completions", teamKey, map[string]any{"model": "my-team-model", "messages": []any{map[string]any{"role": "user", "content": "hi"}}})
	if code != 400 {
		t.Errorf("deleted model still callable: %d %s", code, raw)
	}
	logs := g.finalLogs()
	if strings.Contains(logs, upKeyA) || strings.Contains(logs, teamKey) {
		t.Error("a secret appears in the log")
	}
	if !strings.Contains(logs, "audit") || !strings.Contains(logs, "object="+id) {
		t.Errorf("no audit line for the model delete:\n%s", logs)
	}
}

// The seeds' curl bodies, copied as they are minus the comments.
func TestSeedCurlBodies(t *testing.T) {
	args, _ := emptyGateway(t)
	t.Setenv("AZURE_API_KEY", "azure-secret-from-env")
	g := startGateway(t, args...)

	g.ok(t, "POST", "/team/new", masterKey, `{
"team_alias": "my-new-team_2",
"members_with_roles": [{"role": "admin", "user_id": "user-1234"},
{"role": "user", "user_id": "user-2434"}]
}`)
	qa := g.ok(t, "POST", "/team/new", masterKey, `{
"team_alias": "QA Prod Bot",
"max_budget": 0.000000001,
"budget_duration": "1d"
}`)
	if qa["max_budget"] != 0.000000001 || qa["budget_reset_at"] == nil {
		t.Errorf("QA team: %v", qa)
	}
	// A new budget_duration recomputes budget_reset_at.
	upd := g.ok(t, "POST", "/team/update", masterKey, map[string]any{"team_id": qa["team_id"], "budget_duration": "30d"})["data"].(map[string]any)
	reset, err := time.Parse(time.RFC3339, fmt.Sprint(upd["budget_reset_at"]))
	if err != nil || reset.Before(time.Now().Add(29*24*time.Hour)) || upd["team_alias"] != "QA Prod Bot" {
		t.Errorf("after budget_duration 30d: %v (%v)", upd, err)
	}
	g.ok(t, "POST", "/team/new", masterKey, map[string]any{"team_id": teamA})
	key := g.ok(t, "POST", "/key/generate", masterKey, map[string]any{"team_id": teamA})["key"].(string)
	m := g.ok(t, "POST", "/model/new", key, `{
  "model_name": "my-team-model",
  "litellm_params": {
    "model": "openai/gpt-4o",
    "custom_llm_provider": "openai",
    "api_key": "******ccb07",
    "api_base": "https://my-endpoint-sweden-berri992.openai.azure.com",
    "api_version": "2023-12-01-preview"
  },
  "model_info": {
    "team_id": "e59e2671-a064-436a-a0fa-16ae96e5a0a1"
  }
}`)
	internal := m["model_name"].(string)
	info := g.ok(t, "GET", "/team/info?team_id=e59e2671-a064-436a-a0fa-16ae96e5a0a1", key, nil)
	table := info["team_info"].(map[string]any)["litellm_model_table"].(map[string]any)
	if table["model_aliases"].(map[string]any)["my-team-model"] != internal || table["created_by"] != "master" {
		t.Errorf("litellm_model_table %v", table)
	}
	g.ok(t, "GET", "/model/info", masterKey, nil)
	// The Model Management seed's api_base "my-azure-api-base" is no URL:
	// the loader would reject the file, so the API says so up front.
	code, em, raw := g.do(t, "POST", "/model/new", masterKey, `{ "model_name": "azure-gpt-turbo", "litellm_params": {"model": "azure/gpt-3.5-turbo", "api_key": "os.environ/AZURE_API_KEY", "api_base": "my-azure-api-base"} }`)
	if code != 400 || !strings.Contains(errorOf(t, em, raw)["message"].(string), "api_base") {
		t.Errorf("non-URL api_base: %d %s", code, raw)
	}
	g.ok(t, "POST", "/model/new", masterKey, `{ "model_name": "azure-gpt-turbo", "litellm_params": {"model": "azure/gpt-3.5-turbo", "api_key": "os.environ/AZURE_API_KEY", "api_base": "https://my-azure-api-base.openai.azure.com"} }`)
	mi := g.ok(t, "GET", "/v1/model/info", masterKey, nil)
	s := fmt.Sprint(mi)
	if !strings.Contains(s, "azure-gpt-turbo") || strings.Contains(s, "azure-secret-from-env") || strings.Contains(s, "api_key:") {
		t.Errorf("/model/info: %s", s)
	}
}

// authFixture is a running gateway with team A (own team; user alice is an
// admin) and team B (the other team), and a key for each kind of caller.
type authFixture struct {
	g                     *gatewayProc
	own, admin, other     string
	globalModel, ownModel string
	n                     int
}

func newAuthFixture(t *testing.T) *authFixture {
	up := newFakeUpstream(t)
	t.Setenv("GATEWAY_SALT_KEY", saltKey)
	g := startGateway(t, twoTeams(t, up, "  salt_key: os.environ/GATEWAY_SALT_KEY\n")...)
	f := &authFixture{g: g, own: keyA, other: keyB}
	g.ok(t, "POST", "/team/member_add", masterKey, map[string]any{"team_id": teamA, "member": map[string]any{"user_id": "alice", "role": "admin"}})
	f.admin = g.ok(t, "POST", "/key/generate", masterKey, map[string]any{"team_id": teamA, "user_id": "alice", "key_alias": "alice"})["key"].(string)
	f.globalModel = g.ok(t, "POST", "/model/new", masterKey, map[string]any{"model_name": "g-api", "litellm_params": map[string]any{"model": "mock/g"}})["model_id"].(string)
	f.ownModel = f.newModel(t)
	return f
}

// newModel adds a model to team A with team A's key: a team may change
// and delete the models whose key it supplied, not the master's.
func (f *authFixture) newModel(t *testing.T) string {
	f.n++
	return f.g.ok(t, "POST", "/model/new", f.own, map[string]any{"model_name": fmt.Sprintf("m%d", f.n),
		"litellm_params": map[string]any{"model": "mock/x"}, "model_info": map[string]any{"team_id": teamA}})["model_id"].(string)
}

func (f *authFixture) newKey(t *testing.T) string {
	return f.g.ok(t, "POST", "/key/generate", masterKey, map[string]any{"team_id": teamA})["token"].(string)
}

func (f *authFixture) newTeam(t *testing.T) string {
	f.n++
	id := fmt.Sprintf("tmp-%d", f.n)
	f.g.ok(t, "POST", "/team/new", masterKey, map[string]any{"team_id": id})
	return id
}

func TestManagementAuthorization(t *testing.T) {
	f := newAuthFixture(t)
	callers := []struct{ name, key string }{
		{"no key", ""}, {"unknown key", "sk-unknown-0123456789"}, {"other team", f.other},
		{"own team", f.own}, {"team admin", f.admin}, {"master", masterKey},
	}
	type req struct {
		method, path string
		body         any
	}
	// want: status for other, own, admin, master (no/unknown key: 401).
	// Another team's object answers as a missing one: 404.
	// prep builds the request; master gets fresh targets for destructive calls.
	cases := []struct {
		name string
		want [4]int
		prep func(t *testing.T, master bool) req
	}{
		{"team/new", [4]int{403, 403, 403, 200}, func(t *testing.T, _ bool) req {
			f.n++
			return req{"POST", "/team/new", map[string]any{"team_id": fmt.Sprintf("new-%d", f.n)}}
		}},
		{"team/info", [4]int{404, 200, 200, 200}, func(*testing.T, bool) req { return req{"GET", "/team/info?team_id=" + teamA, nil} }},
		{"team/list", [4]int{200, 200, 200, 200}, func(*testing.T, bool) req { return req{"GET", "/team/list", nil} }},
		{"team/update", [4]int{403, 403, 403, 200}, func(t *testing.T, m bool) req {
			return req{"POST", "/team/update", map[string]any{"team_id": f.target(t, m), "tpm_limit": 10}}
		}},
		{"team/delete", [4]int{403, 403, 403, 200}, func(t *testing.T, m bool) req {
			return req{"POST", "/team/delete", map[string]any{"team_ids": []string{f.target(t, m)}}}
		}},
		{"team/member_add", [4]int{404, 403, 200, 200}, func(*testing.T, bool) req {
			return req{"POST", "/team/member_add", map[string]any{"team_id": teamA, "member": map[string]any{"user_id": "bob", "role": "user"}}}
		}},
		{"team/member_delete", [4]int{404, 403, 200, 200}, func(t *testing.T, _ bool) req {
			f.g.ok(t, "POST", "/team/member_add", masterKey, map[string]any{"team_id": teamA, "member": map[string]any{"user_id": "carol"}})
			return req{"POST", "/team/member_delete", map[string]any{"team_id": teamA, "user_id": "carol"}}
		}},
		{"team/block", [4]int{403, 403, 403, 200}, func(t *testing.T, m bool) req {
			return req{"POST", "/team/block", map[string]any{"team_id": f.target(t, m)}}
		}},
		{"team/unblock", [4]int{403, 403, 403, 200}, func(t *testing.T, m bool) req {
			return req{"POST", "/team/unblock", map[string]any{"team_id": f.target(t, m)}}
		}},
		{"model/new team", [4]int{404, 200, 200, 200}, func(*testing.T, bool) req {
			f.n++
			return req{"POST", "/model/new", map[string]any{"model_name": fmt.Sprintf("n%d", f.n), "litellm_params": map[string]any{"model": "mock/x"}, "model_info": map[string]any{"team_id": teamA}}}
		}},
		// No team_id: a team key adds to its own team, the master key a global model.
		{"model/add no team_id", [4]int{200, 200, 200, 200}, func(*testing.T, bool) req {
			f.n++
			return req{"POST", "/model/add", map[string]any{"model_name": fmt.Sprintf("g%d", f.n), "litellm_params": map[string]any{"model": "mock/x"}, "model_info": map[string]any{"team_id": nil}}}
		}},
		{"model/info", [4]int{200, 200, 200, 200}, func(*testing.T, bool) req { return req{"GET", "/model/info", nil} }},
		{"v1/model/info one", [4]int{404, 200, 200, 200}, func(*testing.T, bool) req {
			return req{"GET", "/v1/model/info?litellm_model_id=" + f.ownModel, nil}
		}},
		{"model/update team", [4]int{404, 200, 200, 200}, func(*testing.T, bool) req {
			return req{"POST", "/model/update", map[string]any{"model_info": map[string]any{"id": f.ownModel, "note": "x"}}}
		}},
		{"model/update global", [4]int{403, 403, 403, 200}, func(*testing.T, bool) req {
			return req{"POST", "/model/update", map[string]any{"model_info": map[string]any{"id": f.globalModel, "note": "x"}}}
		}},
		{"model/delete", [4]int{404, 200, 200, 200}, func(t *testing.T, _ bool) req {
			return req{"POST", "/model/delete", map[string]any{"id": f.newModel(t)}}
		}},
		{"key/generate", [4]int{404, 403, 200, 200}, func(*testing.T, bool) req {
			return req{"POST", "/key/generate", map[string]any{"team_id": teamA}}
		}},
		{"key/info", [4]int{404, 403, 200, 200}, func(t *testing.T, _ bool) req { return req{"GET", "/key/info?key=" + f.newKey(t), nil} }},
		{"key/list", [4]int{403, 403, 200, 200}, func(*testing.T, bool) req { return req{"GET", "/key/list", nil} }},
		{"key/update", [4]int{404, 403, 200, 200}, func(t *testing.T, _ bool) req {
			return req{"POST", "/key/update", map[string]any{"key": f.newKey(t), "key_alias": "renamed"}}
		}},
		{"key/regenerate", [4]int{404, 403, 200, 200}, func(t *testing.T, _ bool) req {
			return req{"POST", "/key/regenerate", map[string]any{"key": f.newKey(t)}}
		}},
		{"key/block", [4]int{404, 403, 200, 200}, func(t *testing.T, _ bool) req {
			return req{"POST", "/key/block", map[string]any{"key": f.newKey(t)}}
		}},
		{"key/unblock", [4]int{404, 403, 200, 200}, func(t *testing.T, _ bool) req {
			return req{"POST", "/key/unblock", map[string]any{"key": f.newKey(t)}}
		}},
		{"key/delete", [4]int{404, 403, 200, 200}, func(t *testing.T, _ bool) req {
			return req{"POST", "/key/delete", map[string]any{"keys": []string{f.newKey(t)}}}
		}},
	}
	for _, c := range cases {
		for i, caller := range callers {
			t.Run(c.name+"/"+caller.name, func(t *testing.T) {
				r := c.prep(t, caller.key == masterKey)
				want := 401
				if i >= 2 {
					want = c.want[i-2]
				}
				code, m, raw := f.g.do(t, r.method, r.path, caller.key, r.body)
				if code != want {
					t.Fatalf("%s %s as %s: %d, want %d: %s", r.method, r.path, caller.name, code, want, raw)
				}
				if code != 200 {
					errorOf(t, m, raw)
				}
				if code == 200 && caller.key == f.other && strings.Contains(string(raw), teamA) {
					t.Errorf("the other team's key sees team A: %s", raw)
				}
			})
		}
	}
	// A key may read its own info.
	if m := f.g.ok(t, "GET", "/key/info", f.own, nil); m["key"] != configs.HashKey(f.own) {
		t.Errorf("own /key/info: %v", m)
	}
}

// target is team A for team keys (they must fail on it) and a fresh team
// for the master key (so it does not change team A).
func (f *authFixture) target(t *testing.T, master bool) string {
	if master {
		return f.newTeam(t)
	}
	return teamA
}

func TestManagementBadInput(t *testing.T) {
	up := newFakeUpstream(t)
	t.Setenv("GATEWAY_SALT_KEY", saltKey)
	g := startGateway(t, twoTeams(t, up, "  salt_key: os.environ/GATEWAY_SALT_KEY\n  max_request_size_mb: 1\n")...)
	mock := map[string]any{"model": "mock/x"}
	cases := []struct {
		name, method, path, key string
		body                    any
		status                  int
		says                    string
	}{
		{"malformed JSON", "POST", "/team/new", masterKey, "{not json", 400, "not valid JSON"},
		{"empty body", "POST", "/team/new", masterKey, "", 400, "empty"},
		{"body not an object", "POST", "/team/new", masterKey, "[1]", 400, "JSON object"},
		{"team_alias wrong type", "POST", "/team/new", masterKey, `{"team_alias": 5}`, 400, "team_alias"},
		{"tpm_limit wrong type", "POST", "/team/new", masterKey, `{"tpm_limit": "x"}`, 400, "tpm_limit"},
		{"empty team_alias", "POST", "/team/new", masterKey, `{"team_alias": ""}`, 400, "team_alias"},
		{"bad team_id", "POST", "/team/new", masterKey, `{"team_id": "../x"}`, 400, "team_id"},
		{"bad budget_duration", "POST", "/team/new", masterKey, `{"budget_duration": "3y"}`, 400, "budget_duration"},
		{"bad role", "POST", "/team/new", masterKey, `{"members_with_roles": [{"user_id": "u", "role": "owner"}]}`, 400, "role"},
		{"existing team", "POST", "/team/new", masterKey, `{"team_id": "` + teamA + `"}`, 400, "Team id = " + teamA + " already exists. Please use a different team id."},
		{"no model_name", "POST", "/model/new", keyA, map[string]any{"litellm_params": mock}, 400, "model_name"},
		{"empty model_name", "POST", "/model/new", keyA, map[string]any{"model_name": " ", "litellm_params": mock}, 400, "model_name"},
		{"no litellm_params", "POST", "/model/new", keyA, map[string]any{"model_name": "x"}, 400, "litellm_params"},
		{"litellm_params wrong type", "POST", "/model/new", keyA, map[string]any{"model_name": "x", "litellm_params": "mock/x"}, 400, "litellm_params"},
		{"unknown provider", "POST", "/model/new", keyA, map[string]any{"model_name": "x", "litellm_params": map[string]any{"model": "foo/bar"}}, 400, "unknown provider"},
		{"unknown param", "POST", "/model/new", keyA, map[string]any{"model_name": "x", "litellm_params": map[string]any{"model": "mock/x", "temprature": 1}}, 400, "accepted keys"},
		{"param wrong type", "POST", "/model/new", keyA, map[string]any{"model_name": "x", "litellm_params": map[string]any{"model": "mock/x", "rpm": "fast"}}, 400, "litellm_params.rpm"},
		{"api_base not a URL", "POST", "/model/new", keyA, map[string]any{"model_name": "x", "litellm_params": map[string]any{"model": "openai/x", "api_base": "ftp://x"}}, 400, "api_base"},
		{"unknown team", "POST", "/model/new", masterKey, map[string]any{"model_name": "x", "litellm_params": mock, "model_info": map[string]any{"team_id": "nope"}}, 400, "Team id=nope does not exist"},
		{"unset env key", "POST", "/model/new", masterKey, map[string]any{"model_name": "x", "litellm_params": map[string]any{"model": "openai/x", "api_key": "os.environ/NOT_SET_ANYWHERE"}}, 400, "NOT_SET_ANYWHERE"},
		{"metadata api_base", "POST", "/model/new", keyA, map[string]any{"model_name": "x", "litellm_params": map[string]any{"model": "openai/x", "api_base": "http://169.254.169.254/v1"}}, 403, "not allowed"},
		{"metadata host", "POST", "/model/new", keyA, map[string]any{"model_name": "x", "litellm_params": map[string]any{"model": "openai/x", "api_base": "http://metadata.google.internal/"}}, 403, "not allowed"},
		{"mapped metadata IP", "POST", "/model/new", keyA, map[string]any{"model_name": "x", "litellm_params": map[string]any{"model": "openai/x", "api_base": "http://[::ffff:169.254.169.254]/"}}, 403, "not allowed"},
		{"no team_id for key", "POST", "/key/generate", masterKey, `{"key_alias": "x"}`, 400, "team_id"},
		{"bad duration", "POST", "/key/generate", masterKey, map[string]any{"team_id": teamA, "duration": "forever"}, 400, "duration"},
		{"team/info no team_id", "GET", "/team/info", masterKey, nil, 400, "team_id"},
		{"team/info unknown", "GET", "/team/info?team_id=nope", masterKey, nil, 404, "nope"},
		{"team/update unknown", "POST", "/team/update", masterKey, map[string]any{"team_id": "nope"}, 404, "nope"},
		{"team/delete unknown", "POST", "/team/delete", masterKey, map[string]any{"team_ids": []string{teamB, "nope"}}, 404, "nothing was deleted"},
		{"model/update no id", "POST", "/model/update", masterKey, map[string]any{"model_name": "x"}, 400, "model_info.id"},
		{"model/update unknown", "POST", "/model/update", masterKey, map[string]any{"model_info": map[string]any{"id": "nope"}}, 404, "nope"},
		{"model/delete unknown", "POST", "/model/delete", masterKey, map[string]any{"id": "nope"}, 404, "nope"},
		{"key/info unknown", "GET", "/key/info?key=sk-nope", masterKey, nil, 404, "no such key"},
		{"key/delete unknown", "POST", "/key/delete", masterKey, map[string]any{"keys": []string{"sk-nope"}}, 404, "no such key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, m, raw := g.do(t, c.method, c.path, c.key, c.body)
			e := errorOf(t, m, raw)
			if code != c.status || !strings.Contains(e["message"].(string), c.says) {
				t.Errorf("%d %s, want %d saying %q", code, raw, c.status, c.says)
			}
		})
	}
	t.Run("too large", func(t *testing.T) {
		code, m, raw := g.postOversized(t, "/model/new", masterKey, 1536<<10)
		if e := errorOf(t, m, raw); code != 413 || !strings.Contains(e["message"].(string), "limit") {
			t.Errorf("%d %s, want 413 naming the limit", code, raw)
		}
	})
	// Team B is still there: the failed /team/delete deleted nothing.
	g.ok(t, "GET", "/team/info?team_id="+teamB, masterKey, nil)
	// The master key is not restricted by the api_base policy.
	g.ok(t, "POST", "/model/new", masterKey, map[string]any{"model_name": "x", "litellm_params": map[string]any{"model": "openai/x", "api_base": "http://169.254.169.254/v1"}})
}

func TestNoMasterOrSaltKey(t *testing.T) {
	up := newFakeUpstream(t)
	args := twoTeams(t, up, "")
	t.Setenv("GATEWAY_MASTER_KEY", "")
	g := startGateway(t, args...)
	// No master key: the management API fails closed, for every caller.
	for _, key := range []string{keyA, masterKey, ""} {
		code, m, raw := g.do(t, "POST", "/team/new", key, `{}`)
		if code != 403 || !strings.Contains(errorOf(t, m, raw)["message"].(string), "GATEWAY_MASTER_KEY") {
			t.Errorf("no master key, key %q: %d %s", key, code, raw)
		}
		if code, _, raw := g.do(t, "GET", "/team/info?team_id="+teamA, key, nil); code != 403 {
			t.Errorf("no master key, /team/info with key %q: %d %s", key, code, raw)
		}
	}
	// Team keys keep calling models.
	if code, _, raw := g.do(t, "POST", "/v1/chat/completions", keyA, `{"model":"my-team-model","messages":[{"role":"user","content":"hi"}]}`); code != 200 {
		t.Errorf("chat without a master key: %d %s", code, raw)
	}
	g.stop()

	// A master key but no salt key: raw upstream keys are refused,
	// os.environ/ references work (for the master key only).
	t.Setenv("GATEWAY_MASTER_KEY", masterKey)
	g = startGateway(t, args...)
	code, m, raw := g.do(t, "POST", "/model/new", keyA, map[string]any{"model_name": "x", "litellm_params": map[string]any{"model": "openai/x", "api_key": "sk-raw-0123456789abcdef"}})
	if code != 400 || !strings.Contains(errorOf(t, m, raw)["message"].(string), "GATEWAY_SALT_KEY") {
		t.Errorf("no salt key: %d %s", code, raw)
	}
	code, m, raw = g.do(t, "POST", "/model/new", masterKey, map[string]any{"model_name": "x", "litellm_params": map[string]any{"model": "openai/x", "api_key": "sk-raw-0123456789abcdef"}})
	if code != 400 || !strings.Contains(errorOf(t, m, raw)["message"].(string), "GATEWAY_SALT_KEY") || !strings.Contains(string(raw), "os.environ/") {
		t.Errorf("no salt key, master: %d %s", code, raw)
	}
	g.ok(t, "POST", "/model/new", masterKey, map[string]any{"model_name": "env-model", "litellm_params": map[string]any{"model": "openai/x", "api_key": "os.environ/TEAM_A_UPSTREAM_KEY", "api_base": up.url + "/v1"}, "model_info": map[string]any{"team_id": teamA}})
}

func TestConcurrentModelNew(t *testing.T) {
	args, dir := emptyGateway(t)
	g := startGateway(t, args...)
	g.ok(t, "POST", "/team/new", masterKey, map[string]any{"team_id": teamA})
	key := g.ok(t, "POST", "/key/generate", masterKey, map[string]any{"team_id": teamA})["key"].(string)
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, _, raw := g.do(t, "POST", "/model/new", key, map[string]any{"model_name": fmt.Sprintf("par-%d", i), "litellm_params": map[string]any{"model": "mock/x"}})
			if code != 200 {
				errs <- fmt.Sprintf("%d: %d %s", i, code, raw)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "models.d", teamA, "*.yaml"))
	if len(files) != n {
		t.Errorf("%d model files, want %d", len(files), n)
	}
	for i := range n {
		code, _, raw := g.do(t, "POST", "/v1/chat/completions", key, map[string]any{"model": fmt.Sprintf("par-%d", i), "messages": []any{map[string]any{"role": "user", "content": "hi"}}})
		if code != 200 {
			t.Errorf("par-%d: %d %s", i, code, raw)
		}
	}
	if a := aliasesOf(t, g, key, teamA); len(a) != n {
		t.Errorf("%d aliases, want %d", len(a), n)
	}
}

// A write that fails on disk answers 500 with the cause and changes
// nothing, for root too (the target path is a directory, not a mode bit).
func TestFailedWriteChangesNothing(t *testing.T) {
	args, dir := emptyGateway(t)
	g := startGateway(t, args...)
	g.ok(t, "POST", "/team/new", masterKey, map[string]any{"team_id": teamA})
	if err := os.MkdirAll(filepath.Join(dir, "teams.d", "blocked.yaml", "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	code, m, raw := g.do(t, "POST", "/team/new", masterKey, map[string]any{"team_id": "blocked"})
	if code != 500 || !strings.Contains(errorOf(t, m, raw)["message"].(string), "blocked.yaml") {
		t.Fatalf("write into a directory: %d %s", code, raw)
	}
	if code, _, _ := g.do(t, "GET", "/team/info?team_id=blocked", masterKey, nil); code != 404 {
		t.Errorf("the failed team exists in memory: %d", code)
	}
	// models.d/<team> is a file: the model file cannot be created.
	writeFiles(t, dir, map[string]string{"models.d/" + teamA: "not a directory"})
	code, m, raw = g.do(t, "POST", "/model/new", masterKey, map[string]any{"model_name": "m", "litellm_params": map[string]any{"model": "mock/x"}, "model_info": map[string]any{"team_id": teamA}})
	if code != 500 || !strings.Contains(errorOf(t, m, raw)["message"].(string), "nothing was changed") {
		t.Fatalf("model write: %d %s", code, raw)
	}
	if m := g.ok(t, "GET", "/model/info", masterKey, nil); len(m["data"].([]any)) != 0 {
		t.Errorf("the failed model exists in memory: %v", m)
	}
	// The team file is intact and still editable.
	g.ok(t, "POST", "/team/update", masterKey, map[string]any{"team_id": teamA, "team_alias": "still-here"})
}

func TestNoPlaintextUpstreamKeyOnDisk(t *testing.T) {
	args, dir := emptyGateway(t)
	g := startGateway(t, args...)
	g.ok(t, "POST", "/team/new", masterKey, map[string]any{"team_id": teamA})
	const raw1, raw2 = "sk-raw-upstream-secret-one-1111", "sk-raw-upstream-secret-two-2222"
	id := g.ok(t, "POST", "/model/new", masterKey, map[string]any{"model_name": "m", "model_info": map[string]any{"team_id": teamA, "metadata": "x"},
		"litellm_params": map[string]any{"model": "openai/x", "api_key": raw1, "api_base": "https://example.com/v1"}})["model_id"].(string)
	g.ok(t, "POST", "/model/new", masterKey, map[string]any{"model_name": "global", "litellm_params": map[string]any{"model": "openai/x", "api_key": raw2}})
	upd := g.ok(t, "POST", "/model/update", masterKey, map[string]any{"model_info": map[string]any{"id": id}, "model_name": "renamed", "litellm_params": map[string]any{"api_key": raw2}})
	if fmt.Sprint(upd["model_info"].(map[string]any)["team_public_model_name"]) != "renamed" {
		t.Errorf("update: %v", upd)
	}
	grepTree(t, dir, raw1)
	grepTree(t, dir, raw2)
	for _, path := range []string{"/model/info", "/team/list", "/key/list?return_full_object=true"} {
		if _, _, b := g.do(t, "GET", path, masterKey, nil); strings.Contains(string(b), raw1) || strings.Contains(string(b), raw2) || strings.Contains(string(b), "enc:v1:") && path == "/model/info" {
			t.Errorf("%s shows a secret: %s", path, b)
		}
	}
	if logs := g.finalLogs(); strings.Contains(logs, raw1) || strings.Contains(logs, raw2) {
		t.Error("a secret is in the log")
	}
}

// Keys: expiry, regenerate, block and delete take effect on the next call.
func TestKeyLifecycle(t *testing.T) {
	args, _ := emptyGateway(t)
	g := startGateway(t, args...)
	g.ok(t, "POST", "/team/new", masterKey, map[string]any{"team_id": teamA})
	short := g.ok(t, "POST", "/key/generate", masterKey, map[string]any{"team_id": teamA, "duration": "1s"})["key"].(string)
	time.Sleep(1100 * time.Millisecond)
	code, m, raw := g.do(t, "GET", "/team/info?team_id="+teamA, short, nil)
	if code != 401 || !strings.Contains(errorOf(t, m, raw)["message"].(string), "expired") {
		t.Errorf("expired key: %d %s", code, raw)
	}
	gen := g.ok(t, "POST", "/key/generate", masterKey, map[string]any{"team_id": teamA, "key_alias": "ci"})
	old := gen["key"].(string)
	regen := g.ok(t, "POST", "/key/regenerate", masterKey, map[string]any{"key": old})
	nk := regen["key"].(string)
	if code, _, _ := g.do(t, "GET", "/key/info", old, nil); code != 401 {
		t.Errorf("old key after regenerate: %d", code)
	}
	info := g.ok(t, "GET", "/key/info", nk, nil)["info"].(map[string]any)
	if info["key_alias"] != "ci" || strings.Contains(fmt.Sprint(info), nk) {
		t.Errorf("regenerated key info: %v", info)
	}
	g.ok(t, "POST", "/key/block", masterKey, map[string]any{"key": nk})
	if code, _, _ := g.do(t, "GET", "/key/info", nk, nil); code != 403 {
		t.Errorf("blocked key: %d", code)
	}
	g.ok(t, "POST", "/key/unblock", masterKey, map[string]any{"key": nk})
	g.ok(t, "GET", "/key/info", nk, nil)
	g.ok(t, "POST", "/key/delete", masterKey, map[string]any{"keys": []string{nk}})
	if code, _, _ := g.do(t, "GET", "/key/info", nk, nil); code != 401 {
		t.Errorf("deleted key: %d", code)
	}
}

// A hand-written team file is edited in place: comments and unrelated
// content survive a key generation.
func TestHandWrittenTeamFileEditedInPlace(t *testing.T) {
	up := newFakeUpstream(t)
	args := twoTeams(t, up, "")
	teamFile := filepath.Join(filepath.Dir(args[1]), "teams.d", "a.yaml")
	b, _ := os.ReadFile(teamFile)
	if err := os.WriteFile(teamFile, append([]byte("# owned by the search team\n"), b...), 0o644); err != nil {
		t.Fatal(err)
	}
	g := startGateway(t, args...)
	g.ok(t, "POST", "/key/generate", masterKey, map[string]any{"team_id": teamA, "key_alias": "new"})
	after, _ := os.ReadFile(teamFile)
	if !strings.HasPrefix(string(after), "# owned by the search team\n") || !strings.Contains(string(after), configs.HashKey(keyA)) || !strings.Contains(string(after), "key_alias: new") {
		t.Errorf("team file after /key/generate:\n%s", after)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(teamFile), teamA+".yaml")); !os.IsNotExist(err) {
		t.Error("a second team file was created")
	}
	// Deleting a hand-written model edits the shared file in place.
	g.ok(t, "POST", "/model/delete", masterKey, map[string]any{"id": "slow-1"})
	shared, _ := os.ReadFile(filepath.Join(filepath.Dir(args[1]), "models.d", "a", "models.yaml"))
	if strings.Contains(string(shared), "slow-1") || !strings.Contains(string(shared), "azure-1") {
		t.Errorf("shared models file:\n%s", shared)
	}
	// Deleting the team removes its file and its model files.
	g.ok(t, "POST", "/team/delete", masterKey, map[string]any{"team_ids": []string{teamA}})
	if _, err := os.Stat(teamFile); !os.IsNotExist(err) {
		t.Error("team file still there")
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(args[1]), "models.d", "a", "models.yaml")); !os.IsNotExist(err) {
		t.Error("team's models file still there")
	}
	if code, _, _ := g.do(t, "GET", "/v1/models", keyA, nil); code != 401 {
		t.Errorf("deleted team's key: %d", code)
	}
}

// An API write right after a hand edit the watcher has not applied yet
// never loses the edit: it is refused with 409 (nothing written) or, if
// the reload came first, made on top of the edit.
func TestWriteKeepsUnloadedHandEdit(t *testing.T) {
	args, dir := emptyGateway(t)
	g := startGateway(t, args...)
	g.ok(t, "POST", "/team/new", masterKey, map[string]any{"team_id": teamA})
	path := filepath.Join(dir, "teams.d", teamA+".yaml")
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	edited := string(before) + "# reviewed by hand\n"
	writeFiles(t, dir, map[string]string{"teams.d/" + teamA + ".yaml": edited})
	code, m, raw := g.do(t, "POST", "/team/update", masterKey, map[string]any{"team_id": teamA, "team_alias": "from-api"})
	after, _ := os.ReadFile(path)
	t.Logf("update right after the edit: %d", code)
	switch code {
	case 409:
		if msg := errorOf(t, m, raw)["message"].(string); !strings.Contains(msg, "changed on disk") || !strings.Contains(msg, "nothing was written") {
			t.Errorf("409 message: %s", msg)
		}
		if string(after) != edited {
			t.Errorf("refused write changed the file:\n%s", after)
		}
	case 200:
		if !strings.Contains(string(after), "# reviewed by hand") || !strings.Contains(string(after), "from-api") {
			t.Errorf("write after the reload lost the edit or the update:\n%s", after)
		}
	default:
		t.Fatalf("update: %d %s", code, raw)
	}
	// Once the edit is live, the same write goes through on top of it.
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, _, raw = g.do(t, "POST", "/team/update", masterKey, map[string]any{"team_id": teamA, "team_alias": "from-api"})
		if code == 200 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	after, _ = os.ReadFile(path)
	if code != 200 || !strings.Contains(string(after), "# reviewed by hand") || !strings.Contains(string(after), "from-api") {
		t.Fatalf("write after the reload: %d %s\n%s", code, raw, after)
	}
}

// A limit set through the API is removed by sending it as null, as with
// LiteLLM's /team/update and /key/update; a field left out stays.
func TestUpdateClearsLimitsWithNull(t *testing.T) {
	args, dir := emptyGateway(t)
	g := startGateway(t, args...)
	g.ok(t, "POST", "/team/new", masterKey, map[string]any{"team_id": teamA, "rpm_limit": 1, "max_budget": 5, "budget_duration": "30d"})
	g.ok(t, "POST", "/model/new", masterKey, map[string]any{"model_name": "m", "litellm_params": map[string]any{"model": "mock/x"}, "model_info": map[string]any{"team_id": teamA}})
	key := g.ok(t, "POST", "/key/generate", masterKey, map[string]any{"team_id": teamA, "tpm_limit": 1000})["key"].(string)
	chat := func() int {
		code, _, _ := g.do(t, "POST", "/v1/chat/completions", key, map[string]any{"model": "m", "messages": []any{map[string]any{"role": "user", "content": "hi"}}})
		return code
	}
	if a, b := chat(), chat(); a != 200 || b != 429 {
		t.Fatalf("rpm_limit 1: %d then %d, want 200 then 429", a, b)
	}
	g.ok(t, "POST", "/team/update", masterKey, map[string]any{"team_id": teamA, "rpm_limit": nil, "max_budget": nil})
	info := g.ok(t, "GET", "/team/info?team_id="+teamA, masterKey, nil)["team_info"].(map[string]any)
	if info["rpm_limit"] != nil || info["max_budget"] != nil || info["budget_duration"] != "30d" {
		t.Errorf("team after clearing rpm_limit and max_budget: rpm %v budget %v duration %v", info["rpm_limit"], info["max_budget"], info["budget_duration"])
	}
	if a, b := chat(), chat(); a != 200 || b != 200 {
		t.Errorf("calls after the rpm limit was removed: %d, %d", a, b)
	}
	file, _ := os.ReadFile(filepath.Join(dir, "teams.d", teamA+".yaml"))
	if strings.Contains(string(file), "rpm_limit") || strings.Contains(string(file), "max_budget") || !strings.Contains(string(file), "budget_duration: 30d") {
		t.Errorf("team file after clearing:\n%s", file)
	}
	g.ok(t, "POST", "/key/update", masterKey, map[string]any{"key": key, "tpm_limit": nil})
	if ki := g.ok(t, "GET", "/key/info", key, nil)["info"].(map[string]any); ki["tpm_limit"] != nil {
		t.Errorf("key tpm_limit after clearing: %v", ki["tpm_limit"])
	}
	if code, m, raw := g.do(t, "POST", "/team/update", masterKey, map[string]any{"team_id": teamA, "tpm_limit": -1}); code != 400 || !strings.Contains(errorOf(t, m, raw)["message"].(string), "tpm_limit is negative") {
		t.Errorf("negative limit: %d %s", code, raw)
	}
}
