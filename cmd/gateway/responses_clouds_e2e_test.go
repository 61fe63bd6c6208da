package main

import (
	"context"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/responses"
	"github.com/openai/openai-go/v3/shared"
	"github.com/tidwall/gjson"

	"github.com/llmgateway/gateway/internal/fakegemini"
)

// responsesRoundTrip calls model through /v1/responses with openai-go:
// unary, a function call and its output, and a stream; it returns the
// streamed text.
func responsesRoundTrip(t *testing.T, c openai.Client, model string) {
	t.Helper()
	ctx := context.Background()
	p := rbParams(model, false)
	p.Reasoning = shared.ReasoningParam{Effort: shared.ReasoningEffortMedium} // Codex sends one with every call
	r, err := c.Responses.New(ctx, p)
	if err != nil || r.Model != model || r.OutputText() == "" || r.Usage.InputTokens == 0 || r.Usage.OutputTokens == 0 ||
		r.Status != responses.ResponseStatusCompleted {
		t.Fatalf("%s: %v %+v", model, err, r)
	}

	r, err = c.Responses.New(ctx, rbParams(model, true))
	if err != nil {
		t.Fatalf("%s tools: %v", model, err)
	}
	var call responses.ResponseFunctionToolCall
	for _, it := range r.Output {
		if it.Type == "function_call" {
			call = it.AsFunctionCall()
		}
	}
	if call.Name != "get_weather" || call.CallID == "" || !gjson.Valid(call.Arguments) {
		t.Fatalf("%s: no function_call in %s", model, r.RawJSON())
	}
	out := responses.ResponseInputItemParamOfFunctionCallOutput("18C and sunny")
	out.OfFunctionCallOutput.CallID = openai.String(call.CallID)
	p = rbParams(model, false)
	p.Tools = []responses.ToolUnionParam{rbWeather}
	p.Input = responses.ResponseNewParamsInputUnion{OfInputItemList: responses.ResponseInputParam{
		responses.ResponseInputItemParamOfMessage("Weather in Paris?", responses.EasyInputMessageRoleUser),
		responses.ResponseInputItemParamOfFunctionCall(call.Arguments, call.CallID, call.Name),
		out,
	}}
	if r2, err := c.Responses.New(ctx, p); err != nil || r2.OutputText() == "" {
		t.Fatalf("%s: function_call_output turn: %v", model, err)
	}

	st := c.Responses.NewStreaming(ctx, rbParams(model, false))
	var text strings.Builder
	var final responses.Response
	for st.Next() {
		switch ev := st.Current(); ev.Type {
		case "response.output_text.delta":
			text.WriteString(ev.Delta)
		case "response.completed":
			final = ev.Response
		}
	}
	if err := st.Err(); err != nil || text.Len() == 0 || final.Usage.OutputTokens == 0 || final.OutputText() != text.String() {
		t.Fatalf("%s stream: %v %q %+v", model, err, text.String(), final.Usage)
	}
}

// TestResponsesOnGemini: the Responses API (Codex, the Vercel AI SDK's
// openai(model)) on a gemini/ deployment, through its chat translation,
// against the fake Gemini API that validates requests as Google does.
func TestResponsesOnGemini(t *testing.T) {
	g, fake := startGemini(t, fakegemini.Options{PromptTokens: 20, OutputTokens: 6})
	c := openaiClient(g, gemKeyA)
	responsesRoundTrip(t, c, "g-gemini")
	if up := fake.Last(t); up.Verb != "streamGenerateContent" || gjson.GetBytes(up.Body, "systemInstruction.parts.0.text").Str != "You are terse." {
		t.Errorf("Gemini got %s %s", up.Path, up.Body)
	}
}

// TestResponsesOnBedrock: the same on bedrock/ deployments, through the
// Converse API of a fake Bedrock that checks every SigV4 signature; the
// reasoning effort Codex sends goes to Claude 3.7 (extended thinking) and
// is dropped for Claude 3.5, which has none.
func TestResponsesOnBedrock(t *testing.T) {
	g, f := bedrockGateway(t)
	c := openaiClient(g, masterKey)
	responsesRoundTrip(t, c, "br-claude")
	thinking := func() bool {
		for _, r := range f.Requests() {
			if gjson.GetBytes(r.Body, "additionalModelRequestFields.thinking").Exists() {
				return true
			}
		}
		return false
	}
	if thinking() {
		t.Errorf("Claude 3.5 on Bedrock was sent thinking")
	}
	p := rbParams("br-role", false)
	p.Reasoning = shared.ReasoningParam{Effort: shared.ReasoningEffortLow}
	p.MaxOutputTokens = openai.Int(4096)
	if r, err := c.Responses.New(context.Background(), p); err != nil || r.OutputText() == "" {
		t.Fatalf("br-role: %v", err)
	}
	if !thinking() {
		t.Errorf("Claude 3.7 on Bedrock was not sent thinking")
	}
}
