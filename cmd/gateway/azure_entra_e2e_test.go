package main

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/internal/fakeentra"
	"github.com/llmgateway/gateway/internal/fakeopenai"
)

const (
	entraStaticToken = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.e2e-static-azure-ad-token.sig"
	entraBadSecret   = "Zq8~wrong-client-secret-e2e-0123456789"
	azureAIKey       = "azure-ai-key-e2e-0123456789abcdef"
)

// entraGateway starts a gateway trusting the fake Entra ID's CA
// (SSL_CERT_FILE) with operator deployments authenticated by client
// credentials (entra-gpt), a static azure_ad_token (token-gpt) and a wrong
// client secret (bad-secret-gpt), an azure_ai deployment (ai-phi, with an
// api key), and team A's models: one at an allowed authority
// (team-entra), one whose authority the api_base policy refuses
// (team-refused: 127.0.0.2, while only 127.0.0.1 is allowed).
func entraGateway(t *testing.T) (*gatewayProc, *fakeentra.Server, *fakeopenai.Server) {
	t.Helper()
	entra := fakeentra.Start(t, fakeentra.Options{})
	up := fakeopenai.Start(t, fakeopenai.Options{Key: azureAIKey,
		Bearer: func(tok string) bool { return tok == entraStaticToken || entra.Valid(tok) }})
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(entra.URL, "https://"))
	t.Setenv("SSL_CERT_FILE", entra.CAFile)
	t.Setenv("GATEWAY_MASTER_KEY", masterKey)
	t.Setenv("ENTRA_SECRET", entra.Secret())
	t.Setenv("ENTRA_BAD_SECRET", entraBadSecret)
	t.Setenv("AZ_AD_TOKEN", entraStaticToken)
	t.Setenv("AZURE_AI_KEY", azureAIKey)
	entraParams := "      tenant_id: " + entra.Tenant() + "\n      client_id: " + entra.Client() + "\n"
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"gateway.yaml": "general_settings:\n  master_key: os.environ/GATEWAY_MASTER_KEY\n" + allowLoopback + `model_list:
  - model_name: entra-gpt
    litellm_params:
      model: azure/gpt-4o-dep
      api_base: ` + up.AzureBase() + `
      api_version: 2024-10-21
` + entraParams + `      client_secret: os.environ/ENTRA_SECRET
      azure_authority_host: ` + entra.URL + `
  - model_name: token-gpt
    litellm_params:
      model: azure/gpt-4o-dep
      api_base: ` + up.AzureBase() + `
      azure_ad_token: os.environ/AZ_AD_TOKEN
  - model_name: bad-secret-gpt
    litellm_params:
      model: azure/gpt-4o-dep
      api_base: ` + up.AzureBase() + `
` + entraParams + `      client_secret: os.environ/ENTRA_BAD_SECRET
      azure_authority_host: ` + entra.URL + `
  - model_name: ai-phi
    litellm_params:
      model: azure_ai/Phi-4
      api_base: ` + up.AIBase() + `
      api_key: os.environ/AZURE_AI_KEY
`,
		"teams.d/a.yaml": "team_id: " + teamA + "\nteam_alias: search\nkeys:\n  - token: " + configs.HashKey(keyA) + "\n    key_alias: a-ci\n",
		"models.d/a/azure.yaml": `model_list:
  - model_name: model_name_` + teamA + `_entra
    litellm_params:
      model: azure/gpt-4o-dep
      api_base: ` + up.AzureBase() + `
` + entraParams + `      client_secret: os.environ/ENTRA_SECRET
      azure_authority_host: ` + entra.URL + `
    model_info: {id: team-entra-1, team_id: ` + teamA + `, team_public_model_name: team-entra}
  - model_name: model_name_` + teamA + `_refused
    litellm_params:
      model: azure/gpt-4o-dep
      api_base: ` + up.AzureBase() + `
` + entraParams + `      client_secret: os.environ/ENTRA_SECRET
      azure_authority_host: https://127.0.0.2:` + port + `
    model_info: {id: team-refused-1, team_id: ` + teamA + `, team_public_model_name: team-refused}
`,
	})
	g := startGateway(t, "--config", filepath.Join(dir, "gateway.yaml"), "--teams-dir", filepath.Join(dir, "teams.d"),
		"--models-dir", filepath.Join(dir, "models.d"), "--state-dir", filepath.Join(dir, "state"))
	return g, entra, up
}

func tokenPosts(e *fakeentra.Server) int {
	n := 0
	for _, r := range e.TokenRequests() {
		if strings.HasSuffix(r.Path, "/oauth2/v2.0/token") {
			n++
		}
	}
	return n
}

// chatTwice sends model a unary and a streamed chat with openai-go.
func chatTwice(t *testing.T, g *gatewayProc, key, model string) {
	t.Helper()
	client := openaiClient(g, key)
	resp, err := client.Chat.Completions.New(context.Background(), userSays(model, "hi"))
	if err != nil {
		t.Fatalf("%s: %v", model, err)
	}
	if len(resp.Choices) == 0 || resp.Choices[0].Message.Content == "" {
		t.Fatalf("%s: empty answer %+v", model, resp)
	}
	stream := client.Chat.Completions.NewStreaming(context.Background(), userSays(model, "hi"))
	var text strings.Builder
	for stream.Next() {
		if c := stream.Current(); len(c.Choices) > 0 {
			text.WriteString(c.Choices[0].Delta.Content)
		}
	}
	if err := stream.Err(); err != nil || text.Len() == 0 {
		t.Fatalf("%s stream: %v (%q)", model, err, text.String())
	}
}

