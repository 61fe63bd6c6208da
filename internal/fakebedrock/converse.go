package fakebedrock

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
)

// The Converse request shapes (bedrockruntime's types), decoded with
// unknown fields refused, as Bedrock refuses them.
type converseRequest struct {
	Messages                          []message         `json:"messages"`
	System                            []systemBlock     `json:"system"`
	InferenceConfig                   *inferenceConfig  `json:"inferenceConfig"`
	ToolConfig                        *toolConfig       `json:"toolConfig"`
	GuardrailConfig                   json.RawMessage   `json:"guardrailConfig"`
	AdditionalModelRequestFields      json.RawMessage   `json:"additionalModelRequestFields"`
	AdditionalModelResponseFieldPaths []string          `json:"additionalModelResponseFieldPaths"`
	PromptVariables                   json.RawMessage   `json:"promptVariables"`
	RequestMetadata                   map[string]string `json:"requestMetadata"`
	PerformanceConfig                 json.RawMessage   `json:"performanceConfig"`
}

type message struct {
	Role    string         `json:"role"`
	Content []contentBlock `json:"content"`
}

type contentBlock struct {
	Text             *string          `json:"text"`
	Image            *imageBlock      `json:"image"`
	ToolUse          *toolUse         `json:"toolUse"`
	ToolResult       *toolResult      `json:"toolResult"`
	ReasoningContent *json.RawMessage `json:"reasoningContent"`
	Document         *json.RawMessage `json:"document"`
	CachePoint       *json.RawMessage `json:"cachePoint"`
}

type imageBlock struct {
	Format string `json:"format"`
	Source struct {
		Bytes []byte `json:"bytes"` // base64 in JSON
	} `json:"source"`
}

type toolUse struct {
	ToolUseID string          `json:"toolUseId"`
	Name      string          `json:"name"`
	Input     json.RawMessage `json:"input"`
}

type toolResult struct {
	ToolUseID string `json:"toolUseId"`
	Content   []struct {
		Text  *string          `json:"text"`
		JSON  *json.RawMessage `json:"json"`
		Image *imageBlock      `json:"image"`
	} `json:"content"`
	Status string `json:"status"`
}

type systemBlock struct {
	Text       *string          `json:"text"`
	CachePoint *json.RawMessage `json:"cachePoint"`
}

type inferenceConfig struct {
	MaxTokens     *int     `json:"maxTokens"`
	Temperature   *float64 `json:"temperature"`
	TopP          *float64 `json:"topP"`
	StopSequences []string `json:"stopSequences"`
}

type toolConfig struct {
	Tools []struct {
		ToolSpec *struct {
			Name        string `json:"name"`
			Description string `json:"description"`
			InputSchema struct {
				JSON json.RawMessage `json:"json"`
			} `json:"inputSchema"`
		} `json:"toolSpec"`
		CachePoint *json.RawMessage `json:"cachePoint"`
	} `json:"tools"`
	ToolChoice *struct {
		Auto *struct{} `json:"auto"`
		Any  *struct{} `json:"any"`
		Tool *struct {
			Name string `json:"name"`
		} `json:"tool"`
	} `json:"toolChoice"`
}

