package main

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/tidwall/gjson"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/internal/fakegemini"
)

const (
	gemKeyA  = "sk-gemini-team-a-0123456789"
	gemTeamA = "gem-team-a"
)

// startGemini runs a gateway with gemini/ deployments on the fake Gemini
// API (validating requests as Google does): one with its api_key, one of
// the operator's without (GEMINI_API_KEY), an embedding model.
func startGemini(t *testing.T, opts fakegemini.Options) (*gatewayProc, *fakegemini.Server) {
	t.Helper()
	fake := fakegemini.Start(t, opts)
	t.Setenv("GATEWAY_MASTER_KEY", masterKey)
	t.Setenv("GATEWAY_SALT_KEY", saltKey)
	t.Setenv("E2E_GEMINI_KEY", fake.APIKey())
	t.Setenv("GEMINI_API_KEY", fake.APIKey())
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"gateway.yaml": `general_settings:
  master_key: os.environ/GATEWAY_MASTER_KEY
  salt_key: os.environ/GATEWAY_SALT_KEY
` + allowLoopback + `router_settings:
  num_retries: 0
model_list:
  - model_name: g-gemini
    litellm_params: {model: gemini/gemini-2.5-flash, api_base: "` + fake.URL + `", api_key: os.environ/E2E_GEMINI_KEY}
  - model_name: g-gemini-env
    litellm_params: {model: gemini/gemini-2.5-flash, api_base: "` + fake.URL + `"}
  - model_name: g-gemini-embed
    litellm_params: {model: gemini/gemini-embedding-001, api_base: "` + fake.URL + `", api_key: os.environ/E2E_GEMINI_KEY}
`,
		"teams.d/a.yaml": "team_id: " + gemTeamA + "\nkeys:\n  - token: " + configs.HashKey(gemKeyA) + "\n    key_alias: a\n",
	})
	g := startGateway(t, "--config", filepath.Join(dir, "gateway.yaml"), "--teams-dir", filepath.Join(dir, "teams.d"),
		"--models-dir", filepath.Join(dir, "models.d"), "--state-dir", filepath.Join(dir, "state"))
	return g, fake
}

