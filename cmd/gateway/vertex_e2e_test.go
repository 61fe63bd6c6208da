package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/openai/openai-go/v3"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/internal/fakeanthropic"
	"github.com/llmgateway/gateway/internal/fakegemini"
	"github.com/llmgateway/gateway/internal/fakevertex"
)

// vertexGateway runs a fake Vertex AI (token endpoint, Claude, embeddings)
// and a gateway with the operator's vertex_ai deployments (Claude and an
// embedding model, the service account key from the environment) and a
// team deployment whose key's token_uri the api_base policy refuses.
func vertexGateway(t *testing.T) (*gatewayProc, *fakevertex.Server, *fakegemini.Server) {
	t.Helper()
	fv := fakevertex.Start(t, fakevertex.Options{Anthropic: fakeanthropic.Options{CacheRead: 5, CacheWrite: 2}})
	fg := fakegemini.Start(t, fakegemini.Options{AcceptToken: fv.ValidToken, ToolArgs: `{"city":"Paris"}`})
	fv.SetGemini(fg)
	t.Setenv("VX_SA", fv.ServiceAccountJSON(""))
	// 127.0.0.2 is loopback but not in team_api_base_allow: refused at
	// dial time, before anything is sent.
	t.Setenv("VX_TEAM_SA", fv.ServiceAccountJSON("http://127.0.0.2:9/token"))
	t.Setenv("GATEWAY_MASTER_KEY", masterKey)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"gateway.yaml": "general_settings:\n  master_key: os.environ/GATEWAY_MASTER_KEY\n" + allowLoopback + `model_list:
  - model_name: vx-claude
    litellm_params:
      model: vertex_ai/claude-sonnet-4@20250514
      api_base: ` + fv.URL + `
      vertex_location: us-east5
      vertex_credentials: os.environ/VX_SA
  - model_name: vx-gemini
    litellm_params:
      model: vertex_ai/gemini-2.5-flash
      api_base: ` + fv.URL + `
      vertex_location: global
      vertex_credentials: os.environ/VX_SA
  - model_name: vx-embed
    litellm_params:
      model: vertex_ai/text-embedding-005
      api_base: ` + fv.URL + `
      vertex_project: ` + fv.Project() + `
      vertex_credentials: os.environ/VX_SA
`,
		"teams.d/a.yaml": `team_id: ` + teamA + `
team_alias: search
keys:
  - token: ` + configs.HashKey(keyA) + `
    key_alias: a-ci
`,
		"models.d/a/models.yaml": `model_list:
  - model_name: model_name_` + teamA + `_vx
    litellm_params:
      model: vertex_ai/claude-sonnet-4@20250514
      api_base: ` + fv.URL + `
      vertex_credentials: os.environ/VX_TEAM_SA
    model_info: {id: vx-team-1, team_id: ` + teamA + `, team_public_model_name: team-vx}
`,
	})
	g := startGateway(t, "--config", filepath.Join(dir, "gateway.yaml"), "--teams-dir", filepath.Join(dir, "teams.d"),
		"--models-dir", filepath.Join(dir, "models.d"), "--state-dir", filepath.Join(dir, "state"))
	return g, fv, fg
}

