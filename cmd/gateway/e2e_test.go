package main

import (
	"context"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/llmgateway/gateway/configs"
)

const (
	teamA     = "e59e2671-a064-436a-a0fa-16ae96e5a0a1"
	teamB     = "0b6f2d4c-1c1e-4a57-9d0b-5f3a8c2e9d11"
	keyA      = "sk-team-a-0123456789abcdef0123456789"
	keyB      = "sk-team-b-0123456789abcdef0123456789"
	upKeyA    = "sk-upstream-team-a-secret-ccb07"
	upKeyAz   = "azure-upstream-secret-9f3e"
	masterKey = "sk-master-0123456789"
)

// twoTeams writes a configuration with two teams, team A's own models on
// the fake upstream and team B's on the mock provider.
func twoTeams(t *testing.T, up *fakeUpstream, extraSettings string) []string {
	t.Helper()
	t.Setenv("TEAM_A_UPSTREAM_KEY", upKeyA)
	t.Setenv("TEAM_A_AZURE_KEY", upKeyAz)
	t.Setenv("GATEWAY_MASTER_KEY", masterKey)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"gateway.yaml": "general_settings:\n  master_key: os.environ/GATEWAY_MASTER_KEY\n" + allowLoopback + extraSettings +
			"model_list:\n  - model_name: global-mock\n    litellm_params: {model: mock/global}\n",
		"teams.d/a.yaml": `team_id: ` + teamA + `
team_alias: search
keys:
  - token: ` + configs.HashKey(keyA) + `
    key_alias: a-ci
`,
		"teams.d/b.yaml": `team_id: ` + teamB + `
team_alias: other
keys:
  - token: ` + configs.HashKey(keyB) + `
    key_alias: b-ci
`,
		"models.d/a/models.yaml": `model_list:
  - model_name: model_name_` + teamA + `_e81c9286-2195-4bd9-81e1-cf393788a1a0
    litellm_params:
      model: openai/gpt-4o
      api_base: ` + up.url + `/v1
      api_key: os.environ/TEAM_A_UPSTREAM_KEY
    model_info:
      id: e81c9286-2195-4bd9-81e1-cf393788a1a0
      team_id: ` + teamA + `
      team_public_model_name: my-team-model
  - model_name: model_name_` + teamA + `_azure
    litellm_params:
      model: azure/my-finetune
      api_base: ` + up.url + `
      api_version: 2024-10-21
      api_key: os.environ/TEAM_A_AZURE_KEY
    model_info: {id: azure-1, team_id: ` + teamA + `, team_public_model_name: my-azure-model}
  - model_name: model_name_` + teamA + `_slow
    litellm_params:
      model: openai/slow
      api_base: ` + up.url + `/v1
      api_key: os.environ/TEAM_A_UPSTREAM_KEY
      timeout: 0.3
    model_info: {id: slow-1, team_id: ` + teamA + `, team_public_model_name: slow-model}
  - model_name: model_name_` + teamA + `_dead
    litellm_params:
      model: openai/dead
      api_base: http://127.0.0.1:1/v1
    model_info: {id: dead-1, team_id: ` + teamA + `, team_public_model_name: dead-model}
  - model_name: model_name_` + teamA + `_refused
    litellm_params:
      model: openai/refused
      api_base: ` + up.url + `/v1
      api_key: os.environ/TEAM_A_UPSTREAM_KEY
    model_info: {id: refused-1, team_id: ` + teamA + `, team_public_model_name: refused-model}
`,
		"models.d/b.yaml": `model_list:
  - model_name: model_name_` + teamB + `_1
    litellm_params: {model: mock/b}
    model_info: {id: b-1, team_id: ` + teamB + `, team_public_model_name: b-model}
`,
	})
	up.handler = func(w http.ResponseWriter, r *http.Request, body map[string]any) bool {
		switch body["model"] {
		case "slow":
			time.Sleep(2 * time.Second)
			return false
		case "refused":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(429)
			// A careless upstream echoing the key it was sent.
			_, _ = w.Write([]byte(`{"error":{"message":"Rate limit reached for key ` + r.Header.Get("Authorization") + `","type":"requests","code":"rate_limit_exceeded"}}`))
			return true
		}
		return false
	}
	return []string{"--config", filepath.Join(dir, "gateway.yaml"), "--teams-dir", filepath.Join(dir, "teams.d"),
		"--models-dir", filepath.Join(dir, "models.d"), "--state-dir", filepath.Join(dir, "state")}
}

