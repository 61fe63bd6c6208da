package main

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/internal/fakeanthropic"
	"github.com/llmgateway/gateway/internal/fakeopenai"
	"github.com/llmgateway/gateway/providers/registry"
)

const rbKey = "sk-respbridge-team-0123456789"

type rbSurface struct {
	g  *gatewayProc
	oa *fakeopenai.Server
	an *fakeanthropic.Server
}

// startResponsesBridge runs a gateway with deployments whose providers
// have no native Responses API (anthropic; groq, which reports stream
// usage; mistral, which does not) and a native one (openai).
func startResponsesBridge(t *testing.T) *rbSurface {
	t.Helper()
	oa := fakeopenai.Start(t, fakeopenai.Options{})
	an := fakeanthropic.Start(t, fakeanthropic.Options{InputTokens: 40, OutputTokens: 9, CacheRead: 30, CacheWrite: 5})
	t.Setenv("GATEWAY_MASTER_KEY", masterKey)
	t.Setenv("GATEWAY_SALT_KEY", "respbridge-salt-key-0123456789")
	t.Setenv("RB_OA_KEY", oa.Key)
	t.Setenv("RB_AN_KEY", an.APIKey())
	dir := t.TempDir()
	cost := `, input_cost_per_token: 0.000001, output_cost_per_token: 0.000002`
	writeFiles(t, dir, map[string]string{
		"gateway.yaml": `general_settings:
  master_key: os.environ/GATEWAY_MASTER_KEY
  salt_key: os.environ/GATEWAY_SALT_KEY
` + allowLoopback + `model_list:
  - model_name: rb-claude
    litellm_params: {model: anthropic/claude-sonnet-4-5-20250929, api_base: "` + an.URL + `", api_key: os.environ/RB_AN_KEY}
  - model_name: rb-groq
    litellm_params: {model: groq/llama-3.3-70b-versatile, api_base: "` + oa.OpenAIBase() + `", api_key: os.environ/RB_OA_KEY` + cost + `}
  - model_name: rb-mistral
    litellm_params: {model: mistral/mistral-small-latest, api_base: "` + oa.OpenAIBase() + `", api_key: os.environ/RB_OA_KEY` + cost + `}
  - model_name: rb-openai
    litellm_params: {model: openai/gpt-4o-mini, api_base: "` + oa.OpenAIBase() + `", api_key: os.environ/RB_OA_KEY}
`,
		"teams.d/a.yaml": "team_id: rb-a\nkeys:\n  - token: " + configs.HashKey(rbKey) + "\n    key_alias: a\n",
	})
	g := startGateway(t, "--config", filepath.Join(dir, "gateway.yaml"), "--teams-dir", filepath.Join(dir, "teams.d"),
		"--models-dir", filepath.Join(dir, "models.d"), "--state-dir", filepath.Join(dir, "state"))
	return &rbSurface{g: g, oa: oa, an: an}
}

var rbWeather = responses.ToolUnionParam{OfFunction: &responses.FunctionToolParam{Name: "get_weather",
	Description: openai.String("Weather by city"), Strict: openai.Bool(false),
	Parameters: map[string]any{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}, "required": []string{"city"}}}}

func rbParams(model string, tools bool) responses.ResponseNewParams {
	p := responses.ResponseNewParams{Model: model, Instructions: openai.String("You are terse."),
		Input:           responses.ResponseNewParamsInputUnion{OfString: openai.String("Weather in Paris?")},
		MaxOutputTokens: openai.Int(256)}
	if tools {
		p.Tools = []responses.ToolUnionParam{rbWeather}
		p.ToolChoice = responses.ResponseNewParamsToolChoiceUnion{OfFunctionTool: &responses.ToolChoiceFunctionParam{Name: "get_weather"}}
	}
	return p
}

