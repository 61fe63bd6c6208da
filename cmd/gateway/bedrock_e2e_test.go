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

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/internal/fakebedrock"
)

const (
	brKeyID   = "AKIAE2EBEDROCK0000001"
	brSecret  = "e2e/Bedrock+Secret0123456789abcdefghijkl"
	brChainID = "AKIAE2ECHAIN000000002"
	brChainSk = "e2e/Chain+Secret0123456789abcdefghijklmn"
	brRole    = "arn:aws:iam::123456789012:role/gateway-bedrock"
	brTeam    = "5f0c3a52-7c1e-4c55-9a44-2b7e0d8c1f10"
	brTeamKey = "sk-bedrock-team-0123456789abcdef0123"
)

// bedrockGateway starts a gateway whose deployments call a fake Bedrock:
// static keys, an assumed role, Titan and Cohere embeddings, an operator
// deployment on the default credential chain (the environment's keys),
// and a team deployment without credentials.
func bedrockGateway(t *testing.T) (*gatewayProc, *fakebedrock.Server) {
	t.Helper()
	f := fakebedrock.New("us-east-1")
	t.Cleanup(f.Close)
	f.AddKey(brKeyID, brSecret, "")
	f.AddKey(brChainID, brChainSk, "")
	f.AddRole(brRole, brKeyID)
	t.Setenv("BR_KEY_ID", brKeyID)
	t.Setenv("BR_SECRET", brSecret)
	// The default chain finds these (and nothing of the host's).
	t.Setenv("AWS_ACCESS_KEY_ID", brChainID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", brChainSk)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_REGION", "us-east-1")

	args, dir := emptyGateway(t)
	creds := "      aws_access_key_id: os.environ/BR_KEY_ID\n      aws_secret_access_key: os.environ/BR_SECRET\n" +
		"      aws_region_name: us-east-1\n      aws_bedrock_runtime_endpoint: " + f.URL + "\n"
	writeFiles(t, dir, map[string]string{
		"gateway.yaml": "general_settings:\n  master_key: os.environ/GATEWAY_MASTER_KEY\n  salt_key: os.environ/GATEWAY_SALT_KEY\n" + allowLoopback +
			"router_settings:\n  num_retries: 0\n  allowed_fails: 1000\n" +
			"model_list:\n" +
			"  - model_name: br-claude\n    litellm_params:\n      model: bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0\n" + creds +
			"  - model_name: br-role\n    litellm_params:\n      model: bedrock/converse/us.anthropic.claude-3-7-sonnet-20250219-v1:0\n" + creds +
			"      aws_role_name: " + brRole + "\n      aws_session_name: e2e-session\n      aws_sts_endpoint: " + f.URL + "\n" +
			"  - model_name: br-titan\n    litellm_params:\n      model: bedrock/amazon.titan-embed-text-v2:0\n" + creds +
			"  - model_name: br-cohere\n    litellm_params:\n      model: bedrock/cohere.embed-english-v3\n" + creds +
			"  - model_name: br-chain\n    litellm_params:\n      model: bedrock/anthropic.claude-3-haiku-20240307-v1:0\n" +
			"      aws_bedrock_runtime_endpoint: " + f.URL + "\n",
		"teams.d/br.yaml": "team_id: " + brTeam + "\nteam_alias: bedrock-team\nkeys:\n  - token: " + configs.HashKey(brTeamKey) + "\n    key_alias: br-ci\n",
		"models.d/br.yaml": "model_list:\n  - model_name: model_name_" + brTeam + "_1\n    litellm_params:\n" +
			"      model: bedrock/anthropic.claude-3-haiku-20240307-v1:0\n      aws_region_name: us-east-1\n" +
			"      aws_bedrock_runtime_endpoint: " + f.URL + "\n" +
			"    model_info: {id: br-team-1, team_id: " + brTeam + ", team_public_model_name: team-claude, api_key_set_by: team}\n",
	})
	return startGateway(t, args...), f
}