// TestGeminiWithTheOpenAISDK: openai-go calls gemini/ deployments through
// the gateway: chat unary and streamed, tools and their results, JSON
// mode, embeddings; answers carry the client's model name, usage and a
// cost; Google's errors keep their status (429 with its retry delay) with
// the key scrubbed.
func TestGeminiWithTheOpenAISDK(t *testing.T) {
	g, fake := startGemini(t, fakegemini.Options{PromptTokens: 20, OutputTokens: 6, CachedTokens: 8})
	ctx := context.Background()
	var httpResp *http.Response
	c := openaiClient(g, gemKeyA, option.WithResponseInto(&httpResp))

	comp, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "g-gemini",
		Messages:            []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("Be terse."), openai.UserMessage("Hi")},
		MaxCompletionTokens: openai.Int(100), Temperature: openai.Float(0.2)})
	if err != nil || comp.Model != "g-gemini" || len(comp.Choices) != 1 || comp.Choices[0].Message.Content != "Hello from the fake Gemini." ||
		comp.Choices[0].FinishReason != "stop" {
		t.Fatalf("chat: %v %+v", err, comp)
	}
	if comp.Usage.PromptTokens != 20 || comp.Usage.CompletionTokens != 6 || comp.Usage.PromptTokensDetails.CachedTokens != 8 || costOf(t, httpResp.Header) <= 0 {
		t.Fatalf("usage %+v cost %s", comp.Usage, httpResp.Header.Get("x-litellm-response-cost"))
	}
	up := fake.Last(t)
	if up.Path != "/v1beta/models/gemini-2.5-flash:generateContent" || up.Header.Get("x-goog-api-key") != fake.APIKey() ||
		gjson.GetBytes(up.Body, "systemInstruction.parts.0.text").Str != "Be terse." ||
		gjson.GetBytes(up.Body, "generationConfig.maxOutputTokens").Int() != 100 {
		t.Fatalf("upstream got %s %s", up.Path, up.Body)
	}

	// Streaming with usage.
	st := c.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{Model: "g-gemini",
		Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hi")},
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}})
	acc := openai.ChatCompletionAccumulator{}
	for st.Next() {
		acc.AddChunk(st.Current())
	}
	if st.Err() != nil || len(acc.Choices) == 0 || acc.Choices[0].Message.Content != "Hello from the fake Gemini." || acc.Usage.PromptTokens != 20 {
		t.Fatalf("stream: %v %+v", st.Err(), acc)
	}
	if up := fake.Last(t); up.Path != "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse" {
		t.Fatalf("stream path %s", up.Path)
	}

	// Tools: a forced call, then its result.
	tools := []openai.ChatCompletionToolUnionParam{openai.ChatCompletionFunctionTool(openai.FunctionDefinitionParam{
		Name: "get_weather", Strict: openai.Bool(true), Parameters: openai.FunctionParameters{"type": "object", "additionalProperties": false,
			"properties": map[string]any{"location": map[string]any{"type": "string"}}, "required": []string{"location"}}})}
	params := openai.ChatCompletionNewParams{Model: "g-gemini", Tools: tools,
		ToolChoice: openai.ChatCompletionToolChoiceOptionUnionParam{OfAuto: openai.String("required")},
		Messages:   []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Weather in Paris?")}}
	comp, err = c.Chat.Completions.New(ctx, params)
	if err != nil || len(comp.Choices) != 1 || len(comp.Choices[0].Message.ToolCalls) != 1 || comp.Choices[0].FinishReason != "tool_calls" ||
		comp.Choices[0].Message.ToolCalls[0].Function.Arguments != `{"location":"Paris"}` {
		t.Fatalf("tool call: %v %+v", err, comp)
	}
	call := comp.Choices[0].Message.ToolCalls[0]
	params.Messages = append(params.Messages, comp.Choices[0].Message.ToParam(), openai.ToolMessage("18C and sunny", call.ID))
	params.ToolChoice = openai.ChatCompletionToolChoiceOptionUnionParam{OfAuto: openai.String("auto")}
	if comp, err = c.Chat.Completions.New(ctx, params); err != nil || comp.Choices[0].Message.Content == "" {
		t.Fatalf("tool result turn: %v %+v", err, comp)
	}
	if fr := gjson.GetBytes(fake.Last(t).Body, "contents.2.parts.0.functionResponse"); fr.Get("name").Str != "get_weather" ||
		fr.Get("response.content").Str != "18C and sunny" {
		t.Fatalf("function response upstream: %s", fake.Last(t).Body)
	}
	// Streamed tool calls.
	params.Messages = params.Messages[:1]
	params.ToolChoice = openai.ChatCompletionToolChoiceOptionUnionParam{OfAuto: openai.String("required")}
	st = c.Chat.Completions.NewStreaming(ctx, params)
	acc = openai.ChatCompletionAccumulator{}
	for st.Next() {
		acc.AddChunk(st.Current())
	}
	if st.Err() != nil || len(acc.Choices) == 0 || len(acc.Choices[0].Message.ToolCalls) != 1 ||
		acc.Choices[0].Message.ToolCalls[0].Function.Name != "get_weather" {
		t.Fatalf("streamed tool call: %v %+v", st.Err(), acc)
	}

	// JSON mode.
	comp, err = c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "g-gemini",
		Messages:       []openai.ChatCompletionMessageParamUnion{openai.UserMessage("JSON please")},
		ResponseFormat: openai.ChatCompletionNewParamsResponseFormatUnion{OfJSONObject: &openai.ResponseFormatJSONObjectParam{}}})
	if err != nil || comp.Choices[0].Message.Content != `{"answer":"Hello"}` ||
		gjson.GetBytes(fake.Last(t).Body, "generationConfig.responseMimeType").Str != "application/json" {
		t.Fatalf("JSON mode: %v %+v", err, comp)
	}

	// Embeddings.
	emb, err := c.Embeddings.New(ctx, openai.EmbeddingNewParams{Model: "g-gemini-embed", Dimensions: openai.Int(4),
		Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"hello", "world"}}})
	if err != nil || len(emb.Data) != 2 || len(emb.Data[1].Embedding) != 4 || emb.Model != "g-gemini-embed" || emb.Usage.PromptTokens <= 0 {
		t.Fatalf("embeddings: %v %+v", err, emb)
	}
	if up := fake.Last(t); up.Path != "/v1beta/models/gemini-embedding-001:batchEmbedContents" {
		t.Fatalf("embeddings path %s", up.Path)
	}
	if costOf(t, httpResp.Header) <= 0 {
		t.Errorf("embeddings cost nothing")
	}

	// A blocked prompt: a 200 with content_filter, unary and streamed.
	fake.Update(func(o *fakegemini.Options) { o.BlockPrompt = "SAFETY" })
	comp, err = c.Chat.Completions.New(ctx, userSays("g-gemini", "something bad"))
	if err != nil || len(comp.Choices) != 1 || comp.Choices[0].FinishReason != "content_filter" || comp.Choices[0].Message.Content != "" {
		t.Fatalf("blocked prompt: %v %+v", err, comp)
	}
	st = c.Chat.Completions.NewStreaming(ctx, userSays("g-gemini", "something bad"))
	acc = openai.ChatCompletionAccumulator{}
	for st.Next() {
		acc.AddChunk(st.Current())
	}
	if st.Err() != nil || len(acc.Choices) == 0 || acc.Choices[0].FinishReason != "content_filter" {
		t.Fatalf("blocked prompt, streamed: %v %+v", st.Err(), acc)
	}
	fake.Update(func(o *fakegemini.Options) { o.BlockPrompt = "" })

	// Google's errors: the status kept, 429's retry delay as retry-after,
	// the key never echoed.
	var apiErr *openai.Error
	fake.SetFailure(&fakegemini.Failure{Status: 429, RetryDelay: "7s"})
	_, err = c.Chat.Completions.New(ctx, userSays("g-gemini", "hi"))
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 429 || apiErr.Response.Header.Get("retry-after") != "7" {
		t.Fatalf("429: %v", err)
	}
	fake.SetFailure(&fakegemini.Failure{Status: 400, Message: "API key {key} is not valid for this model."})
	_, err = c.Chat.Completions.New(ctx, userSays("g-gemini", "hi"))
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || strings.Contains(apiErr.RawJSON(), fake.APIKey()) ||
		!strings.Contains(apiErr.RawJSON(), "is not valid") {
		t.Fatalf("400 with the key echoed: %v", err)
	}
	fake.SetFailure(&fakegemini.Failure{Status: 503, InStream: true})
	st = c.Chat.Completions.NewStreaming(ctx, userSays("g-gemini", "hi"))
	for st.Next() {
	}
	if st.Err() == nil || !strings.Contains(st.Err().Error(), "mid-stream") {
		t.Fatalf("mid-stream error: %v", st.Err())
	}
	fake.SetFailure(nil)
	if logs := g.finalLogs(); strings.Contains(logs, fake.APIKey()) {
		t.Error("the Gemini key appears in the log")
	}
}

