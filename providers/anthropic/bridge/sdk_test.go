package bridge

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/openai/openai-go/v3"
)

// The golden outputs decode with the official SDKs' types: Messages with
// anthropic-sdk-go (no field it does not know), streams through its
// Message.Accumulate, chat requests with openai-go.

func TestResponsesDecodeWithSDK(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("testdata/response/*.out.json")
	for _, f := range files {
		if strings.Contains(f, "/err_") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var m anthropic.Message
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		checkMessage(t, f, &m)
		if len(m.JSON.ExtraFields) > 0 {
			t.Errorf("%s: fields the SDK does not know: %v", f, keys(m.JSON.ExtraFields))
		}
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func checkMessage(t *testing.T, name string, m *anthropic.Message) {
	t.Helper()
	if !strings.HasPrefix(m.ID, "msg_") || m.Type != "message" || m.Role != "assistant" || m.Model != "claude-sonnet-4-5" {
		t.Errorf("%s: id %q type %q role %q model %q", name, m.ID, m.Type, m.Role, m.Model)
	}
	switch m.StopReason {
	case anthropic.StopReasonEndTurn, anthropic.StopReasonMaxTokens, anthropic.StopReasonToolUse, anthropic.StopReasonRefusal:
	default:
		t.Errorf("%s: stop_reason %q", name, m.StopReason)
	}
	tools := 0
	for i, c := range m.Content {
		switch v := c.AsAny().(type) {
		case anthropic.TextBlock:
			if len(v.JSON.ExtraFields) > 0 {
				t.Errorf("%s: block %d: unknown fields %v", name, i, keys(v.JSON.ExtraFields))
			}
		case anthropic.ThinkingBlock:
			if len(v.JSON.ExtraFields) > 0 {
				t.Errorf("%s: block %d: unknown fields %v", name, i, keys(v.JSON.ExtraFields))
			}
		case anthropic.ToolUseBlock:
			tools++
			if v.ID == "" || v.Name == "" || !json.Valid(v.Input) || v.Input[0] != '{' {
				t.Errorf("%s: block %d: tool_use %+v", name, i, v)
			}
			if len(v.JSON.ExtraFields) > 0 {
				t.Errorf("%s: block %d: unknown fields %v", name, i, keys(v.JSON.ExtraFields))
			}
		default:
			t.Errorf("%s: block %d of type %q", name, i, c.Type)
		}
	}
	if (tools > 0) != (m.StopReason == anthropic.StopReasonToolUse) && m.StopReason != anthropic.StopReasonMaxTokens {
		t.Errorf("%s: %d tool_use blocks with stop_reason %q", name, tools, m.StopReason)
	}
}

// TestStreamsAccumulateWithSDK feeds each golden stream's events to
// anthropic-sdk-go's Message.Accumulate and checks the message it builds.
func TestStreamsAccumulateWithSDK(t *testing.T) {
	t.Parallel()
	want := map[string]struct {
		text, thinking string
		tools          []string // name:input
		stop           anthropic.StopReason
		in, out, cache int64
	}{
		"text":              {text: "Hello \"world\"\n", stop: "end_turn", in: 9, out: 3},
		"tool_calls":        {text: "Checking both.", tools: []string{`get_weather:{"location": "Paris"} `, `get_weather:{"location": "London"}`}, stop: "tool_use", in: 120, out: 40},
		"tool_calls_whole":  {tools: []string{`a:{"x":1}`, `b:{}`}, stop: "tool_use"},
		"reasoning":         {text: "9.8 is greater.", thinking: "Compare tenths: 1 < 8.", stop: "max_tokens"},
		"usage_cached":      {text: "Hi", stop: "end_turn", in: 86, out: 300, cache: 1920},
		"usage_every_chunk": {text: "AB", stop: "end_turn", in: 50, out: 2},
		"no_finish":         {text: "cut", stop: "end_turn"},
	}
	files, _ := filepath.Glob("testdata/stream/*.out.jsonl")
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".out.jsonl")
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var m anthropic.Message
		var failed bool
		for _, line := range bytes.Split(b, []byte("\n")) {
			if len(line) == 0 || string(line) == "EOF" {
				continue
			}
			if bytes.HasPrefix(line, []byte("ERROR ")) {
				var e anthropic.ErrorResponse
				if err := json.Unmarshal(line[6:], &e); err != nil || e.Type != "error" || e.Error.Type == "" || e.Error.Message == "" {
					t.Errorf("%s: error event %s: %v", name, line, err)
				}
				failed = true
				continue
			}
			var ev anthropic.MessageStreamEventUnion
			if err := json.Unmarshal(line, &ev); err != nil {
				t.Fatalf("%s: %v: %s", name, err, line)
			}
			if err := m.Accumulate(ev); err != nil {
				t.Fatalf("%s: accumulate %s: %v", name, line, err)
			}
		}
		w, ok := want[name]
		if failed {
			continue
		}
		if !ok {
			t.Errorf("%s: no expectation", name)
			continue
		}
		checkMessage(t, name, &m)
		var text, thinking string
		var tools []string
		for _, c := range m.Content {
			switch c.Type {
			case "text":
				text += c.Text
			case "thinking":
				thinking += c.Thinking
			case "tool_use":
				tools = append(tools, c.Name+":"+string(c.Input))
			}
		}
		if text != w.text || thinking != w.thinking || strings.Join(tools, "|") != strings.Join(w.tools, "|") || m.StopReason != w.stop {
			t.Errorf("%s: accumulated text %q thinking %q tools %q stop %q", name, text, thinking, tools, m.StopReason)
		}
		if m.Usage.InputTokens != w.in || m.Usage.OutputTokens != w.out || m.Usage.CacheReadInputTokens != w.cache {
			t.Errorf("%s: usage %+v", name, m.Usage)
		}
	}
}

