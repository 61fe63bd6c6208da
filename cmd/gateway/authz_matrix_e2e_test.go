package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/gateway"
	"github.com/llmgateway/gateway/internal/fakeopenai"
)

// The authorization matrix: every route the router registers, times
// every kind of caller, with the expected status, against the running
// server. A route without a row fails the test (TestAuthzMatrix compares
// its rows with gateway.Routes()), so a new endpoint cannot ship without
// deciding who may call it.

// The callers, in the order of the matrix's columns.
const (
	mxNone        = "no key"
	mxInvalid     = "invalid key"
	mxExpired     = "expired key"
	mxDeleted     = "deleted team's key"
	mxBlockedKey  = "blocked key"
	mxBlockedTeam = "blocked team's key"
	mxMaster      = "master"
	mxAdmin       = "team admin"
	mxMember      = "team member"
	mxOtherAdmin  = "other team's admin"
	mxOtherMember = "other team's member"
)

var mxCallers = []string{mxNone, mxInvalid, mxExpired, mxDeleted, mxBlockedKey, mxBlockedTeam, mxMaster, mxAdmin, mxMember, mxOtherAdmin, mxOtherMember}

const (
	mxTeam    = "mx-team"    // the callers' own team (admin, member, expired, blocked key)
	mxTeamB   = "mx-other"   // the other team
	mxTeamC   = "mx-blocked" // a blocked team
	mxTeamD   = "mx-deleted" // deleted once the gateway runs
	mxModel   = "mx-model-1" // team mx-team's deployment
	mxKeyBase = "sk-mx-"
)

func mxKey(name string) string {
	return mxKeyBase + strings.ReplaceAll(name, " ", "-") + "-0123456789abcdef"
}

// mxReq is one request a row sends.
type mxReq struct {
	path   string // with the query and the path's parameters filled in
	body   any
	header []string // name, value, ...
}

// mxRow is one route: its method and pattern as registered, the status
// each caller gets, and how to build the request (called once per
// caller, so destructive calls get fresh targets).
type mxRow struct {
	method, pattern string
	want            map[string]int
	req             func(t *testing.T, f *mxFixture, caller string) mxReq
}

// public: every caller, with or without a key, gets 200.
func public() map[string]int {
	m := map[string]int{}
	for _, c := range mxCallers {
		m[c] = 200
	}
	return m
}

// authed: a missing, invalid or expired key and a deleted team's key get
// 401; a blocked key or a blocked team's key 403; the others as given.
func authed(master, admin, member, otherAdmin, otherMember int) map[string]int {
	return map[string]int{
		mxNone: 401, mxInvalid: 401, mxExpired: 401, mxDeleted: 401,
		mxBlockedKey: 403, mxBlockedTeam: 403,
		mxMaster: master, mxAdmin: admin, mxMember: member, mxOtherAdmin: otherAdmin, mxOtherMember: otherMember,
	}
}

func (w mxWantMod) apply(m map[string]int) map[string]int {
	for k, v := range w {
		m[k] = v
	}
	return m
}

type mxWantMod map[string]int

type mxFixture struct {
	g *gatewayProc
	n int
}

func (f *mxFixture) fresh(prefix string) string {
	f.n++
	return fmt.Sprintf("%s-%d", prefix, f.n)
}

// freshKey is a new key of the callers' own team, made by the master.
func (f *mxFixture) freshKey(t *testing.T) string {
	return f.g.ok(t, "POST", "/key/generate", masterKey, map[string]any{"team_id": mxTeam})["token"].(string)
}

// responseID is a new response of the callers' own team (made with its
// member's key on the team's own model).
func (f *mxFixture) responseID(t *testing.T) string {
	code, m, raw := f.g.do(t, "POST", "/v1/responses", mxKey(mxMember), map[string]any{"model": "g-openai", "input": "hi"})
	if code != 200 {
		t.Fatalf("creating a response: %d %s", code, raw)
	}
	return m["id"].(string)
}

// freshTeam is a new team, made by the master.
func (f *mxFixture) freshTeam(t *testing.T) string {
	id := f.fresh("mx-fresh")
	f.g.ok(t, "POST", "/team/new", masterKey, map[string]any{"team_id": id})
	return id
}