// TestGeminiWithTheAnthropicSDK: /v1/messages on a gemini/ deployment,
// bridged over chat, unary and streamed.
func TestGeminiWithTheAnthropicSDK(t *testing.T) {
	g, _ := startGemini(t, fakegemini.Options{})
	ctx := context.Background()
	c := anthropicClient(g, gemKeyA, false)
	msg, err := c.Messages.New(ctx, messageParams("g-gemini", false))
	if err != nil || msg.Model != "g-gemini" || len(msg.Content) == 0 || msg.Content[0].Text != "Hello from the fake Gemini." || msg.Usage.OutputTokens == 0 {
		t.Fatalf("messages: %v %+v", err, msg)
	}
	msg, err = c.Messages.New(ctx, messageParams("g-gemini", true))
	if err != nil || len(msg.Content) == 0 || msg.Content[len(msg.Content)-1].Type != "tool_use" || msg.StopReason != anthropic.StopReasonToolUse {
		t.Fatalf("messages with a tool: %v %+v", err, msg)
	}
	st := c.Messages.NewStreaming(ctx, messageParams("g-gemini", false))
	var text strings.Builder
	for st.Next() {
		if ev := st.Current(); ev.Type == "content_block_delta" {
			text.WriteString(ev.Delta.Text)
		}
	}
	if st.Err() != nil || text.String() != "Hello from the fake Gemini." {
		t.Fatalf("messages stream: %v %q", st.Err(), text.String())
	}
}

// TestGeminiKeyFromTheEnvironment: the operator's deployment without an
// api_key reads GEMINI_API_KEY; a team's never does: it is refused with a
// 401 naming api_key.
func TestGeminiKeyFromTheEnvironment(t *testing.T) {
	g, fake := startGemini(t, fakegemini.Options{})
	ctx := context.Background()
	c := openaiClient(g, gemKeyA)
	if _, err := c.Chat.Completions.New(ctx, userSays("g-gemini-env", "hi")); err != nil {
		t.Fatalf("operator deployment with GEMINI_API_KEY: %v", err)
	}
	if got := fake.Last(t).Header.Get("x-goog-api-key"); got != fake.APIKey() {
		t.Fatalf("sent key %q", got)
	}
	// A team adds its own gemini deployment without a key.
	g.ok(t, "POST", "/model/new", gemKeyA, map[string]any{"model_name": "team-gem",
		"litellm_params": map[string]any{"model": "gemini/gemini-2.5-flash", "api_base": fake.URL},
		"model_info":     map[string]any{"team_id": gemTeamA}})
	n := len(fake.Requests())
	_, err := c.Chat.Completions.New(ctx, userSays("team-gem", "hi"))
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 401 || !strings.Contains(apiErr.RawJSON(), "api_key") {
		t.Fatalf("team deployment without a key: %v", err)
	}
	if len(fake.Requests()) != n {
		t.Fatal("the team deployment reached the upstream")
	}
}
