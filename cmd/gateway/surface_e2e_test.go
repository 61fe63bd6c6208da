package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/internal/fakeanthropic"
	"github.com/llmgateway/gateway/internal/fakeopenai"
	"github.com/llmgateway/gateway/providers/registry"
)

// surface is a gateway with deployments on a fake OpenAI / Azure upstream
// and a fake Anthropic API (both validating requests as the real services
// do), global and per team.
type surface struct {
	g  *gatewayProc
	oa *fakeopenai.Server
	an *fakeanthropic.Server
}

const (
	surfKeyA = "sk-surface-team-a-0123456789"
	surfKeyB = "sk-surface-team-b-0123456789"
)

func startSurface(t *testing.T) *surface {
	t.Helper()
	oa := fakeopenai.Start(t, fakeopenai.Options{Deployments: []string{"gpt4o-dep", "embed-dep", "whisper-dep"}})
	an := fakeanthropic.Start(t, fakeanthropic.Options{InputTokens: 40, OutputTokens: 9, CacheRead: 30, CacheWrite: 5})
	t.Setenv("GATEWAY_MASTER_KEY", masterKey)
	t.Setenv("GATEWAY_SALT_KEY", "surface-salt-key-0123456789")
	t.Setenv("SURF_OA_KEY", oa.Key)
	t.Setenv("SURF_AN_KEY", an.APIKey())
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"gateway.yaml": `general_settings:
  master_key: os.environ/GATEWAY_MASTER_KEY
  salt_key: os.environ/GATEWAY_SALT_KEY
` + allowLoopback + `model_list:
  - model_name: g-openai
    litellm_params: {model: openai/gpt-4o-mini, api_base: "` + oa.OpenAIBase() + `", api_key: os.environ/SURF_OA_KEY}
  - model_name: g-embed
    litellm_params: {model: openai/text-embedding-3-small, api_base: "` + oa.OpenAIBase() + `", api_key: os.environ/SURF_OA_KEY}
  - model_name: g-instruct
    litellm_params: {model: openai/gpt-3.5-turbo-instruct, api_base: "` + oa.OpenAIBase() + `", api_key: os.environ/SURF_OA_KEY}
  - model_name: g-azure
    litellm_params: {model: azure/gpt4o-dep, api_base: "` + oa.AzureBase() + `", api_version: 2025-04-01-preview, api_key: os.environ/SURF_OA_KEY}
  - model_name: g-azure-old
    litellm_params: {model: azure/gpt4o-dep, api_base: "` + oa.AzureBase() + `", api_version: 2024-06-01, api_key: os.environ/SURF_OA_KEY, input_cost_per_token: 0.000001, output_cost_per_token: 0.000002}
  - model_name: g-azure-embed
    litellm_params: {model: azure/embed-dep, api_base: "` + oa.AzureBase() + `", api_version: 2024-10-21, api_key: os.environ/SURF_OA_KEY}
  - model_name: g-whisper
    litellm_params: {model: openai/gpt-4o-transcribe, api_base: "` + oa.OpenAIBase() + `", api_key: os.environ/SURF_OA_KEY}
  - model_name: g-claude
    litellm_params: {model: anthropic/claude-sonnet-4-5-20250929, api_base: "` + an.URL + `", api_key: os.environ/SURF_AN_KEY}
  - model_name: g-mock
    litellm_params: {model: mock/g}
`,
		"teams.d/a.yaml": "team_id: surf-a\nkeys:\n  - token: " + configs.HashKey(surfKeyA) + "\n    key_alias: a\n",
		"teams.d/b.yaml": "team_id: surf-b\nkeys:\n  - token: " + configs.HashKey(surfKeyB) + "\n    key_alias: b\n",
	})
	g := startGateway(t, "--config", filepath.Join(dir, "gateway.yaml"), "--teams-dir", filepath.Join(dir, "teams.d"),
		"--models-dir", filepath.Join(dir, "models.d"), "--state-dir", filepath.Join(dir, "state"))
	return &surface{g: g, oa: oa, an: an}
}

