package main

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	aoption "github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/llmgateway/gateway/internal/fakeanthropic"
)

// anthropicClient calls the gateway as Claude Code does: base URL without
// /v1, the key as x-api-key (ANTHROPIC_API_KEY) or as a bearer token
// (ANTHROPIC_AUTH_TOKEN).
func anthropicClient(g *gatewayProc, key string, bearer bool, opts ...aoption.RequestOption) anthropic.Client {
	auth := aoption.WithAPIKey(key)
	if bearer {
		auth = aoption.WithAuthToken(key)
	}
	return anthropic.NewClient(append([]aoption.RequestOption{auth, aoption.WithBaseURL(g.url("/")), aoption.WithMaxRetries(0)}, opts...)...)
}

var weatherTool = anthropic.ToolParam{Name: "get_weather", Description: anthropic.String("Weather by city"),
	InputSchema: anthropic.ToolInputSchemaParam{Properties: map[string]any{"city": map[string]any{"type": "string"}}, Required: []string{"city"}}}

func messageParams(model string, tools bool) anthropic.MessageNewParams {
	p := anthropic.MessageNewParams{Model: anthropic.Model(model), MaxTokens: 256,
		System:   []anthropic.TextBlockParam{{Text: "You are terse."}},
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Weather in Paris?"))}}
	if tools {
		p.Tools = []anthropic.ToolUnionParam{{OfTool: &weatherTool}}
		p.ToolChoice = anthropic.ToolChoiceUnionParam{OfTool: &anthropic.ToolChoiceToolParam{Name: "get_weather"}}
	}
	return p
}

// TestMessagesAPIWithTheAnthropicSDK: POST /v1/messages and
// count_tokens with the official anthropic-sdk-go, against an Anthropic
// deployment (passed through natively) and an OpenAI one (translated),
// unary and streaming, with tools; both ways of sending the key work, the
// client sees its own model name, and usage is accounted.
func TestMessagesAPIWithTheAnthropicSDK(t *testing.T) {
	s := startSurface(t)
	ctx := context.Background()
	for _, tc := range []struct {
		model  string
		native bool
	}{{"g-claude", true}, {"g-openai", false}} {
		for _, bearer := range []bool{false, true} {
			var httpResp *http.Response
			c := anthropicClient(s.g, surfKeyA, bearer, aoption.WithResponseInto(&httpResp))
			msg, err := c.Messages.New(ctx, messageParams(tc.model, false))
			if err != nil || msg.Model != anthropic.Model(tc.model) || len(msg.Content) == 0 || msg.Content[0].Text == "" || msg.Usage.OutputTokens == 0 {
				t.Fatalf("%s (bearer %v): %v %+v", tc.model, bearer, err, msg)
			}
			if costOf(t, httpResp.Header) <= 0 {
				t.Errorf("%s: a priced message cost nothing", tc.model)
			}
		}
		c := anthropicClient(s.g, surfKeyA, false)
		if tc.native {
			last := s.an.Last(t)
			if last.Path != "/v1/messages" || !strings.Contains(string(last.Body), `"claude-sonnet-4-5-20250929"`) {
				t.Fatalf("native: upstream got %s %s", last.Path, last.Body)
			}
		} else if last := s.oa.Last(t); !strings.Contains(string(last.Body), `"gpt-4o-mini"`) || !strings.Contains(string(last.Body), `"role":"system"`) {
			t.Fatalf("translated: upstream got %s", last.Body)
		}

		// Tools, forced.
		msg, err := c.Messages.New(ctx, messageParams(tc.model, true))
		if err != nil || msg.StopReason != anthropic.StopReasonToolUse {
			t.Fatalf("%s tools: %v %+v", tc.model, err, msg)
		}
		var tool anthropic.ToolUseBlock
		for _, b := range msg.Content {
			if tu, ok := b.AsAny().(anthropic.ToolUseBlock); ok {
				tool = tu
			}
		}
		if tool.Name != "get_weather" || tool.ID == "" {
			t.Fatalf("%s: no tool_use in %+v", tc.model, msg.Content)
		}
		// The tool result goes back in the next turn, as the API requires.
		p := messageParams(tc.model, false)
		p.Tools = []anthropic.ToolUnionParam{{OfTool: &weatherTool}}
		p.Messages = append(p.Messages, msg.ToParam(), anthropic.NewUserMessage(anthropic.NewToolResultBlock(tool.ID, "18C and sunny", false)))
		if _, err := c.Messages.New(ctx, p); err != nil {
			t.Fatalf("%s: tool result turn: %v", tc.model, err)
		}

		// Streaming, accumulated by the SDK.
		for _, tools := range []bool{false, true} {
			st := c.Messages.NewStreaming(ctx, messageParams(tc.model, tools))
			var acc anthropic.Message
			events := 0
			for st.Next() {
				events++
				if err := acc.Accumulate(st.Current()); err != nil {
					t.Fatalf("%s stream: accumulate: %v", tc.model, err)
				}
			}
			if st.Err() != nil || events < 4 || acc.Model != anthropic.Model(tc.model) || len(acc.Content) == 0 || acc.Usage.OutputTokens == 0 {
				t.Fatalf("%s stream (tools %v): %v, %d events, %+v", tc.model, tools, st.Err(), events, acc)
			}
			if tools && acc.StopReason != anthropic.StopReasonToolUse {
				t.Fatalf("%s stream with tools: stop %q", tc.model, acc.StopReason)
			}
		}

		// count_tokens: passed through to Anthropic, estimated otherwise.
		n, err := c.Messages.CountTokens(ctx, anthropic.MessageCountTokensParams{Model: anthropic.Model(tc.model),
			Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("How many tokens is this?"))}})
		if err != nil || n.InputTokens <= 0 {
			t.Fatalf("%s count_tokens: %v %+v", tc.model, err, n)
		}
		if tc.native && s.an.Last(t).Path != "/v1/messages/count_tokens" {
			t.Errorf("count_tokens was not passed through: %s", s.an.Last(t).Path)
		}
	}

	// Errors come in Anthropic's shape: an unknown model, a bad key,
	// another team's model, and an upstream's own error.
	c := anthropicClient(s.g, surfKeyA, false)
	var apiErr *anthropic.Error
	if _, err := c.Messages.New(ctx, messageParams("no-such-model", false)); !errors.As(err, &apiErr) || apiErr.StatusCode != 400 ||
		!strings.Contains(apiErr.RawJSON(), `"type":"invalid_request_error"`) {
		t.Fatalf("unknown model: %v", err)
	}
	bad := anthropicClient(s.g, "sk-not-a-key-0123456789", false)
	if _, err := bad.Messages.New(ctx, messageParams("g-claude", false)); !errors.As(err, &apiErr) || apiErr.StatusCode != 401 ||
		!strings.Contains(apiErr.RawJSON(), `"type":"authentication_error"`) {
		t.Fatalf("bad key: %v", err)
	}
	s.an.SetFailure(&fakeanthropic.Failure{Status: 529})
	if _, err := c.Messages.New(ctx, messageParams("g-claude", false)); !errors.As(err, &apiErr) || apiErr.StatusCode != 529 ||
		!strings.Contains(apiErr.RawJSON(), `"type":"overloaded_error"`) || strings.Contains(apiErr.RawJSON(), s.an.APIKey()) {
		t.Fatalf("overloaded upstream: %v", err)
	}
	s.an.SetFailure(&fakeanthropic.Failure{Status: 500, InStream: true})
	st := c.Messages.NewStreaming(ctx, messageParams("g-claude", false))
	for st.Next() {
	}
	if err := st.Err(); err == nil || !strings.Contains(err.Error(), "api_error") {
		t.Fatalf("an error event mid-stream: %v", err)
	}
	s.an.SetFailure(nil)
}