// TestVertexAIEndToEnd: chat (unary and streamed, with usage and cache
// tokens) to Claude on Vertex AI and to Gemini on Vertex AI (tools, stream
// usage) with openai-go, /v1/messages with
// anthropic-sdk-go (bridged over chat), embeddings through :predict; one
// token per deployment; a team deployment whose service account's
// token_uri the api_base policy refuses gets a 403 saying so, with nothing
// of the key.
func TestVertexAIEndToEnd(t *testing.T) {
	g, fv, fg := vertexGateway(t)
	ctx := context.Background()
	c := openaiClient(g, keyA)

	resp, err := c.Chat.Completions.New(ctx, userSays("vx-claude", "Hello?"))
	if err != nil || len(resp.Choices) == 0 || resp.Choices[0].Message.Content == "" || resp.Usage.TotalTokens == 0 {
		t.Fatalf("chat: %v %+v", err, resp)
	}
	if resp.Usage.PromptTokensDetails.CachedTokens != 5 {
		t.Errorf("cached tokens %d, want 5", resp.Usage.PromptTokensDetails.CachedTokens)
	}
	last := fv.Last(t)
	if last.Path != "/v1/projects/fake-project/locations/us-east5/publishers/anthropic/models/claude-sonnet-4@20250514:rawPredict" {
		t.Errorf("upstream path %s", last.Path)
	}
	if !strings.HasPrefix(last.Header.Get("Authorization"), "Bearer ya29.fake-") || strings.Contains(string(last.Body), `"model"`) {
		t.Errorf("upstream request: %v %s", last.Header, last.Body)
	}

	p := userSays("vx-claude", "Stream please")
	p.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	st := c.Chat.Completions.NewStreaming(ctx, p)
	var acc openai.ChatCompletionAccumulator
	for st.Next() {
		acc.AddChunk(st.Current())
	}
	if st.Err() != nil || len(acc.Choices) == 0 || acc.Choices[0].Message.Content == "" || acc.Usage.TotalTokens == 0 {
		t.Fatalf("stream: %v %+v", st.Err(), acc)
	}
	if !strings.HasSuffix(fv.Last(t).Path, ":streamRawPredict") {
		t.Errorf("stream path %s", fv.Last(t).Path)
	}

	emb, err := c.Embeddings.New(ctx, openai.EmbeddingNewParams{Model: "vx-embed",
		Input:      openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"hello world", "second text"}},
		Dimensions: openai.Int(8)})
	if err != nil || len(emb.Data) != 2 || len(emb.Data[1].Embedding) != 8 || emb.Usage.PromptTokens == 0 {
		t.Fatalf("embeddings: %v %+v", err, emb)
	}
	if !strings.HasSuffix(fv.Last(t).Path, "/publishers/google/models/text-embedding-005:predict") {
		t.Errorf("embeddings path %s", fv.Last(t).Path)
	}

	// Gemini on Vertex AI: unary with a tool, and streamed with usage.
	gp := userSays("vx-gemini", "Weather in Paris?")
	gp.Tools = []openai.ChatCompletionToolUnionParam{openai.ChatCompletionFunctionTool(openai.FunctionDefinitionParam{
		Name: "get_weather", Parameters: openai.FunctionParameters{"type": "object",
			"properties": map[string]any{"city": map[string]any{"type": "string"}}, "required": []string{"city"}}})}
	gp.ToolChoice = openai.ChatCompletionToolChoiceOptionUnionParam{OfAuto: openai.String("required")}
	gr, err := c.Chat.Completions.New(ctx, gp)
	if err != nil || len(gr.Choices) == 0 || len(gr.Choices[0].Message.ToolCalls) == 0 ||
		gr.Choices[0].Message.ToolCalls[0].Function.Name != "get_weather" {
		t.Fatalf("gemini tools: %v %+v", err, gr)
	}
	if gl := fg.Last(t); !gl.Vertex || gl.Path != "/v1/projects/fake-project/locations/global/publishers/google/models/gemini-2.5-flash:generateContent" {
		t.Errorf("gemini path %s", gl.Path)
	}
	gs := c.Chat.Completions.NewStreaming(ctx, func() openai.ChatCompletionNewParams {
		p := userSays("vx-gemini", "Stream please")
		p.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
		return p
	}())
	var gacc openai.ChatCompletionAccumulator
	for gs.Next() {
		gacc.AddChunk(gs.Current())
	}
	if gs.Err() != nil || len(gacc.Choices) == 0 || gacc.Choices[0].Message.Content == "" || gacc.Usage.TotalTokens == 0 {
		t.Fatalf("gemini stream: %v %+v", gs.Err(), gacc)
	}

	ac := anthropicClient(g, keyA, false)
	msg, err := ac.Messages.New(ctx, messageParams("vx-claude", false))
	if err != nil || msg.Model != "vx-claude" || len(msg.Content) == 0 || msg.Content[0].Text == "" {
		t.Fatalf("messages: %v %+v", err, msg)
	}
	ms := ac.Messages.NewStreaming(ctx, messageParams("vx-claude", true))
	var macc anthropic.Message
	for ms.Next() {
		if err := macc.Accumulate(ms.Current()); err != nil {
			t.Fatal(err)
		}
	}
	if ms.Err() != nil || macc.StopReason != anthropic.StopReasonToolUse {
		t.Fatalf("messages stream with a forced tool: %v %+v", ms.Err(), macc)
	}

	if n := fv.Issued(); n != 3 { // one per deployment (the cache is per deployment and key)
		t.Errorf("%d access tokens for eight calls to three deployments, want 3", n)
	}

	// The team deployment: its token_uri is refused at dial time.
	_, err = c.Chat.Completions.New(ctx, userSays("team-vx", "Hello?"))
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 403 {
		t.Fatalf("team token_uri: %v", err)
	}
	raw := apiErr.RawJSON()
	if !strings.Contains(raw, "token_uri") || !strings.Contains(raw, "not allowed for team deployments") {
		t.Errorf("the refusal does not say why: %s", raw)
	}
	for _, leak := range []string{"PRIVATE KEY", fv.KeyID, "127.0.0.2", "ya29."} {
		if strings.Contains(raw, leak) {
			t.Errorf("the refusal leaks %q: %s", leak, raw)
		}
	}
	if n := fv.Issued(); n != 3 {
		t.Errorf("the refused team deployment got a token (%d issued)", n)
	}
	if logs := g.logsSoFar(t); strings.Contains(logs, "PRIVATE KEY") || strings.Contains(logs, "ya29.fake") {
		t.Errorf("the log holds a secret:\n%s", logs)
	}
}