// cost reads x-litellm-response-cost from a raw answer's headers.
func costOf(t *testing.T, h interface{ Get(string) string }) float64 {
	t.Helper()
	c, err := strconv.ParseFloat(h.Get("x-litellm-response-cost"), 64)
	if err != nil {
		t.Fatalf("x-litellm-response-cost %q: %v", h.Get("x-litellm-response-cost"), err)
	}
	return c
}

// TestOpenAISurfaceThroughTheGateway: completions, embeddings, responses,
// moderations, images, speech and transcriptions, called with the
// official openai-go SDK through the gateway, reach the upstream in the
// shape the real API accepts (the fake checks), come back with the
// client's model name, and are priced from their own usage.
func TestOpenAISurfaceThroughTheGateway(t *testing.T) {
	s := startSurface(t)
	ctx := context.Background()
	var httpResp *http.Response
	c := openaiClient(s.g, surfKeyA, option.WithResponseInto(&httpResp))

	comp, err := c.Completions.New(ctx, openai.CompletionNewParams{Model: "g-instruct",
		Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String("Say hi")}})
	if err != nil || comp.Choices[0].Text == "" || comp.Model != "g-instruct" || comp.Usage.PromptTokens == 0 {
		t.Fatalf("completions: %v %+v", err, comp)
	}
	if last := s.oa.Last(t); last.Endpoint != registry.EndpointCompletions || !strings.Contains(string(last.Body), `"gpt-3.5-turbo-instruct"`) {
		t.Fatalf("upstream got %+v", last)
	}
	if costOf(t, httpResp.Header) <= 0 {
		t.Error("a priced completion cost nothing")
	}
	cst := c.Completions.NewStreaming(ctx, openai.CompletionNewParams{Model: "g-instruct",
		Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String("Say hi")}})
	var text strings.Builder
	chunks := 0
	for cst.Next() {
		chunks++
		if m := cst.Current().Model; m != "g-instruct" {
			t.Errorf("chunk model %q", m)
		}
		for _, ch := range cst.Current().Choices {
			text.WriteString(ch.Text)
		}
		if cst.Current().Usage.TotalTokens > 0 {
			t.Error("the usage chunk the gateway asked for reached the client")
		}
	}
	if cst.Err() != nil || text.String() != comp.Choices[0].Text || chunks < 2 {
		t.Fatalf("completions stream: %v %q (%d chunks)", cst.Err(), text.String(), chunks)
	}
	if !strings.Contains(string(s.oa.Last(t).Body), `"include_usage":true`) {
		t.Error("the gateway did not ask the completions stream for its usage")
	}

	emb, err := c.Embeddings.New(ctx, openai.EmbeddingNewParams{Model: "g-embed", Dimensions: openai.Int(8),
		Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"a", "b"}}})
	if err != nil || len(emb.Data) != 2 || len(emb.Data[0].Embedding) != 8 || emb.Model != "g-embed" {
		t.Fatalf("embeddings: %v %+v", err, emb)
	}
	if costOf(t, httpResp.Header) <= 0 {
		t.Error("a priced embedding cost nothing")
	}
	// Token input and base64 pass through.
	emb, err = c.Embeddings.New(ctx, openai.EmbeddingNewParams{Model: "g-embed", EncodingFormat: openai.EmbeddingNewParamsEncodingFormatBase64,
		Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfTokens: []int64{1, 2, 3}}})
	if err != nil || len(emb.Data) != 1 {
		t.Fatalf("embeddings of tokens in base64: %v %+v", err, emb)
	}

	mod, err := c.Moderations.New(ctx, openai.ModerationNewParams{Model: "g-openai", Input: openai.ModerationNewParamsInputUnion{OfString: openai.String("hi")}})
	if err != nil || len(mod.Results) != 1 {
		t.Fatalf("moderations: %v %+v", err, mod)
	}
	img, err := c.Images.Generate(ctx, openai.ImageGenerateParams{Model: "g-openai", Prompt: "a cat"})
	if err != nil || len(img.Data) != 1 {
		t.Fatalf("images: %v %+v", err, img)
	}
	audio, err := c.Audio.Speech.New(ctx, openai.AudioSpeechNewParams{Model: "g-openai", Input: "hi",
		Voice: openai.AudioSpeechNewParamsVoiceUnion{OfString: openai.String("alloy")}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(audio.Body)
	audio.Body.Close()
	if !bytes.Equal(b, fakeopenai.Speech) || audio.Header.Get("Content-Type") != "audio/mpeg" {
		t.Fatalf("speech: %q %s", b, audio.Header.Get("Content-Type"))
	}
	tr, err := c.Audio.Transcriptions.New(ctx, openai.AudioTranscriptionNewParams{Model: "g-whisper",
		File: openai.File(strings.NewReader("RIFF...."), "hello.wav", "audio/wav")})
	if err != nil || !strings.Contains(tr.Text, "hello.wav") {
		t.Fatalf("transcriptions: %v %+v", err, tr)
	}
	if last := s.oa.Last(t); !strings.Contains(string(last.Body), "\r\n\r\ngpt-4o-transcribe\r\n") || strings.Contains(string(last.Body), "g-whisper") {
		t.Fatalf("the form's model was not rewritten to the upstream's: %q", last.Body)
	}

	// Azure: its deployment path, and the gateway's Azure-style route.
	if _, err := c.Embeddings.New(ctx, openai.EmbeddingNewParams{Model: "g-azure-embed",
		Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("x")}}); err != nil {
		t.Fatalf("azure embeddings: %v", err)
	}
	if last := s.oa.Last(t); last.Dialect != "azure" || last.Deployment != "embed-dep" {
		t.Fatalf("azure upstream got %+v", last)
	}
	code, _, raw := s.g.do(t, "POST", "/openai/deployments/g-azure-embed/embeddings?api-version=2024-10-21", surfKeyA, map[string]any{"input": "x"})
	if code != 200 || !strings.Contains(string(raw), `"embedding"`) {
		t.Fatalf("Azure-style embeddings route: %d %s", code, raw)
	}

	// An endpoint the model's provider does not serve: a 400 that says so.
	_, err = c.Embeddings.New(ctx, openai.EmbeddingNewParams{Model: "g-claude", Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("x")}})
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || !strings.Contains(apiErr.Message, "does not support /v1/embeddings") {
		t.Fatalf("embeddings on an anthropic model: %v", err)
	}
}