// TestResponsesAPIBridgedToChat: POST /v1/responses with openai-go against
// deployments whose providers have no native Responses API (anthropic,
// groq, mistral) is answered through their chat: unary, streaming, and
// function tools round-trip with function_call_output; usage and spend
// are recorded (counted for mistral, which reports no stream usage); a
// request that needs stored state is 400 and a bridged response's id is
// not found. The native openai deployment still goes to /v1/responses.
func TestResponsesAPIBridgedToChat(t *testing.T) {
	s := startResponsesBridge(t)
	ctx := context.Background()
	spent := func() float64 {
		info := s.g.ok(t, "GET", "/team/info?team_id=rb-a", masterKey, nil)
		return info["team_info"].(map[string]any)["spend"].(float64)
	}
	for _, model := range []string{"rb-claude", "rb-groq", "rb-mistral"} {
		var httpResp *http.Response
		c := openaiClient(s.g, rbKey, option.WithResponseInto(&httpResp))
		before := spent()
		r, err := c.Responses.New(ctx, rbParams(model, false))
		if err != nil || r.Model != model || r.OutputText() == "" || r.Usage.InputTokens == 0 || r.Usage.OutputTokens == 0 ||
			r.Status != responses.ResponseStatusCompleted || !strings.Contains(r.RawJSON(), `"store":false`) || !strings.HasPrefix(r.ID, "resp_") {
			t.Fatalf("%s: %v %+v", model, err, r)
		}
		cost := costOf(t, httpResp.Header)
		if cost <= 0 || spent()-before < cost*0.999 {
			t.Fatalf("%s: cost %v, spend moved from %v to %v", model, cost, before, spent())
		}
		if model == "rb-claude" {
			last := s.an.Last(t)
			if last.Path != "/v1/messages" || !strings.Contains(string(last.Body), `"system"`) {
				t.Fatalf("anthropic got %s %s", last.Path, last.Body)
			}
			if r.Usage.InputTokensDetails.CachedTokens != 30 {
				t.Errorf("cached tokens %d, want 30", r.Usage.InputTokensDetails.CachedTokens)
			}
		} else if last := s.oa.Last(t); last.Endpoint != registry.EndpointChat || !strings.Contains(string(last.Body), `"max_tokens":256`) {
			t.Fatalf("%s: upstream got %s %s", model, last.Path, last.Body)
		}

		// Function tools: the call comes back as a function_call item, and
		// its output goes back as function_call_output.
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
		if call.Name != "get_weather" || call.CallID == "" || !strings.HasPrefix(call.Arguments, "{") {
			t.Fatalf("%s: no function_call in %s", model, r.RawJSON())
		}
		out := responses.ResponseInputItemParamOfFunctionCallOutput("18C and sunny")
		out.OfFunctionCallOutput.CallID = openai.String(call.CallID)
		p := rbParams(model, false)
		p.Tools = []responses.ToolUnionParam{rbWeather}
		p.Input = responses.ResponseNewParamsInputUnion{OfInputItemList: responses.ResponseInputParam{
			responses.ResponseInputItemParamOfMessage("Weather in Paris?", responses.EasyInputMessageRoleUser),
			responses.ResponseInputItemParamOfFunctionCall(call.Arguments, call.CallID, call.Name),
			out,
		}}
		if r2, err := c.Responses.New(ctx, p); err != nil || r2.OutputText() == "" {
			t.Fatalf("%s: function_call_output turn: %v", model, err)
		}

		// Streaming, with and without tools.
		for _, tools := range []bool{false, true} {
			before := spent()
			st := c.Responses.NewStreaming(ctx, rbParams(model, tools))
			var text strings.Builder
			var final responses.Response
			var args string
			seq, types := int64(0), map[string]bool{}
			for st.Next() {
				ev := st.Current()
				if ev.SequenceNumber != seq {
					t.Fatalf("%s: event %q has sequence_number %d, want %d", model, ev.Type, ev.SequenceNumber, seq)
				}
				seq++
				types[ev.Type] = true
				switch ev.Type {
				case "response.output_text.delta":
					text.WriteString(ev.Delta)
				case "response.function_call_arguments.done":
					args = ev.AsResponseFunctionCallArgumentsDone().Arguments
				case "response.completed":
					final = ev.AsResponseCompleted().Response
				}
			}
			// mistral reports no stream usage: the client sees zeros, and
			// the gateway counts the tokens for the spend.
			noUsage := model == "rb-mistral"
			if st.Err() != nil || final.Status != responses.ResponseStatusCompleted || final.Model != model ||
				(final.Usage.InputTokens == 0 || final.Usage.OutputTokens == 0) != noUsage || !types["response.created"] {
				t.Fatalf("%s stream (tools %v): %v %v %+v", model, tools, st.Err(), types, final)
			}
			if tools {
				if !strings.HasPrefix(args, "{") || !types["response.function_call_arguments.delta"] {
					t.Fatalf("%s stream: no function call arguments: %v", model, types)
				}
			} else if text.Len() == 0 || final.OutputText() != text.String() {
				t.Fatalf("%s stream: deltas %q, final %q", model, text.String(), final.OutputText())
			}
			if !waitFor(func() bool { return spent() > before }) {
				t.Fatalf("%s stream: spend did not move from %v\n%s", model, before, s.g.logsSoFar(t))
			}
		}

		// State: previous_response_id is 400 (the gateway keeps no
		// conversations), and the response cannot be read back.
		p = rbParams(model, false)
		p.PreviousResponseID = openai.String(r.ID)
		var apiErr *openai.Error
		if _, err := c.Responses.New(ctx, p); !errors.As(err, &apiErr) || apiErr.StatusCode != 400 ||
			apiErr.Param != "previous_response_id" || !strings.Contains(apiErr.Message, "full conversation") {
			t.Fatalf("%s previous_response_id: %v", model, err)
		}
		if _, err := c.Responses.Get(ctx, r.ID, responses.ResponseGetParams{}); !errors.As(err, &apiErr) || apiErr.StatusCode != 404 ||
			!strings.Contains(apiErr.Message, "not stored") {
			t.Fatalf("%s GET: %v", model, err)
		}
		code, _, raw := s.g.do(t, "DELETE", "/v1/responses/"+r.ID, rbKey, nil)
		if code != 404 || !strings.Contains(string(raw), "not stored") {
			t.Fatalf("%s DELETE: %d %s", model, code, raw)
		}
		// OpenAI's web search (Codex sends it by default) is dropped; the
		// other built-in tools need a native Responses API.
		p = rbParams(model, false)
		p.Tools = []responses.ToolUnionParam{{OfWebSearchPreview: &responses.WebSearchPreviewToolParam{Type: responses.WebSearchPreviewToolTypeWebSearchPreview}}}
		if _, err := c.Responses.New(ctx, p); err != nil {
			t.Fatalf("%s web_search_preview: %v", model, err)
		}
		p.Tools = []responses.ToolUnionParam{{OfFileSearch: &responses.FileSearchToolParam{VectorStoreIDs: []string{"vs_1"}}}}
		if _, err := c.Responses.New(ctx, p); !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || !strings.Contains(apiErr.Message, "native Responses API") {
			t.Fatalf("%s file_search: %v", model, err)
		}
	}

	// The native deployment is unchanged: the upstream's /v1/responses,
	// and its stored response is read back.
	c := openaiClient(s.g, rbKey)
	r, err := c.Responses.New(ctx, rbParams("rb-openai", false))
	if err != nil || s.oa.Last(t).Endpoint != registry.EndpointResponses {
		t.Fatalf("native: %v, upstream %+v", err, s.oa.Last(t))
	}
	if got, err := c.Responses.Get(ctx, r.ID, responses.ResponseGetParams{}); err != nil || got.ID != r.ID {
		t.Fatalf("native GET: %v", err)
	}
}