// TestBedrockThroughTheGateway: chat (unary, streaming, tools), embeddings
// and Anthropic messages, with the official SDKs, against a fake Bedrock
// that checks every SigV4 signature and validates every body as Bedrock
// does; static keys, an assumed role, and the operator's default chain.
func TestBedrockThroughTheGateway(t *testing.T) {
	g, f := bedrockGateway(t)
	ctx := context.Background()
	c := openaiClient(g, masterKey)

	for _, model := range []string{"br-claude", "br-role", "br-chain"} {
		var resp *http.Response
		out, err := c.Chat.Completions.New(ctx, userSays(model, "Hello Bedrock"), option.WithResponseInto(&resp))
		if err != nil {
			t.Fatalf("%s: %v", model, err)
		}
		if out.Model != model || !strings.Contains(out.Choices[0].Message.Content, "You said: Hello Bedrock") || out.Usage.CompletionTokens != 5 {
			t.Fatalf("%s: %+v", model, out)
		}
		if costOf(t, resp.Header) <= 0 {
			t.Errorf("%s: a priced Bedrock call cost nothing", model)
		}
	}
	if f.STSCalls() != 1 {
		t.Fatalf("%d AssumeRole calls, want 1", f.STSCalls())
	}
	var keys []string
	for _, r := range f.Requests() {
		keys = append(keys, r.KeyID[:4])
	}
	if strings.Join(keys, ",") != "AKIA,ASIA,AKIA" || f.Requests()[2].KeyID != brChainID {
		t.Fatalf("signing keys %v", keys)
	}
	if p := f.Requests()[1].Path; p != "/model/us.anthropic.claude-3-7-sonnet-20250219-v1%3A0/converse" {
		t.Fatalf("path %s", p)
	}

	// Streaming, with usage.
	st := c.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{Model: "br-role",
		Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Stream please")},
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}})
	var acc openai.ChatCompletionAccumulator
	for st.Next() {
		acc.AddChunk(st.Current())
	}
	if err := st.Err(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(acc.Choices[0].Message.Content, "You said: Stream please") || acc.Usage.CompletionTokens != 5 || acc.Choices[0].FinishReason != "stop" {
		t.Fatalf("stream: %+v", acc.ChatCompletion)
	}

	// Tools: a call, then its result.
	params := openai.ChatCompletionNewParams{Model: "br-claude",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("What's the weather in Paris?")},
		Tools: []openai.ChatCompletionToolUnionParam{openai.ChatCompletionFunctionTool(openai.FunctionDefinitionParam{
			Name: "get_weather", Parameters: openai.FunctionParameters{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}}})}}
	out, err := c.Chat.Completions.New(ctx, params)
	if err != nil || out.Choices[0].FinishReason != "tool_calls" || len(out.Choices[0].Message.ToolCalls) != 1 ||
		out.Choices[0].Message.ToolCalls[0].Function.Arguments != `{"city":"Paris"}` {
		t.Fatalf("tools: %v %+v", err, out)
	}
	params.Messages = append(params.Messages, out.Choices[0].Message.ToParam(),
		openai.ToolMessage("sunny", out.Choices[0].Message.ToolCalls[0].ID))
	out, err = c.Chat.Completions.New(ctx, params)
	if err != nil || out.Choices[0].Message.Content != "The tool said: sunny" {
		t.Fatalf("tool result: %v %+v", err, out)
	}
	// Streamed tool call.
	st = c.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{Model: "br-claude", Tools: params.Tools,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("weather in Paris?")}})
	acc = openai.ChatCompletionAccumulator{}
	for st.Next() {
		acc.AddChunk(st.Current())
	}
	if err := st.Err(); err != nil || len(acc.Choices[0].Message.ToolCalls) != 1 || acc.Choices[0].Message.ToolCalls[0].Function.Arguments != `{"city":"Paris"}` {
		t.Fatalf("streamed tools: %v %+v", err, acc.ChatCompletion)
	}

	// Embeddings: Titan (one call per input) and Cohere.
	emb, err := c.Embeddings.New(ctx, openai.EmbeddingNewParams{Model: "br-titan", Dimensions: openai.Int(256),
		Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"one", "two words", "three more words"}}})
	if err != nil || len(emb.Data) != 3 || len(emb.Data[2].Embedding) != 256 || emb.Data[2].Index != 2 || emb.Usage.PromptTokens != 2+3+4 {
		t.Fatalf("titan: %v %+v", err, emb)
	}
	emb, err = c.Embeddings.New(ctx, openai.EmbeddingNewParams{Model: "br-cohere",
		Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"a b", "c"}}})
	if err != nil || len(emb.Data) != 2 || len(emb.Data[0].Embedding) != 1024 || emb.Usage.PromptTokens != 5 {
		t.Fatalf("cohere: %v %+v", err, emb)
	}

	// Anthropic messages, bridged over chat.
	ac := anthropicClient(g, masterKey, false)
	msg, err := ac.Messages.New(ctx, anthropic.MessageNewParams{Model: "br-claude", MaxTokens: 100,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Hi from Claude Code"))}})
	if err != nil || len(msg.Content) == 0 || !strings.Contains(msg.Content[0].Text, "You said: Hi from Claude Code") {
		t.Fatalf("messages: %v %+v", err, msg)
	}
	ms := ac.Messages.NewStreaming(ctx, anthropic.MessageNewParams{Model: "br-role", MaxTokens: 100,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("stream it"))}})
	var text strings.Builder
	for ms.Next() {
		if ev, ok := ms.Current().AsAny().(anthropic.ContentBlockDeltaEvent); ok {
			text.WriteString(ev.Delta.Text)
		}
	}
	if err := ms.Err(); err != nil || !strings.Contains(text.String(), "You said: stream it") {
		t.Fatalf("messages stream: %v %q", err, text.String())
	}
}