func openaiClient(g *gatewayProc, key string, opts ...option.RequestOption) openai.Client {
	return openai.NewClient(append([]option.RequestOption{
		option.WithAPIKey(key), option.WithBaseURL(g.url("/v1/")), option.WithMaxRetries(0),
	}, opts...)...)
}

func userSays(model, text string) openai.ChatCompletionNewParams {
	return openai.ChatCompletionNewParams{
		Model:    model,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(text)},
	}
}

// The seed's "Test it!": a team key calling my-team-model reaches the
// team's own upstream with the team's own key.
func TestTeamModelReachesTeamUpstreamWithTeamKey(t *testing.T) {
	up := newFakeUpstream(t)
	g := startGateway(t, twoTeams(t, up, "")...)
	client := openaiClient(g, keyA)

	resp, err := client.Chat.Completions.New(context.Background(), userSays("my-team-model", "What's the weather like in Boston today?"))
	if err != nil {
		t.Fatalf("chat: %v\n%s", err, g.logs.String())
	}
	got := up.last()
	if h := got.Header.Get("Authorization"); h != "Bearer "+upKeyA {
		t.Errorf("upstream got Authorization %q, want the team deployment's key", h)
	}
	if got.Path != "/v1/chat/completions" || got.Body["model"] != "gpt-4o" {
		t.Errorf("upstream got %s model %v, want /v1/chat/completions model gpt-4o", got.Path, got.Body["model"])
	}
	if resp.Model != "my-team-model" {
		t.Errorf("client got model %q, want the name it asked for", resp.Model)
	}
	if len(resp.Choices) != 1 || resp.Choices[0].Message.Content != "upstream says hi" {
		t.Errorf("client got %+v, want the upstream's answer", resp.Choices)
	}
	if resp.Usage.TotalTokens != 18 {
		t.Errorf("usage %+v not passed through", resp.Usage)
	}
	if logs := g.finalLogs(); !strings.Contains(logs, "msg=request") || strings.Contains(logs, upKeyA) {
		t.Errorf("the log has no request line, or the upstream key appears in it:\n%s", logs)
	}
}