// freshModel is a new deployment of the callers' own team, added by its
// admin (a deployment the master added is the operator's: only the master
// may change or delete it, which TestSecretsKeysFollowTheirEndpoint checks).
func (f *mxFixture) freshModel(t *testing.T) string {
	return f.g.ok(t, "POST", "/model/new", mxKey(mxAdmin), map[string]any{"model_name": f.fresh("mx-m"),
		"litellm_params": map[string]any{"model": "mock/x"}, "model_info": map[string]any{"team_id": mxTeam}})["model_id"].(string)
}

func mxTeamFile(id string, blocked bool, members string, keys ...string) string {
	s := "team_id: " + id + "\n"
	if blocked {
		s += "blocked: true\n"
	}
	s += "members_with_roles: " + members + "\nkeys:\n"
	for _, k := range keys {
		s += k
	}
	return s
}

func mxKeyEntry(caller, user, extra string) string {
	s := "  - token: " + configs.HashKey(mxKey(caller)) + "\n    key_alias: " + strings.ReplaceAll(caller, " ", "-") + "\n"
	if user != "" {
		s += "    user_id: " + user + "\n"
	}
	return s + extra
}

func newMxFixture(t *testing.T) *mxFixture {
	args, dir := emptyGateway(t)
	oa := fakeopenai.Start(t, fakeopenai.Options{})
	t.Setenv("MX_OPENAI_KEY", oa.Key)
	writeFiles(t, dir, map[string]string{
		"gateway.yaml": "general_settings:\n  master_key: os.environ/GATEWAY_MASTER_KEY\n  salt_key: os.environ/GATEWAY_SALT_KEY\n" +
			"model_list:\n  - model_name: g-mock\n    litellm_params: {model: mock/g}\n" +
			"  - model_name: g-openai\n    litellm_params: {model: openai/gpt-4o-mini, api_base: \"" + oa.OpenAIBase() + "\", api_key: os.environ/MX_OPENAI_KEY}\n",
		"teams.d/own.yaml": mxTeamFile(mxTeam, false, "[{user_id: ann, role: admin}, {user_id: mem, role: user}]",
			mxKeyEntry(mxAdmin, "ann", ""), mxKeyEntry(mxMember, "mem", ""),
			mxKeyEntry(mxExpired, "ann", "    expires: 2020-01-01T00:00:00Z\n"),
			mxKeyEntry(mxBlockedKey, "ann", "    blocked: true\n")),
		"teams.d/other.yaml": mxTeamFile(mxTeamB, false, "[{user_id: bob, role: admin}, {user_id: bea, role: user}]",
			mxKeyEntry(mxOtherAdmin, "bob", ""), mxKeyEntry(mxOtherMember, "bea", "")),
		"teams.d/blocked.yaml": mxTeamFile(mxTeamC, true, "[{user_id: cat, role: admin}]", mxKeyEntry(mxBlockedTeam, "cat", "")),
		"teams.d/deleted.yaml": mxTeamFile(mxTeamD, false, "[{user_id: dan, role: admin}]", mxKeyEntry(mxDeleted, "dan", "")),
		"models.d/own.yaml": "model_list:\n  - model_name: model_name_" + mxTeam + "_1\n    litellm_params: {model: mock/own}\n" +
			"    model_info: {id: " + mxModel + ", team_id: " + mxTeam + ", team_public_model_name: own-model, api_key_set_by: team}\n",
	})
	f := &mxFixture{g: startGateway(t, args...)}
	f.g.ok(t, "POST", "/team/delete", masterKey, map[string]any{"team_ids": []string{mxTeamD}})
	return f
}