// TestResponsesIDsAreSealedAndTeamBound: the Responses API through the
// gateway, unary and streaming; the id a client sees names the deployment
// (GET, DELETE and previous_response_id reach it) and cannot be used by
// another team, nor forged.
func TestResponsesIDsAreSealedAndTeamBound(t *testing.T) {
	s := startSurface(t)
	ctx := context.Background()
	a, b := openaiClient(s.g, surfKeyA), openaiClient(s.g, surfKeyB)

	for _, model := range []string{"g-openai", "g-azure"} {
		resp, err := a.Responses.New(ctx, responses.ResponseNewParams{Model: model,
			Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("Hello")}})
		if err != nil || resp.OutputText() == "" || resp.Model != model || resp.Usage.TotalTokens == 0 {
			t.Fatalf("%s: responses: %v %+v", model, err, resp)
		}
		if !strings.HasPrefix(resp.ID, "resp_") || s.oa.Stored(resp.ID) {
			t.Fatalf("%s: the client sees the upstream's id %q", model, resp.ID)
		}
		got, err := a.Responses.Get(ctx, resp.ID, responses.ResponseGetParams{})
		if err != nil || got.ID != resp.ID || got.OutputText() != resp.OutputText() {
			t.Fatalf("%s: GET: %v %+v", model, err, got)
		}
		// Another team, the master key and a forged id get a 404.
		for name, c := range map[string]openai.Client{"team B": b, "master": openaiClient(s.g, masterKey)} {
			var apiErr *openai.Error
			if _, err := c.Responses.Get(ctx, resp.ID, responses.ResponseGetParams{}); !errors.As(err, &apiErr) || apiErr.StatusCode != 404 {
				t.Errorf("%s: %s reading team A's response: %v, want 404", model, name, err)
			}
			if err := c.Responses.Delete(ctx, resp.ID); !errors.As(err, &apiErr) || apiErr.StatusCode != 404 {
				t.Errorf("%s: %s deleting team A's response: %v, want 404", model, name, err)
			}
		}
		forged := resp.ID[:len(resp.ID)-2] + "AA"
		var apiErr *openai.Error
		if _, err := a.Responses.Get(ctx, forged, responses.ResponseGetParams{}); !errors.As(err, &apiErr) || apiErr.StatusCode != 404 {
			t.Errorf("%s: a forged id: %v, want 404", model, err)
		}
		// previous_response_id continues at the same deployment.
		next, err := a.Responses.New(ctx, responses.ResponseNewParams{Model: model, PreviousResponseID: openai.String(resp.ID),
			Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("More")}})
		if err != nil || next.ID == resp.ID {
			t.Fatalf("%s: previous_response_id: %v", model, err)
		}
		if body := string(s.oa.Last(t).Body); strings.Contains(body, resp.ID) || !strings.Contains(body, `"previous_response_id":"resp_`) {
			t.Errorf("%s: upstream got %s", model, body)
		}
		if _, err := b.Responses.New(ctx, responses.ResponseNewParams{Model: model, PreviousResponseID: openai.String(resp.ID),
			Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("More")}}); !errors.As(err, &apiErr) || apiErr.StatusCode != 404 {
			t.Errorf("%s: team B continuing team A's response: %v, want 404", model, err)
		}
		if err := a.Responses.Delete(ctx, resp.ID); err != nil {
			t.Fatalf("%s: DELETE: %v", model, err)
		}
		if _, err := a.Responses.Get(ctx, resp.ID, responses.ResponseGetParams{}); !errors.As(err, &apiErr) || apiErr.StatusCode != 404 {
			t.Errorf("%s: GET after DELETE: %v", model, err)
		}
	}

	// Streaming: every response.* event carries the sealed id and the
	// client's model; the usage of response.completed is accounted.
	st := a.Responses.NewStreaming(ctx, responses.ResponseNewParams{Model: "g-openai",
		Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("Hello")}})
	var completed responses.Response
	n := 0
	for st.Next() {
		n++
		if e, ok := st.Current().AsAny().(responses.ResponseCompletedEvent); ok {
			completed = e.Response
		}
	}
	if st.Err() != nil || n < 5 || completed.Usage.TotalTokens == 0 || completed.Model != "g-openai" || s.oa.Stored(completed.ID) {
		t.Fatalf("responses stream: %v, %d events, %+v", st.Err(), n, completed)
	}
	if got, err := a.Responses.Get(ctx, completed.ID, responses.ResponseGetParams{}); err != nil || got.ID != completed.ID {
		t.Fatalf("GET of a streamed response: %v", err)
	}
}