// TestAzureEntraE2E: client credentials (one token for every call, sent
// as Authorization: Bearer), azure_ad_token, a bad secret (401 without the
// secret), a team's authority host allowed and refused at dial time, a
// team deployment without credentials (401 naming the params).
func TestAzureEntraE2E(t *testing.T) {
	g, entra, up := entraGateway(t)

	chatTwice(t, g, masterKey, "entra-gpt")
	chatTwice(t, g, masterKey, "entra-gpt")
	if n := tokenPosts(entra); n != 1 {
		t.Errorf("%d token requests for four calls, want 1", n)
	}
	last := up.Last(t)
	if tok, ok := strings.CutPrefix(last.Header["authorization"], "Bearer "); !ok || !entra.Valid(tok) || last.Header["api-key"] != "" ||
		last.Path != "/openai/deployments/gpt-4o-dep/chat/completions" {
		t.Errorf("upstream request %s %v", last.Path, last.Header)
	}

	chatTwice(t, g, masterKey, "token-gpt")
	if h := up.Last(t).Header; h["authorization"] != "Bearer "+entraStaticToken {
		t.Errorf("azure_ad_token: upstream auth %v", h)
	}

	// A wrong secret: 401 saying what Entra ID said and what to check,
	// without the secret, Entra ID's trace ids or the authority's address.
	before := len(up.Requests())
	for _, stream := range []bool{false, true} {
		code, m, raw := g.do(t, "POST", "/v1/chat/completions", masterKey, chatBody("bad-secret-gpt", stream))
		if code != 401 {
			t.Fatalf("bad secret (stream %v): %d %s", stream, code, raw)
		}
		msg := errorOf(t, m, raw)["message"].(string)
		if !strings.Contains(msg, "invalid_client") || !strings.Contains(msg, "client_secret") {
			t.Errorf("bad secret message: %s", msg)
		}
		for _, leak := range []string{entraBadSecret, "Trace ID", "127.0.0.1"} {
			if strings.Contains(string(raw), leak) {
				t.Errorf("bad secret answer holds %q: %s", leak, raw)
			}
		}
	}
	if len(up.Requests()) != before {
		t.Error("the upstream was called without a token")
	}

	// Team A: an allowed authority works (through the team's client)...
	chatTwice(t, g, keyA, "team-entra")
	// ... one the api_base policy refuses is refused when dialled.
	for _, stream := range []bool{false, true} {
		code, m, raw := g.do(t, "POST", "/v1/chat/completions", keyA, chatBody("team-refused", stream))
		if code != 403 {
			t.Fatalf("refused authority (stream %v): %d %s", stream, code, raw)
		}
		msg := errorOf(t, m, raw)["message"].(string)
		if !strings.Contains(msg, "azure_authority_host") || !strings.Contains(msg, "team_api_base_allow") || strings.Contains(msg, "127.0.0.2") {
			t.Errorf("refused authority message: %s", msg)
		}
	}

	// A team deployment without credentials may not use the gateway's
	// identity (nor its key variables).
	t.Setenv("AZURE_API_KEY", "host-key-must-not-be-used")
	g.ok(t, "POST", "/model/new", keyA, map[string]any{"model_name": "team-nocreds",
		"litellm_params": map[string]any{"model": "azure/gpt-4o-dep", "api_base": "https://example-resource.openai.azure.com"}})
	code, m, raw := g.do(t, "POST", "/v1/chat/completions", keyA, chatBody("team-nocreds", false))
	if code != 401 || !strings.Contains(errorOf(t, m, raw)["message"].(string), "tenant_id + client_id + client_secret") {
		t.Fatalf("team without credentials: %d %s", code, raw)
	}

	logs := g.finalLogs()
	for _, leak := range []string{entraBadSecret, entra.Secret(), entraStaticToken} {
		if strings.Contains(logs, leak) {
			t.Errorf("the log holds a secret (%s...)", leak[:8])
		}
	}
}

// TestAzureAIE2E: azure_ai chat (unary, stream) and embeddings reach
// Azure AI Foundry's model inference API.
func TestAzureAIE2E(t *testing.T) {
	g, _, up := entraGateway(t)
	chatTwice(t, g, masterKey, "ai-phi")
	got := up.Last(t)
	if got.Dialect != "foundry" || got.Path != "/models/chat/completions" || got.APIVersion != "2024-05-01-preview" ||
		got.Header["authorization"] != "Bearer "+azureAIKey {
		t.Errorf("upstream request %s %s %s %v", got.Dialect, got.Path, got.APIVersion, got.Header)
	}
	client := openaiClient(g, masterKey)
	emb, err := client.Embeddings.New(context.Background(), openai.EmbeddingNewParams{Model: "ai-phi",
		Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("hello")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(emb.Data) != 1 || len(emb.Data[0].Embedding) == 0 || up.Last(t).Path != "/models/embeddings" {
		t.Errorf("embeddings %+v at %s", emb, up.Last(t).Path)
	}
}