func mxRows() []mxRow {
	chat := func(path string) func(*testing.T, *mxFixture, string) mxReq {
		return func(*testing.T, *mxFixture, string) mxReq {
			return mxReq{path: path, body: map[string]any{"model": "g-mock", "messages": []any{map[string]any{"role": "user", "content": "hi"}}}}
		}
	}
	get := func(path string) func(*testing.T, *mxFixture, string) mxReq {
		return func(*testing.T, *mxFixture, string) mxReq { return mxReq{path: path, body: nil} }
	}
	freshTeamReq := func(path, field string, list bool) func(*testing.T, *mxFixture, string) mxReq {
		return func(t *testing.T, f *mxFixture, _ string) mxReq {
			id := f.freshTeam(t)
			if list {
				return mxReq{path: path, body: map[string]any{field: []string{id}}}
			}
			return mxReq{path: path, body: map[string]any{field: id}}
		}
	}
	freshKeyReq := func(path string) func(*testing.T, *mxFixture, string) mxReq {
		return func(t *testing.T, f *mxFixture, _ string) mxReq {
			return mxReq{path: path, body: map[string]any{"key": f.freshKey(t)}}
		}
	}
	newModel := func(path string) func(*testing.T, *mxFixture, string) mxReq {
		return func(_ *testing.T, f *mxFixture, _ string) mxReq {
			return mxReq{path: path, body: map[string]any{"model_name": f.fresh("mx-new"), "litellm_params": map[string]any{"model": "mock/x"}, "model_info": map[string]any{"team_id": mxTeam}}}
		}
	}
	raw := func(path, body string) func(*testing.T, *mxFixture, string) mxReq {
		return func(*testing.T, *mxFixture, string) mxReq { return mxReq{path: path, body: body} }
	}
	transcription := func(path string) func(*testing.T, *mxFixture, string) mxReq {
		return func(*testing.T, *mxFixture, string) mxReq {
			body := "--b\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\ng-openai\r\n" +
				"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\nContent-Type: audio/wav\r\n\r\nRIFF\r\n--b--\r\n"
			return mxReq{path: path, body: body, header: []string{"Content-Type", "multipart/form-data; boundary=b"}}
		}
	}
	// storedResponse reads or deletes a response the team's member made
	// (with the caller's key).
	storedResponse := func(prefix string) func(*testing.T, *mxFixture, string) mxReq {
		return func(t *testing.T, f *mxFixture, _ string) mxReq {
			return mxReq{path: prefix + f.responseID(t)}
		}
	}
	// A blocked team's or key's chat is refused by its team actor: 403.
	// pprof checks the key itself, without the expiry: 403 for an expired
	// key too (it is not the master key).
	return []mxRow{
		{"POST", "/v1/chat/completions", authed(200, 200, 200, 200, 200), chat("/v1/chat/completions")},
		{"POST", "/chat/completions", authed(200, 200, 200, 200, 200), chat("/chat/completions")},
		{"POST", "/openai/deployments/{model}/chat/completions", authed(200, 200, 200, 200, 200), chat("/openai/deployments/g-mock/chat/completions?api-version=2024-10-21")},
		{"GET", "/v1/models", authed(200, 200, 200, 200, 200), get("/v1/models")},
		{"POST", "/v1/completions", authed(200, 200, 200, 200, 200), raw("/v1/completions", `{"model":"g-mock","prompt":"hi"}`)},
		{"POST", "/completions", authed(200, 200, 200, 200, 200), raw("/completions", `{"model":"g-mock","prompt":"hi"}`)},
		{"POST", "/openai/deployments/{model}/completions", authed(200, 200, 200, 200, 200), raw("/openai/deployments/g-mock/completions?api-version=2024-10-21", `{"model":"g-mock","prompt":"hi"}`)},
		{"POST", "/v1/embeddings", authed(200, 200, 200, 200, 200), raw("/v1/embeddings", `{"model":"g-mock","input":"hi"}`)},
		{"POST", "/embeddings", authed(200, 200, 200, 200, 200), raw("/embeddings", `{"model":"g-mock","input":"hi"}`)},
		{"POST", "/openai/deployments/{model}/embeddings", authed(200, 200, 200, 200, 200), raw("/openai/deployments/g-mock/embeddings?api-version=2024-10-21", `{"model":"g-mock","input":"hi"}`)},
		{"POST", "/v1/responses", authed(200, 200, 200, 200, 200), raw("/v1/responses", `{"model":"g-mock","input":"hi"}`)},
		{"POST", "/responses", authed(200, 200, 200, 200, 200), raw("/responses", `{"model":"g-mock","input":"hi"}`)},
		{"POST", "/v1/moderations", authed(200, 200, 200, 200, 200), raw("/v1/moderations", `{"model":"g-openai","input":"hi"}`)},
		{"POST", "/moderations", authed(200, 200, 200, 200, 200), raw("/moderations", `{"model":"g-openai","input":"hi"}`)},
		{"POST", "/v1/images/generations", authed(200, 200, 200, 200, 200), raw("/v1/images/generations", `{"model":"g-openai","prompt":"a cat"}`)},
		{"POST", "/images/generations", authed(200, 200, 200, 200, 200), raw("/images/generations", `{"model":"g-openai","prompt":"a cat"}`)},
		{"POST", "/openai/deployments/{model}/images/generations", authed(200, 200, 200, 200, 200), raw("/openai/deployments/g-openai/images/generations?api-version=2024-10-21", `{"model":"g-mock","prompt":"a cat"}`)},
		{"POST", "/v1/audio/speech", authed(200, 200, 200, 200, 200), raw("/v1/audio/speech", `{"model":"g-openai","input":"hi","voice":"alloy"}`)},
		{"POST", "/audio/speech", authed(200, 200, 200, 200, 200), raw("/audio/speech", `{"model":"g-openai","input":"hi","voice":"alloy"}`)},
		{"POST", "/openai/deployments/{model}/audio/speech", authed(200, 200, 200, 200, 200), raw("/openai/deployments/g-openai/audio/speech?api-version=2024-10-21", `{"model":"g-mock","input":"hi","voice":"alloy"}`)},
		{"POST", "/v1/audio/transcriptions", authed(200, 200, 200, 200, 200), transcription("/v1/audio/transcriptions")},
		{"POST", "/audio/transcriptions", authed(200, 200, 200, 200, 200), transcription("/audio/transcriptions")},
		{"POST", "/openai/deployments/{model}/audio/transcriptions", authed(200, 200, 200, 200, 200), transcription("/openai/deployments/g-openai/audio/transcriptions")},
		// Anthropic's API: every key's own models (mock through the bridge).
		{"POST", "/v1/messages", authed(200, 200, 200, 200, 200), raw("/v1/messages", `{"model":"g-mock","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}`)},
		{"POST", "/v1/messages/count_tokens", authed(200, 200, 200, 200, 200), raw("/v1/messages/count_tokens", `{"model":"g-mock","messages":[{"role":"user","content":"hi"}]}`)},
		// A stored response is its team's: another team's key (or the
		// master's) gets 404, as for an id that does not exist.
		{"GET", "/v1/responses/{id}", authed(404, 200, 200, 404, 404), storedResponse("/v1/responses/")},
		{"GET", "/responses/{id}", authed(404, 200, 200, 404, 404), storedResponse("/responses/")},
		{"DELETE", "/v1/responses/{id}", authed(404, 200, 200, 404, 404), storedResponse("/v1/responses/")},
		{"DELETE", "/responses/{id}", authed(404, 200, 200, 404, 404), storedResponse("/responses/")},
		{"GET", "/models", authed(200, 200, 200, 200, 200), get("/models")},
		// A team's model is visible to its own keys only (the master key
		// calls global models); another team's answers as a missing one.
		{"GET", "/v1/models/{model:*}", authed(404, 200, 200, 404, 404), get("/v1/models/own-model")},
		{"GET", "/models/{model:*}", authed(404, 200, 200, 404, 404), get("/models/own-model")},
		// Not served yet: 501 saying so, after authentication.
		{"*", "/v1/files", authed(501, 501, 501, 501, 501), get("/v1/files")},
		{"*", "/v1/files/{path:*}", authed(501, 501, 501, 501, 501), get("/v1/files/file-abc")},
		{"*", "/v1/batches", authed(501, 501, 501, 501, 501), get("/v1/batches")},
		{"*", "/v1/batches/{path:*}", authed(501, 501, 501, 501, 501), get("/v1/batches/batch-abc")},
		// Probes every deployment: the operator's.
		{"GET", "/health", authed(200, 403, 403, 403, 403), get("/health")},
		{"GET", "/health/liveliness", public(), get("/health/liveliness")},
		{"GET", "/health/readiness", public(), get("/health/readiness")},
		// Anonymous /metrics is 200 with the series that name no team; a
		// team key gets 403 (per-team series need the master key or
		// general_settings.metrics_key: the metrics tests check them).
		{"GET", "/metrics", mxWantMod{mxNone: 200}.apply(authed(200, 403, 403, 403, 403)), get("/metrics")},
		{"*", "/debug/pprof/{path:*}", mxWantMod{mxExpired: 403}.apply(authed(200, 403, 403, 403, 403)), get("/debug/pprof/cmdline")},
		{"GET", "/config/status", authed(200, 403, 403, 403, 403), get("/config/status")},
		{"POST", "/config/reload", authed(200, 403, 403, 403, 403), get("/config/reload")},

		{"POST", "/team/new", authed(200, 403, 403, 403, 403), func(_ *testing.T, f *mxFixture, _ string) mxReq {
			return mxReq{path: "/team/new", body: map[string]any{"team_id": f.fresh("mx-new-team")}}
		}},
		{"GET", "/team/info", authed(200, 200, 200, 404, 404), get("/team/info?team_id=" + mxTeam)},
		// The usage log's reports: a team's own calls for its keys, another
		// team's as missing; a user's activity only through the caller's
		// own team; the global report for the master only.
		{"GET", "/spend/logs", authed(200, 200, 200, 404, 404), get("/spend/logs?team_id=" + mxTeam)},
		{"GET", "/team/daily/activity", authed(200, 200, 200, 404, 404), get("/team/daily/activity?team_ids=" + mxTeam)},
		{"GET", "/user/daily/activity", authed(200, 200, 200, 200, 200), get("/user/daily/activity?user_id=mx-user")},
		{"GET", "/global/spend/report", authed(200, 403, 403, 403, 403), get("/global/spend/report?group_by=team")},
		{"GET", "/team/list", authed(200, 200, 200, 200, 200), get("/team/list")},
		{"POST", "/team/update", authed(200, 403, 403, 403, 403), freshTeamReq("/team/update", "team_id", false)},
		{"POST", "/team/delete", authed(200, 403, 403, 403, 403), freshTeamReq("/team/delete", "team_ids", true)},
		{"POST", "/team/block", authed(200, 403, 403, 403, 403), freshTeamReq("/team/block", "team_id", false)},
		{"POST", "/team/unblock", authed(200, 403, 403, 403, 403), freshTeamReq("/team/unblock", "team_id", false)},
		{"POST", "/team/member_add", authed(200, 200, 403, 404, 404), func(_ *testing.T, f *mxFixture, _ string) mxReq {
			return mxReq{path: "/team/member_add", body: map[string]any{"team_id": mxTeam, "member": map[string]any{"user_id": f.fresh("u"), "role": "user"}}}
		}},
		{"POST", "/team/member_delete", authed(200, 200, 403, 404, 404), func(t *testing.T, f *mxFixture, _ string) mxReq {
			u := f.fresh("carol")
			f.g.ok(t, "POST", "/team/member_add", masterKey, map[string]any{"team_id": mxTeam, "member": map[string]any{"user_id": u}})
			return mxReq{path: "/team/member_delete", body: map[string]any{"team_id": mxTeam, "user_id": u}}
		}},

		{"POST", "/model/new", authed(200, 200, 200, 404, 404), newModel("/model/new")},
		{"POST", "/model/add", authed(200, 200, 200, 404, 404), newModel("/model/add")},
		{"GET", "/model/info", authed(200, 200, 200, 200, 200), get("/model/info")},
		{"GET", "/v1/model/info", authed(200, 200, 200, 404, 404), get("/v1/model/info?litellm_model_id=" + mxModel)},
		{"POST", "/model/update", authed(200, 200, 200, 404, 404), func(*testing.T, *mxFixture, string) mxReq {
			return mxReq{path: "/model/update", body: map[string]any{"model_info": map[string]any{"id": mxModel, "note": "x"}}}
		}},
		{"POST", "/model/delete", authed(200, 200, 200, 404, 404), func(t *testing.T, f *mxFixture, _ string) mxReq {
			return mxReq{path: "/model/delete", body: map[string]any{"id": f.freshModel(t)}}
		}},

		{"POST", "/key/generate", authed(200, 200, 403, 404, 404), func(*testing.T, *mxFixture, string) mxReq {
			return mxReq{path: "/key/generate", body: map[string]any{"team_id": mxTeam}}
		}},
		{"GET", "/key/info", authed(200, 200, 403, 404, 404), func(t *testing.T, f *mxFixture, _ string) mxReq {
			return mxReq{path: "/key/info?key=" + f.freshKey(t), body: nil}
		}},
		// A team admin lists its team's keys; a member may not.
		{"GET", "/key/list", authed(200, 200, 403, 200, 403), get("/key/list")},
		{"POST", "/key/update", authed(200, 200, 403, 404, 404), func(t *testing.T, f *mxFixture, _ string) mxReq {
			return mxReq{path: "/key/update", body: map[string]any{"key": f.freshKey(t), "key_alias": "renamed"}}
		}},
		{"POST", "/key/regenerate", authed(200, 200, 403, 404, 404), freshKeyReq("/key/regenerate")},
		{"POST", "/key/{key}/regenerate", authed(200, 200, 403, 404, 404), func(t *testing.T, f *mxFixture, _ string) mxReq {
			return mxReq{path: "/key/" + f.freshKey(t) + "/regenerate", body: nil}
		}},
		{"POST", "/key/block", authed(200, 200, 403, 404, 404), freshKeyReq("/key/block")},
		// A key a team admin blocked (the master's blocks lift only with the
		// master key: TestLifecycleBlockedCanDoNothing).
		{"POST", "/key/unblock", authed(200, 200, 403, 404, 404), func(t *testing.T, f *mxFixture, _ string) mxReq {
			k := f.freshKey(t)
			f.g.ok(t, "POST", "/key/block", mxKey(mxAdmin), map[string]any{"key": k})
			return mxReq{path: "/key/unblock", body: map[string]any{"key": k}}
		}},
		{"POST", "/key/delete", authed(200, 200, 403, 404, 404), func(t *testing.T, f *mxFixture, _ string) mxReq {
			return mxReq{path: "/key/delete", body: map[string]any{"keys": []string{f.freshKey(t)}}}
		}},
	}
}