// TestEveryEndpointIsGoverned: the new endpoints go through the same
// admission as chat: the key's models allowlist, its rpm limit (a 429 in
// the endpoint's own error shape, with retry-after) and the team's spend.
func TestEveryEndpointIsGoverned(t *testing.T) {
	s := startSurface(t)
	narrow := s.g.ok(t, "POST", "/key/generate", masterKey, map[string]any{"team_id": "surf-a", "models": []string{"g-embed"}})["key"].(string)
	code, m, raw := s.g.do(t, "POST", "/v1/messages", narrow, map[string]any{"model": "g-claude", "max_tokens": 8,
		"messages": []any{map[string]any{"role": "user", "content": "hi"}}})
	if e := anthropicErrorOf(t, m, raw); code != 403 || e["type"] != "permission_error" || !strings.Contains(e["message"].(string), "not allowed") {
		t.Fatalf("a key limited to g-embed calling g-claude on /v1/messages: %d %s", code, raw)
	}
	if code, _, raw := s.g.do(t, "POST", "/v1/embeddings", narrow, map[string]any{"model": "g-embed", "input": "x"}); code != 200 {
		t.Fatalf("the allowed model: %d %s", code, raw)
	}

	slow := s.g.ok(t, "POST", "/key/generate", masterKey, map[string]any{"team_id": "surf-a", "rpm_limit": 1})["key"].(string)
	if code, _, raw := s.g.do(t, "POST", "/v1/embeddings", slow, map[string]any{"model": "g-embed", "input": "x"}); code != 200 {
		t.Fatalf("first call: %d %s", code, raw)
	}
	code, h, raw := s.g.doH(t, "POST", "/v1/messages", slow, map[string]any{"model": "g-claude", "max_tokens": 8,
		"messages": []any{map[string]any{"role": "user", "content": "hi"}}})
	if code != 429 || h.Get("retry-after") == "" || !strings.Contains(string(raw), `"rate_limit_error"`) {
		t.Fatalf("second call over rpm 1: %d %s %s", code, h, raw)
	}

	// Spend: the team's total grows with an embeddings call's cost.
	spent := func() float64 {
		info := s.g.ok(t, "GET", "/team/info?team_id=surf-a", masterKey, nil)
		return info["team_info"].(map[string]any)["spend"].(float64)
	}
	before := spent()
	_, h, _ = s.g.doH(t, "POST", "/v1/embeddings", surfKeyA, map[string]any{"model": "g-embed", "input": strings.Repeat("word ", 500)})
	cost := costOf(t, h)
	if cost <= 0 || spent()-before < cost*0.999 {
		t.Fatalf("an embeddings call of cost %v moved the team's spend from %v to %v", cost, before, spent())
	}
}