// TestVertexAITeamCredentials: a team member adds a vertex_ai deployment
// with its own service account JSON through /model/new (stored encrypted)
// and calls it; a team deployment never uses the gateway's own Google
// identity (GOOGLE_APPLICATION_CREDENTIALS, VERTEXAI_PROJECT), never names
// a file of the gateway's disk and never uses another credential type.
func TestVertexAITeamCredentials(t *testing.T) {
	fv := fakevertex.Start(t, fakevertex.Options{})
	args, dir := secretsGateway(t, newFakeUpstream(t))
	// The host's own identity, which only the operator's deployments may use.
	hostFile := filepath.Join(t.TempDir(), "host-sa.json")
	writeFiles(t, filepath.Dir(hostFile), map[string]string{filepath.Base(hostFile): fv.ServiceAccountJSON("")})
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", hostFile)
	t.Setenv("VERTEXAI_PROJECT", fv.Project())
	g := startGateway(t, args...)

	sa := fv.ServiceAccountJSON("")
	code, _, raw := g.do(t, "POST", "/model/new", keyA, map[string]any{"model_name": "team-claude", "litellm_params": map[string]any{
		"model": "vertex_ai/claude-sonnet-4@20250514", "api_base": fv.URL, "vertex_credentials": sa}})
	if code != 200 {
		t.Fatalf("/model/new: %d %s", code, raw)
	}
	code, m, raw := g.do(t, "POST", "/v1/chat/completions", keyA, chatBody("team-claude", false))
	if code != 200 {
		t.Fatalf("team deployment with its own key: %d %s", code, raw)
	}
	_ = m
	if fv.Issued() != 1 {
		t.Errorf("%d tokens issued", fv.Issued())
	}
	stored := ""
	for _, f := range filesUnder(t, filepath.Join(dir, "models.d")) {
		b, _ := os.ReadFile(filepath.Join(dir, "models.d", f))
		stored += string(b)
	}
	if strings.Contains(stored, "PRIVATE KEY") || strings.Contains(stored, fv.KeyID) || !strings.Contains(stored, "vertex_credentials: enc:v2:") {
		t.Errorf("the service account key is not stored encrypted:\n%s", stored)
	}

	// Without credentials: a 401 naming the param, not the host's identity.
	g.ok(t, "POST", "/model/new", keyA, map[string]any{"model_name": "team-bare", "litellm_params": map[string]any{
		"model": "vertex_ai/claude-sonnet-4@20250514", "api_base": fv.URL}})
	code, m, raw = g.do(t, "POST", "/v1/chat/completions", keyA, chatBody("team-bare", false))
	if e := errorOf(t, m, raw); code != 401 || !strings.Contains(e["message"].(string), "vertex_credentials") {
		t.Errorf("team deployment without credentials: %d %s", code, raw)
	}
	// Another credential type: refused when the deployment is written.
	code, _, raw = g.do(t, "POST", "/model/new", keyA, map[string]any{"model_name": "team-user", "litellm_params": map[string]any{
		"model": "vertex_ai/gemini-2.5-flash", "api_base": fv.URL, "vertex_project": "fake-project",
		"vertex_credentials": `{"type":"authorized_user","client_id":"x","client_secret":"y","refresh_token":"z"}`}})
	if code != 403 || !strings.Contains(string(raw), "service account") || strings.Contains(string(raw), "refresh_token") {
		t.Errorf("team deployment with an authorized_user key: %d %s", code, raw)
	}
	// A file path is refused when the deployment is written.
	code, _, raw = g.do(t, "POST", "/model/new", keyA, map[string]any{"model_name": "team-file", "litellm_params": map[string]any{
		"model": "vertex_ai/claude-sonnet-4@20250514", "api_base": fv.URL, "vertex_credentials": hostFile}})
	if code == 200 || !strings.Contains(string(raw), "vertex_credentials") {
		t.Errorf("team deployment with a file path: %d %s", code, raw)
	}
	if fv.Issued() != 1 {
		t.Errorf("the refused deployments got tokens: %d issued", fv.Issued())
	}
}