func TestStreamingChunksArriveOneByOne(t *testing.T) {
	up := newFakeUpstream(t)
	up.streamGate = make(chan struct{})
	g := startGateway(t, twoTeams(t, up, "")...)
	client := openaiClient(g, keyA)

	stream := client.Chat.Completions.NewStreaming(context.Background(), userSays("my-team-model", "hi"))
	var contents []string
	gate := up.streamGate
	for stream.Next() {
		c := stream.Current()
		if c.Model != "my-team-model" {
			t.Errorf("chunk model %q, want my-team-model", c.Model)
		}
		if len(c.Choices) > 0 {
			contents = append(contents, c.Choices[0].Delta.Content)
		}
		if len(contents) == 1 {
			// The first chunk is here while the upstream is still blocked.
			select {
			case s := <-up.streamDone:
				t.Fatalf("upstream already %s before the client read the first chunk", s)
			default:
			}
			close(gate)
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatalf("stream: %v", err)
	}
	if strings.Join(contents, ",") != "first,second,third" {
		t.Fatalf("chunks %q", contents)
	}
	if got := up.last(); got.Body["stream"] != true || got.Header.Get("Authorization") != "Bearer "+upKeyA {
		t.Errorf("upstream stream request: %+v", got)
	}
}

func TestStreamClientDisconnectCancelsUpstream(t *testing.T) {
	up := newFakeUpstream(t)
	up.trickle = true // the upstream keeps sending chunks slowly
	g := startGateway(t, twoTeams(t, up, "")...)
	ctx, cancel := context.WithCancel(context.Background())
	client := openaiClient(g, keyA)
	stream := client.Chat.Completions.NewStreaming(ctx, userSays("my-team-model", "hi"))
	if !stream.Next() {
		t.Fatalf("no first chunk: %v", stream.Err())
	}
	cancel()
	_ = stream.Close()
	// The gateway's next write to the gone client fails; it then closes
	// the upstream request.
	select {
	case s := <-up.streamDone:
		if s != "cancelled" {
			t.Fatalf("upstream stream %s, want cancelled", s)
		}
	case <-time.After(8 * time.Second):
		t.Fatal("the upstream request was not cancelled after the client went away")
	}
}

func TestTeamIsolation(t *testing.T) {
	up := newFakeUpstream(t)
	g := startGateway(t, twoTeams(t, up, "")...)
	clientB := openaiClient(g, keyB)
	n := up.count()
	for _, name := range []string{"my-team-model", "model_name_" + teamA + "_e81c9286-2195-4bd9-81e1-cf393788a1a0", "no-such-model"} {
		code, m, raw := g.do(t, "POST", "/v1/chat/completions", keyB, map[string]any{"model": name, "messages": []any{map[string]any{"role": "user", "content": "hi"}}})
		e := errorOf(t, m, raw)
		if code != 400 || !strings.Contains(e["message"].(string), "/v1/models") {
			t.Errorf("team B calling %q: %d %s, want 400 naming /v1/models", name, code, raw)
		}
	}
	if up.count() != n {
		t.Error("team B's calls reached team A's upstream")
	}
	page, err := clientB.Models.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range page.Data {
		ids = append(ids, m.ID)
	}
	if strings.Join(ids, ",") != "b-model,global-mock" {
		t.Errorf("team B lists %v, want only its own and global models", ids)
	}
	// Team A sees its own models and the global one.
	_, m, _ := g.do(t, "GET", "/v1/models", keyA, nil)
	if data, _ := m["data"].([]any); len(data) != 6 {
		t.Errorf("team A lists %v", m)
	}
	// Team B can call its own mock model and the global one.
	for _, name := range []string{"b-model", "global-mock"} {
		if _, err := clientB.Chat.Completions.New(context.Background(), userSays(name, "hi")); err != nil {
			t.Errorf("team B calling %s: %v", name, err)
		}
	}
}

func TestAzureRouteAndHeaders(t *testing.T) {
	up := newFakeUpstream(t)
	g := startGateway(t, twoTeams(t, up, "")...)
	// An AzureOpenAI-style client: deployment in the path, api-version
	// query, key in the api-key header.
	client := openai.NewClient(
		option.WithBaseURL(g.url("/openai/deployments/my-azure-model/")),
		option.WithQuery("api-version", "2024-10-21"),
		option.WithHeader("api-key", keyA),
		option.WithMaxRetries(0),
	)
	resp, err := client.Chat.Completions.New(context.Background(), userSays("ignored-body-model", "hi"))
	if err != nil {
		t.Fatalf("azure-style chat: %v", err)
	}
	if resp.Model != "my-azure-model" {
		t.Errorf("model %q, want the path's model", resp.Model)
	}
	got := up.last()
	if got.Path != "/openai/deployments/my-finetune/chat/completions" || got.Query != "api-version=2024-10-21" {
		t.Errorf("upstream URL %s?%s", got.Path, got.Query)
	}
	if got.Header.Get("api-key") != upKeyAz || got.Header.Get("Authorization") != "" {
		t.Errorf("upstream auth headers: api-key=%q Authorization=%q", got.Header.Get("api-key"), got.Header.Get("Authorization"))
	}
}

func TestErrorStatuses(t *testing.T) {
	up := newFakeUpstream(t)
	g := startGateway(t, twoTeams(t, up, "  max_request_size_mb: 1\n")...)
	msgs := []any{map[string]any{"role": "user", "content": "hi"}}
	cases := []struct {
		name   string
		key    string
		body   any
		status int
		says   string
	}{
		{"not JSON", keyA, "{not json", 400, "not valid JSON"},
		{"model missing", keyA, map[string]any{"messages": msgs}, 400, "`model`"},
		{"messages missing", keyA, map[string]any{"model": "my-team-model"}, 400, "`messages`"},
		{"model twice", keyA, `{"model":"my-team-model","messages":[{"role":"user","content":"hi"}],"model":"gpt-4o"}`, 400, "more than once"},
		{"unknown model", keyA, map[string]any{"model": "gpt-99", "messages": msgs}, 400, "GET /v1/models"},
		{"no key", "", map[string]any{"model": "my-team-model", "messages": msgs}, 401, "no API key"},
		{"unknown key", "sk-nope", map[string]any{"model": "my-team-model", "messages": msgs}, 401, "invalid API key"},
		{"upstream unreachable", keyA, map[string]any{"model": "dead-model", "messages": msgs}, 502, "could not be reached"},
		{"upstream timeout", keyA, map[string]any{"model": "slow-model", "messages": msgs}, 504, "timed out"},
		{"upstream 4xx", keyA, map[string]any{"model": "refused-model", "messages": msgs}, 429, "Rate limit reached"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, m, raw := g.do(t, "POST", "/v1/chat/completions", c.key, c.body)
			e := errorOf(t, m, raw)
			if code != c.status || e["code"] != strconv.Itoa(c.status) {
				t.Errorf("status %d code %v, want %d: %s", code, e["code"], c.status, raw)
			}
			if !strings.Contains(e["message"].(string), c.says) {
				t.Errorf("message %q does not say %q", e["message"], c.says)
			}
			if strings.Contains(string(raw), upKeyA) {
				t.Errorf("the upstream key leaked into the answer: %s", raw)
			}
		})
	}
	t.Run("too large", func(t *testing.T) {
		code, m, raw := g.postOversized(t, "/v1/chat/completions", keyA, 1536<<10)
		e := errorOf(t, m, raw)
		if code != 413 || e["code"] != "413" || !strings.Contains(e["message"].(string), "limit") {
			t.Errorf("oversized body: %d %s", code, raw)
		}
	})
	if logs := g.finalLogs(); !strings.Contains(logs, "msg=request") || strings.Contains(logs, upKeyA) {
		t.Errorf("the log has no request line, or the upstream key leaked into it:\n%s", logs)
	}
}