// An OpenAI-compatible host by name (hosted_vllm: api_base required) is
// served by the openai package through the gateway: chat, streamed with
// the usage chunk asked for, and embeddings, with the deployment's key.
func TestNamedCompatibleHost(t *testing.T) {
	oa := fakeopenai.Start(t, fakeopenai.Options{})
	t.Setenv("SURF_VLLM_KEY", oa.Key)
	g := func() *gatewayProc {
		args, dir := emptyGateway(t)
		writeFiles(t, dir, map[string]string{"gateway.yaml": "general_settings:\n  master_key: os.environ/GATEWAY_MASTER_KEY\n  salt_key: os.environ/GATEWAY_SALT_KEY\n" +
			"model_list:\n  - model_name: vllm\n    litellm_params: {model: hosted_vllm/llama-3, api_base: \"" + oa.OpenAIBase() + "\", api_key: os.environ/SURF_VLLM_KEY}\n    model_info: {id: vllm}\n"})
		return startGateway(t, args...)
	}()
	c := openaiClient(g, masterKey)
	ctx := context.Background()
	comp, err := c.Chat.Completions.New(ctx, userSays("vllm", "hi"))
	if err != nil || comp.Model != "vllm" || comp.Choices[0].Message.Content == "" {
		t.Fatalf("chat: %v %+v", err, comp)
	}
	if last := string(oa.Last(t).Body); !strings.Contains(last, `"llama-3"`) {
		t.Fatalf("upstream got %s", last)
	}
	st := c.Chat.Completions.NewStreaming(ctx, userSays("vllm", "hi"))
	for st.Next() {
	}
	if st.Err() != nil || !strings.Contains(string(oa.Last(t).Body), `"include_usage":true`) {
		t.Fatalf("stream: %v %s", st.Err(), oa.Last(t).Body)
	}
	if _, err := c.Embeddings.New(ctx, openai.EmbeddingNewParams{Model: "vllm", Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("x")}}); err != nil {
		t.Fatalf("embeddings: %v", err)
	}
}