// TestSDKRequests: requests the anthropic SDK builds translate, and the
// chat requests decode with openai-go.
func TestSDKRequests(t *testing.T) {
	t.Parallel()
	weather := anthropic.ToolParam{Name: "get_weather", Description: anthropic.String("Weather by city"),
		InputSchema: anthropic.ToolInputSchemaParam{Properties: map[string]any{"city": map[string]any{"type": "string"}}, Required: []string{"city"}}}
	params := anthropic.MessageNewParams{
		Model:     "claude-sonnet-4-5",
		MaxTokens: 8000,
		System: []anthropic.TextBlockParam{{Text: "You are helpful.", CacheControl: anthropic.NewCacheControlEphemeralParam()},
			{Text: "Be brief."}},
		Messages: []anthropic.MessageParam{
			anthropic.NewUserMessage(anthropic.NewTextBlock("Weather in Paris? Also, this image:"),
				anthropic.NewImageBlockBase64("image/png", "iVBORw0KGgo="),
				anthropic.NewImageBlock(anthropic.URLImageSourceParam{URL: "https://example.com/a.png"})),
			anthropic.NewAssistantMessage(anthropic.NewTextBlock("Checking."),
				anthropic.NewToolUseBlock("toolu_1", map[string]any{"city": "Paris"}, "get_weather")),
			anthropic.NewUserMessage(anthropic.NewToolResultBlock("toolu_1", "18C and sunny", false),
				anthropic.NewTextBlock("And tomorrow?")),
		},
		Tools:         []anthropic.ToolUnionParam{{OfTool: &weather}},
		ToolChoice:    anthropic.ToolChoiceUnionParam{OfAny: &anthropic.ToolChoiceAnyParam{DisableParallelToolUse: anthropic.Bool(true)}},
		Thinking:      anthropic.ThinkingConfigParamOfEnabled(2048),
		StopSequences: []string{"STOP"},
		Metadata:      anthropic.MetadataParam{UserID: anthropic.String("u-1")},
	}
	body, err := json.Marshal(params)
	if err != nil {
		t.Fatal(err)
	}
	chat, stream, werr := RequestToChat(body)
	if werr != nil {
		t.Fatalf("%v\n%s", werr, body)
	}
	if stream {
		t.Error("stream")
	}
	var p openai.ChatCompletionNewParams
	if err := json.Unmarshal(chat, &p); err != nil {
		t.Fatalf("%v: %s", err, chat)
	}
	roles := []string{}
	for _, m := range p.Messages {
		roles = append(roles, *m.GetRole())
	}
	if strings.Join(roles, ",") != "system,user,assistant,tool,user" {
		t.Errorf("roles %v: %s", roles, chat)
	}
	if p.Model != "claude-sonnet-4-5" || p.MaxCompletionTokens.Value != 8000 || p.ReasoningEffort != "medium" ||
		p.ToolChoice.OfAuto.Value != "required" || p.ParallelToolCalls.Value || len(p.Tools) != 1 ||
		p.User.Value != "u-1" {
		t.Errorf("chat request: %s", chat)
	}
	a := p.Messages[2].OfAssistant
	if a == nil || len(a.ToolCalls) != 1 || a.ToolCalls[0].OfFunction.Function.Arguments != `{"city":"Paris"}` {
		t.Errorf("assistant: %s", chat)
	}
}