// TestAuthzMatrixCoversEveryRoute fails when the router has a route the
// matrix has no row for (or a row for a route that is gone).
func TestAuthzMatrixCoversEveryRoute(t *testing.T) {
	t.Parallel()
	var rows, routes []string
	for _, r := range mxRows() {
		rows = append(rows, r.method+" "+r.pattern)
		for _, c := range mxCallers {
			if _, ok := r.want[c]; !ok {
				t.Errorf("row %s %s has no status for caller %q", r.method, r.pattern, c)
			}
		}
	}
	for _, r := range gateway.Routes() {
		routes = append(routes, r.Method+" "+r.Path)
	}
	for _, r := range routes {
		if !slices.Contains(rows, r) {
			t.Errorf("route %s has no row in the authorization matrix (authz_matrix_e2e_test.go): decide who may call it", r)
		}
	}
	for _, r := range rows {
		if !slices.Contains(routes, r) {
			t.Errorf("the matrix has a row for %s, which the router does not register", r)
		}
	}
}

func TestAuthzMatrix(t *testing.T) {
	f := newMxFixture(t)
	keys := map[string]string{mxNone: "", mxInvalid: "sk-not-a-key-of-anyone-0123456789", mxMaster: masterKey}
	for _, c := range mxCallers {
		if _, ok := keys[c]; !ok {
			keys[c] = mxKey(c)
		}
	}
	for _, row := range mxRows() {
		method := row.method
		if method == "*" {
			method = "GET"
		}
		for _, caller := range mxCallers {
			t.Run(row.method+" "+row.pattern+"/"+caller, func(t *testing.T) {
				r := row.req(t, f, caller)
				want := row.want[caller]
				code, m, raw := f.g.do(t, method, r.path, keys[caller], r.body, r.header...)
				if code != want {
					t.Fatalf("%s %s as %s: %d, want %d: %.400s", method, r.path, caller, code, want, raw)
				}
				switch {
				case code < 400, strings.HasPrefix(r.path, "/debug/pprof"):
				case strings.HasPrefix(r.path, "/v1/messages"):
					anthropicErrorOf(t, m, raw)
				default:
					errorOf(t, m, raw)
				}
				if code == 200 && (caller == mxOtherAdmin || caller == mxOtherMember) && r.path != "/metrics" && strings.Contains(string(raw), mxTeam) {
					t.Errorf("the other team sees %s: %.400s", mxTeam, raw)
				}
			})
		}
	}
}