// TestChatToAnthropicWithTheOpenAISDK: an OpenAI client (openai-go) calls
// an anthropic/ deployment: tools, tool results and streamed tool calls
// are translated; cache tokens are reported and priced.
func TestChatToAnthropicWithTheOpenAISDK(t *testing.T) {
	s := startSurface(t)
	ctx := context.Background()
	var httpResp *http.Response
	c := openaiClient(s.g, surfKeyA, option.WithResponseInto(&httpResp))
	tools := []openai.ChatCompletionToolUnionParam{openai.ChatCompletionFunctionTool(openai.FunctionDefinitionParam{
		Name: "get_weather", Parameters: openai.FunctionParameters{"type": "object",
			"properties": map[string]any{"city": map[string]any{"type": "string"}}}})}
	params := openai.ChatCompletionNewParams{Model: "g-claude", Tools: tools,
		ToolChoice: openai.ChatCompletionToolChoiceOptionUnionParam{OfAuto: openai.String("required")},
		Messages:   []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("Be terse."), openai.UserMessage("Weather in Paris?")}}
	comp, err := c.Chat.Completions.New(ctx, params)
	if err != nil || comp.Model != "g-claude" || len(comp.Choices) != 1 || len(comp.Choices[0].Message.ToolCalls) == 0 ||
		comp.Choices[0].FinishReason != "tool_calls" {
		t.Fatalf("chat with tools: %v %+v", err, comp)
	}
	// The fake reports 40 input, 30 cache read, 5 cache write tokens.
	if comp.Usage.PromptTokens != 75 || comp.Usage.PromptTokensDetails.CachedTokens != 30 || costOf(t, httpResp.Header) <= 0 {
		t.Fatalf("usage %+v, cost %s", comp.Usage, httpResp.Header.Get("x-litellm-response-cost"))
	}
	upstream := string(s.an.Last(t).Body)
	if !strings.Contains(upstream, `"system":`) || !strings.Contains(upstream, `"tool_choice":{"type":"any"}`) || !strings.Contains(upstream, `"max_tokens":`) {
		t.Fatalf("upstream got %s", upstream)
	}
	// The tool's answer goes back as a tool message.
	call := comp.Choices[0].Message.ToolCalls[0]
	params.Messages = append(params.Messages, comp.Choices[0].Message.ToParam(), openai.ToolMessage("18C", call.ID))
	params.ToolChoice = openai.ChatCompletionToolChoiceOptionUnionParam{OfAuto: openai.String("auto")}
	if _, err := c.Chat.Completions.New(ctx, params); err != nil {
		t.Fatalf("tool result turn: %v", err)
	}

	// Streaming, tool calls included.
	params.Messages = params.Messages[:2]
	params.ToolChoice = openai.ChatCompletionToolChoiceOptionUnionParam{OfAuto: openai.String("required")}
	params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	st := c.Chat.Completions.NewStreaming(ctx, params)
	acc := openai.ChatCompletionAccumulator{}
	for st.Next() {
		acc.AddChunk(st.Current())
	}
	if st.Err() != nil || len(acc.Choices) == 0 || len(acc.Choices[0].Message.ToolCalls) == 0 || acc.Usage.PromptTokens != 75 ||
		acc.Choices[0].Message.ToolCalls[0].Function.Name != "get_weather" {
		t.Fatalf("stream: %v %+v", st.Err(), acc)
	}

	// Anthropic's errors map to OpenAI's envelope with their status.
	s.an.SetFailure(&fakeanthropic.Failure{Status: 429, RetryAfter: "7"})
	_, err = c.Chat.Completions.New(ctx, userSays("g-claude", "hi"))
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 429 || apiErr.Response.Header.Get("retry-after") != "7" {
		t.Fatalf("429: %v", err)
	}
	s.an.SetFailure(nil)
}