var toolName = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// validate checks a Converse request as Bedrock does; the error is the
// ValidationException's message.
func validate(body []byte) (*converseRequest, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var r converseRequest
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("Malformed input request: %v, please reformat your input and try again.", err)
	}
	if len(r.Messages) == 0 {
		return nil, errors.New("A conversation must start with a user message. Try again with a conversation that starts with a user message.")
	}
	tools := map[string]bool{}
	if tc := r.ToolConfig; tc != nil {
		if len(tc.Tools) == 0 {
			return nil, errors.New("1 validation error detected: Value at 'toolConfig.tools' failed to satisfy constraint: Member must have length greater than or equal to 1")
		}
		for i, t := range tc.Tools {
			if t.ToolSpec == nil {
				continue
			}
			if !toolName.MatchString(t.ToolSpec.Name) {
				return nil, fmt.Errorf("Value at 'toolConfig.tools.%d.member.toolSpec.name' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+", i+1)
			}
			var schema map[string]any
			if json.Unmarshal(t.ToolSpec.InputSchema.JSON, &schema) != nil {
				return nil, errors.New("The value at toolConfig.tools." + fmt.Sprint(i) + ".toolSpec.inputSchema.json must be a JSON object")
			}
			tools[t.ToolSpec.Name] = true
		}
		if c := tc.ToolChoice; c != nil {
			n := 0
			for _, set := range []bool{c.Auto != nil, c.Any != nil, c.Tool != nil} {
				if set {
					n++
				}
			}
			if n != 1 {
				return nil, errors.New("toolChoice must set exactly one of auto, any and tool")
			}
			if c.Tool != nil && !tools[c.Tool.Name] {
				return nil, errors.New("The tool named in toolChoice is not defined in toolConfig.tools")
			}
		}
	}
	for i, b := range r.System {
		if b.Text != nil && strings.TrimSpace(*b.Text) == "" {
			return nil, fmt.Errorf("The text field in the SystemContentBlock object at system.%d is blank. Add text to the text field, and try again.", i)
		}
	}
	if ic := r.InferenceConfig; ic != nil {
		if ic.MaxTokens != nil && *ic.MaxTokens < 1 {
			return nil, errors.New("1 validation error detected: Value at 'inferenceConfig.maxTokens' failed to satisfy constraint: Member must have value greater than or equal to 1")
		}
		if ic.Temperature != nil && (*ic.Temperature < 0 || *ic.Temperature > 1) {
			return nil, errors.New("1 validation error detected: Value at 'inferenceConfig.temperature' failed to satisfy constraint: Member must have value less than or equal to 1")
		}
		if ic.TopP != nil && (*ic.TopP < 0 || *ic.TopP > 1) {
			return nil, errors.New("1 validation error detected: Value at 'inferenceConfig.topP' failed to satisfy constraint: Member must have value less than or equal to 1")
		}
		if len(ic.StopSequences) > 4 {
			return nil, errors.New("stopSequences holds more than 4 sequences")
		}
	}
	prevToolUses := map[string]bool{}
	for i, m := range r.Messages {
		want := "user"
		if i%2 == 1 {
			want = "assistant"
		}
		if m.Role != want {
			if i == 0 {
				return nil, errors.New("A conversation must start with a user message. Try again with a conversation that starts with a user message.")
			}
			return nil, errors.New("A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.")
		}
		if len(m.Content) == 0 {
			return nil, fmt.Errorf("The content field in the Message object at messages.%d is empty. Add a ContentBlock object to the content field and try again.", i)
		}
		uses := map[string]bool{}
		for j, c := range m.Content {
			n := 0
			for _, set := range []bool{c.Text != nil, c.Image != nil, c.ToolUse != nil, c.ToolResult != nil, c.ReasoningContent != nil, c.Document != nil, c.CachePoint != nil} {
				if set {
					n++
				}
			}
			if n != 1 {
				return nil, fmt.Errorf("messages.%d.content.%d must set exactly one member", i, j)
			}
			switch {
			case c.Text != nil:
				if strings.TrimSpace(*c.Text) == "" {
					return nil, fmt.Errorf("The text field in the ContentBlock object at messages.%d.content.%d is blank. Add text to the text field, and try again.", i, j)
				}
			case c.Image != nil:
				switch c.Image.Format {
				case "png", "jpeg", "gif", "webp":
				default:
					return nil, fmt.Errorf("messages.%d.content.%d.image.format must be png, jpeg, gif or webp", i, j)
				}
				if len(c.Image.Source.Bytes) == 0 {
					return nil, fmt.Errorf("messages.%d.content.%d.image.source.bytes is empty", i, j)
				}
			case c.ToolUse != nil:
				if m.Role != "assistant" {
					return nil, errors.New("toolUse blocks are allowed in assistant messages only")
				}
				var in map[string]any
				if c.ToolUse.ToolUseID == "" || c.ToolUse.Name == "" || json.Unmarshal(c.ToolUse.Input, &in) != nil {
					return nil, fmt.Errorf("messages.%d.content.%d.toolUse needs toolUseId, name and an object input", i, j)
				}
				if r.ToolConfig == nil {
					return nil, errors.New("The toolConfig field must be defined when using toolUse and toolResult content blocks.")
				}
				uses[c.ToolUse.ToolUseID] = true
			case c.ToolResult != nil:
				if m.Role != "user" {
					return nil, errors.New("toolResult blocks are allowed in user messages only")
				}
				if r.ToolConfig == nil {
					return nil, errors.New("The toolConfig field must be defined when using toolUse and toolResult content blocks.")
				}
				if !prevToolUses[c.ToolResult.ToolUseID] {
					return nil, fmt.Errorf("messages.%d.content.%d: the toolResult's toolUseId %q matches no toolUse block of the previous turn", i, j, c.ToolResult.ToolUseID)
				}
				delete(prevToolUses, c.ToolResult.ToolUseID)
			}
		}
		if m.Role == "user" && len(prevToolUses) > 0 {
			return nil, errors.New("Expected toolResult blocks at messages." + fmt.Sprint(i) + ".content for the following Ids: " + strings.Join(keys(prevToolUses), ", "))
		}
		prevToolUses = uses
	}
	if r.Messages[len(r.Messages)-1].Role != "user" {
		// Bedrock accepts a final assistant turn as a prefill for some
		// models; the fake answers it like a user turn.
		_ = 0
	}
	return &r, nil
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// answer is what the fake model says: text, an optional tool call and
// reasoning.
type answer struct {
	reasoning string
	text      string
	tool      *toolUse
	stop      string
	in, out   int
	cacheRead int
}