// TestBedrockRefusalsAndErrors: a team deployment without credentials is
// refused (401) where the operator's may use the chain; an upstream error
// keeps its status and retry-after and is scrubbed of the secret; a
// mid-stream exception ends the stream with an error.
func TestBedrockRefusalsAndErrors(t *testing.T) {
	g, f := bedrockGateway(t)
	ctx := context.Background()

	code, m, raw := g.do(t, "POST", "/v1/chat/completions", brTeamKey, map[string]any{"model": "team-claude",
		"messages": []any{map[string]any{"role": "user", "content": "hi"}}})
	e := errorOf(t, m, raw)
	if code != 401 || !strings.Contains(e["message"].(string), "aws_access_key_id") {
		t.Fatalf("team without credentials: %d %s", code, raw)
	}
	if len(f.Requests()) != 0 {
		t.Fatal("a team call without credentials reached Bedrock")
	}

	c := openaiClient(g, masterKey)
	f.Fail(fakebedrock.Failure{Status: 429, Type: "ThrottlingException", RetryAfter: 7,
		Message: "Too many requests for " + brKeyID + " signed with " + brSecret})
	_, err := c.Chat.Completions.New(ctx, userSays("br-claude", "hi"))
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 429 || apiErr.Response.Header.Get("retry-after") != "7" {
		t.Fatalf("throttled: %v", err)
	}
	if s := string(apiErr.DumpResponse(true)); strings.Contains(s, brSecret) || strings.Contains(s, brKeyID) || !strings.Contains(s, "ThrottlingException") {
		t.Fatalf("the answer is not scrubbed or lost the exception: %s", s)
	}

	f.Fail(fakebedrock.Failure{MidStream: true, Type: "modelStreamErrorException", Message: "the model stream broke"})
	st := c.Chat.Completions.NewStreaming(ctx, userSays("br-claude", "hello there"))
	for st.Next() {
	}
	if err := st.Err(); err == nil || !strings.Contains(err.Error(), "modelStreamErrorException") {
		t.Fatalf("mid-stream exception: %v", err)
	}

	// The fake validates as Bedrock does; an image URL is refused here.
	code, _, raw = g.do(t, "POST", "/v1/chat/completions", masterKey, map[string]any{"model": "br-claude",
		"messages": []any{map[string]any{"role": "user", "content": []any{map[string]any{"type": "image_url", "image_url": map[string]any{"url": "https://example.com/cat.png"}}}}}})
	if code != 400 || !strings.Contains(string(raw), "data URL") {
		t.Fatalf("image URL: %d %s", code, raw)
	}
	logs := g.finalLogs()
	if strings.Contains(logs, brSecret) {
		t.Fatal("the secret reached the log")
	}
}