// A translated Messages stream to a deployment whose upstream reports no
// stream usage (Azure before api_version 2024-10-21) is not free: the
// gateway counts its prompt and the text it streamed.
func TestMessagesStreamWithoutUpstreamUsageIsCounted(t *testing.T) {
	s := startSurface(t)
	before := s.g.ok(t, "GET", "/team/info?team_id=surf-a", masterKey, nil)["team_info"].(map[string]any)["spend"].(float64)
	c := anthropicClient(s.g, surfKeyA, false)
	st := c.Messages.NewStreaming(context.Background(), messageParams("g-azure-old", false))
	var acc anthropic.Message
	for st.Next() {
		_ = acc.Accumulate(st.Current())
	}
	if st.Err() != nil || len(acc.Content) == 0 {
		t.Fatalf("stream: %v %+v", st.Err(), acc)
	}
	if body := string(s.oa.Last(t).Body); strings.Contains(body, "stream_options") {
		t.Fatalf("the gateway asked an upstream that refuses it for stream usage: %s", body)
	}
	after := s.g.ok(t, "GET", "/team/info?team_id=surf-a", masterKey, nil)["team_info"].(map[string]any)["spend"].(float64)
	if after <= before {
		t.Fatalf("a stream without upstream usage cost nothing (spend %v -> %v)", before, after)
	}
}