// respond decides the answer: a named or required tool is called (with
// {"city":"Paris"}), as is any tool when the last user text mentions the
// weather; a tool result is answered with its text; thinking adds
// reasoning; max tokens of 1 stops at "length".
func respond(r *converseRequest) answer {
	last := r.Messages[len(r.Messages)-1]
	var text, result string
	for _, c := range last.Content {
		if c.Text != nil {
			text += *c.Text
		}
		if c.ToolResult != nil {
			for _, rc := range c.ToolResult.Content {
				if rc.Text != nil {
					result += *rc.Text
				}
			}
		}
	}
	a := answer{stop: "end_turn", out: 5}
	for _, m := range r.Messages {
		for _, c := range m.Content {
			if c.Text != nil {
				a.in += len(strings.Fields(*c.Text))
			}
		}
	}
	for _, s := range r.System {
		if s.Text != nil {
			a.in += len(strings.Fields(*s.Text))
		}
	}
	a.in += 3
	if strings.Contains(text, "cached") {
		a.cacheRead = 100
	}
	if f := r.AdditionalModelRequestFields; len(f) > 0 && bytes.Contains(f, []byte(`"thinking"`)) {
		a.reasoning = "Let me think about this."
	}
	var call string
	if tc := r.ToolConfig; tc != nil && result == "" {
		switch {
		case tc.ToolChoice != nil && tc.ToolChoice.Tool != nil:
			call = tc.ToolChoice.Tool.Name
		case tc.ToolChoice != nil && tc.ToolChoice.Any != nil, strings.Contains(strings.ToLower(text), "weather"):
			for _, t := range tc.Tools {
				if t.ToolSpec != nil {
					call = t.ToolSpec.Name
					break
				}
			}
		}
	}
	switch {
	case call == "json_tool_call":
		a.tool = &toolUse{ToolUseID: "tooluse_" + newID()[:22], Name: call, Input: json.RawMessage(`{"answer":"ok"}`)}
		a.stop = "tool_use"
	case call != "":
		a.text = "Let me check."
		a.tool = &toolUse{ToolUseID: "tooluse_" + newID()[:22], Name: call, Input: json.RawMessage(`{"city":"Paris"}`)}
		a.stop = "tool_use"
	case result != "":
		a.text = "The tool said: " + result
	default:
		a.text = "Hello from Bedrock! You said: " + text
	}
	if ic := r.InferenceConfig; ic != nil && ic.MaxTokens != nil && *ic.MaxTokens == 1 {
		a.text, a.tool, a.stop, a.out = "Hello", nil, "max_tokens", 1
	}
	return a
}