// TestResponsesBridgeUpstreamErrors: an upstream's error on a bridged
// call keeps its status (429 with retry-after), unary and before a
// stream's first event; a mid-stream failure ends the stream with
// response.failed and an error event.
func TestResponsesBridgeUpstreamErrors(t *testing.T) {
	s := startResponsesBridge(t)
	ctx := context.Background()
	c := openaiClient(s.g, rbKey)
	s.an.SetFailure(&fakeanthropic.Failure{Status: 429, RetryAfter: "7"})
	var apiErr *openai.Error
	_, err := c.Responses.New(ctx, rbParams("rb-claude", false))
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 429 || apiErr.Response.Header.Get("retry-after") == "" {
		t.Fatalf("429: %v", err)
	}
	s.an.SetFailure(&fakeanthropic.Failure{Status: 529, InStream: true})
	st := c.Responses.NewStreaming(ctx, rbParams("rb-claude", false))
	var types []string
	for st.Next() {
		types = append(types, st.Current().Type)
	}
	if len(types) < 2 || types[0] != "response.created" || !containsStr(types, "response.failed") {
		t.Fatalf("mid-stream failure: events %v, err %v", types, st.Err())
	}
	s.an.SetFailure(nil)
}

func containsStr(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// waitFor polls cond for up to 5 seconds (a stream's spend is recorded
// when the gateway has sent its end).
func waitFor(cond func() bool) bool {
	for i := 0; i < 500; i++ {
		if cond() {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}