// The demo exactly as the README shows it.
func TestDemoAsInReadme(t *testing.T) {
	t.Setenv("GATEWAY_MASTER_KEY", "")
	g := startGateway(t, "--teams-dir", "../../teams.d", "--models-dir", "../../models.d", "--config", "../../configs/gateway.yaml",
		"--state-dir", t.TempDir())
	code, m, raw := g.do(t, "POST", "/v1/chat/completions", "sk-demo-key-do-not-use-in-production",
		`{"model": "demo-model", "messages": [{"role": "user", "content": "Hello, gateway!"}]}`)
	if code != 200 {
		t.Fatalf("demo chat: %d %s", code, raw)
	}
	choices, _ := m["choices"].([]any)
	if m["model"] != "demo-model" || len(choices) != 1 || m["usage"] == nil {
		t.Fatalf("demo answer: %s", raw)
	}
	content := choices[0].(map[string]any)["message"].(map[string]any)["content"].(string)
	if !strings.Contains(content, "Hello, gateway!") {
		t.Errorf("mock reply %q does not answer the prompt", content)
	}
	// The alias in the demo team file works too, and mock_response is honoured.
	code, m, raw = g.do(t, "POST", "/v1/chat/completions", "sk-demo-key-do-not-use-in-production",
		`{"model": "fast", "mock_response": "canned", "messages": [{"role": "user", "content": "x"}]}`)
	if code != 200 || !strings.Contains(string(raw), `"canned"`) {
		t.Fatalf("alias + mock_response: %d %s", code, raw)
	}
	if code, _, _ := g.do(t, "GET", "/health/readiness", "", nil); code != 200 {
		t.Errorf("readiness %d", code)
	}
	if code, _, _ := g.do(t, "GET", "/health/liveliness", "", nil); code != 200 {
		t.Errorf("liveliness %d", code)
	}
	if g.stop() != 0 {
		t.Errorf("clean shutdown exit code non-zero:\n%s", g.logs.String())
	}
}