func (s *Server) converse(w http.ResponseWriter, model string, body []byte, stream bool, fail *Failure) {
	r, err := validate(body)
	if err != nil {
		awsError(w, 400, "ValidationException", err.Error(), 0)
		return
	}
	_ = model
	a := respond(r)
	usage := map[string]int{"inputTokens": a.in, "outputTokens": a.out, "totalTokens": a.in + a.out + a.cacheRead}
	if a.cacheRead > 0 {
		usage["cacheReadInputTokens"] = a.cacheRead
		usage["cacheWriteInputTokens"] = 0
	}
	if !stream {
		var content []map[string]any
		if a.reasoning != "" {
			content = append(content, map[string]any{"reasoningContent": map[string]any{"reasoningText": map[string]string{"text": a.reasoning, "signature": "sig"}}})
		}
		if a.text != "" {
			content = append(content, map[string]any{"text": a.text})
		}
		if a.tool != nil {
			content = append(content, map[string]any{"toolUse": a.tool})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"output":     map[string]any{"message": map[string]any{"role": "assistant", "content": content}},
			"stopReason": a.stop,
			"usage":      usage,
			"metrics":    map[string]int{"latencyMs": 42},
		})
		return
	}
	w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
	w.WriteHeader(200)
	enc := eventstream.NewEncoder()
	fl, _ := w.(http.Flusher)
	flush := func() {
		if fl != nil {
			fl.Flush()
		}
	}
	_ = writeEvent(w, enc, "messageStart", map[string]any{"p": "abcdefgh", "role": "assistant"})
	idx := 0
	if a.reasoning != "" {
		_ = writeEvent(w, enc, "contentBlockDelta", map[string]any{"contentBlockIndex": idx, "delta": map[string]any{"reasoningContent": map[string]string{"text": a.reasoning}}})
		_ = writeEvent(w, enc, "contentBlockDelta", map[string]any{"contentBlockIndex": idx, "delta": map[string]any{"reasoningContent": map[string]string{"signature": "sig"}}})
		_ = writeEvent(w, enc, "contentBlockStop", map[string]any{"contentBlockIndex": idx})
		idx++
	}
	if a.text != "" {
		words := strings.SplitAfter(a.text, " ")
		for i, piece := range words {
			_ = writeEvent(w, enc, "contentBlockDelta", map[string]any{"contentBlockIndex": idx, "delta": map[string]string{"text": piece}, "p": "xyz"})
			flush()
			if i == 0 && fail != nil {
				_ = writeException(w, enc, fail.Type, fail.Message)
				flush()
				return
			}
		}
		_ = writeEvent(w, enc, "contentBlockStop", map[string]any{"contentBlockIndex": idx})
		idx++
	}
	if a.tool != nil {
		_ = writeEvent(w, enc, "contentBlockStart", map[string]any{"contentBlockIndex": idx, "start": map[string]any{"toolUse": map[string]string{"toolUseId": a.tool.ToolUseID, "name": a.tool.Name}}})
		in := string(a.tool.Input)
		half := len(in) / 2
		_ = writeEvent(w, enc, "contentBlockDelta", map[string]any{"contentBlockIndex": idx, "delta": map[string]any{"toolUse": map[string]string{"input": in[:half]}}})
		_ = writeEvent(w, enc, "contentBlockDelta", map[string]any{"contentBlockIndex": idx, "delta": map[string]any{"toolUse": map[string]string{"input": in[half:]}}})
		_ = writeEvent(w, enc, "contentBlockStop", map[string]any{"contentBlockIndex": idx})
	}
	_ = writeEvent(w, enc, "messageStop", map[string]any{"stopReason": a.stop})
	_ = writeEvent(w, enc, "metadata", map[string]any{"usage": usage, "metrics": map[string]int{"latencyMs": 42}})
	flush()
}
