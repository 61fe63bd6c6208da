package bridge

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/tidwall/gjson"
	"github.com/valyala/fasthttp"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/providers/internal/fakeupstream"
	"github.com/llmgateway/gateway/providers/mock"
	"github.com/llmgateway/gateway/providers/openai"
	"github.com/llmgateway/gateway/wire"
)

// checkChatRequest validates a chat request as OpenAI's API does, for the
// rules a translation could break; "" when OpenAI would take it.
func checkChatRequest(body []byte) string {
	if !gjson.ValidBytes(body) {
		return "not JSON"
	}
	r := gjson.ParseBytes(body)
	if r.Get("model").String() == "" {
		return "you must provide a model parameter"
	}
	msgs := r.Get("messages").Array()
	if len(msgs) == 0 {
		return "'messages' must contain at least 1 item"
	}
	if r.Get("max_tokens").Exists() && r.Get("max_completion_tokens").Exists() {
		return "max_tokens and max_completion_tokens cannot both be set"
	}
	if r.Get("reasoning_effort").Exists() && r.Get("max_tokens").Exists() {
		return "'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead."
	}
	if e := r.Get("reasoning_effort"); e.Exists() && !strings.Contains(" minimal low medium high ", " "+e.String()+" ") {
		return "invalid reasoning_effort " + e.Raw
	}
	tools := r.Get("tools").Array()
	if r.Get("tool_choice").Exists() && len(tools) == 0 {
		return "'tool_choice' is only allowed when 'tools' are specified"
	}
	if r.Get("parallel_tool_calls").Exists() && len(tools) == 0 {
		return "'parallel_tool_calls' is only allowed when 'tools' are specified"
	}
	if r.Get("stream_options").Exists() && !r.Get("stream").Bool() {
		return "The 'stream_options' parameter is only allowed when 'stream' is enabled."
	}
	for i, t := range tools {
		if t.Get("type").String() != "function" || t.Get("function.name").String() == "" || !t.Get("function.parameters").IsObject() {
			return fmt.Sprintf("tools[%d] is not a function tool", i)
		}
	}
	if s := r.Get("stop").Array(); len(s) > 4 {
		return "stop: at most 4 sequences"
	}
	pending := map[string]bool{} // tool call ids awaiting their tool message
	for i, m := range msgs {
		role := m.Get("role").String()
		if len(pending) > 0 && role != "tool" {
			return fmt.Sprintf("messages[%d]: an assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'", i)
		}
		c := m.Get("content")
		switch role {
		case "system", "user":
			if c.Type != gjson.String && !c.IsArray() {
				return fmt.Sprintf("messages[%d].content: expected a string or an array", i)
			}
			if !c.IsArray() {
				break
			}
			for j, p := range c.Array() {
				switch p.Get("type").String() {
				case "text":
					if p.Get("text").Type != gjson.String {
						return fmt.Sprintf("messages[%d].content[%d].text missing", i, j)
					}
				case "image_url", "file":
					if role != "user" {
						return fmt.Sprintf("messages[%d].content[%d]: only user messages take images and files", i, j)
					}
				default:
					return fmt.Sprintf("messages[%d].content[%d].type invalid", i, j)
				}
			}
		case "assistant":
			calls := m.Get("tool_calls").Array()
			if c.Type != gjson.String && c.Type != gjson.Null && !c.IsArray() {
				return fmt.Sprintf("messages[%d].content invalid", i)
			}
			if c.Type == gjson.Null && len(calls) == 0 {
				return fmt.Sprintf("messages[%d]: assistant content is required unless tool_calls is set", i)
			}
			for _, tc := range calls {
				args := tc.Get("function.arguments")
				if tc.Get("id").String() == "" || tc.Get("type").String() != "function" || args.Type != gjson.String {
					return fmt.Sprintf("messages[%d].tool_calls invalid", i)
				}
				pending[tc.Get("id").String()] = true
			}
		case "tool":
			id := m.Get("tool_call_id").String()
			if !pending[id] {
				return fmt.Sprintf("messages[%d]: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'", i)
			}
			delete(pending, id)
			if c.Type != gjson.String {
				return fmt.Sprintf("messages[%d].content must be a string", i)
			}
		default:
			return fmt.Sprintf("messages[%d].role invalid", i)
		}
	}
	if len(pending) > 0 {
		return "tool calls without responses"
	}
	return ""
}

// fakeOpenAI is a chat upstream that refuses what OpenAI would refuse and
// answers a completion, or a stream when asked.
func fakeOpenAI(t *testing.T) *fakeupstream.Server {
	return fakeupstream.Start(t, func(ctx *fasthttp.RequestCtx) {
		if string(ctx.Path()) != "/v1/chat/completions" || string(ctx.Request.Header.Peek("Authorization")) != "Bearer sk-test" {
			ctx.SetStatusCode(404)
			return
		}
		body := ctx.PostBody()
		if why := checkChatRequest(body); why != "" {
			ctx.SetStatusCode(400)
			ctx.SetContentType("application/json")
			ctx.SetBodyString(`{"error":{"message":` + string(mustJSON(why)) + `,"type":"invalid_request_error","param":null,"code":null}}`)
			return
		}
		if gjson.GetBytes(body, "stream").Bool() {
			ctx.SetContentType("text/event-stream")
			in, _ := os.ReadFile(filepath.Join("testdata", "stream", "tool_calls.in.jsonl"))
			var b strings.Builder
			for _, l := range strings.Split(strings.TrimSpace(string(in)), "\n") {
				b.WriteString("data: " + l + "\n\n")
			}
			b.WriteString("data: [DONE]\n\n")
			ctx.SetBodyString(b.String())
			return
		}
		in, _ := os.ReadFile(filepath.Join("testdata", "response", "tool_calls.in.json"))
		ctx.SetContentType("application/json")
		ctx.SetBody(in)
	})
}

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }

// TestThroughOpenAIProvider: every golden request is one OpenAI would
// take; a request and its stream go through the openai provider to a fake
// OpenAI and come back as Messages the SDK reads.
func TestThroughOpenAIProvider(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("testdata/request/*.out.json")
	for _, f := range files {
		if strings.Contains(f, "/err_") {
			continue
		}
		b, _ := os.ReadFile(f)
		b = []byte(strings.TrimPrefix(string(b), "// stream\n"))
		if why := checkChatRequest(b); why != "" {
			t.Errorf("%s: OpenAI would refuse it: %s", f, why)
		}
	}

	up := fakeOpenAI(t)
	p := openai.New(providers.NewClient())
	dep := &configs.Deployment{ModelName: "claude-sonnet-4-5", Provider: "openai", UpstreamModel: "gpt-4o", APIKey: "sk-test",
		LiteLLMParams: configs.LiteLLMParams{Model: "openai/gpt-4o", APIBase: up.URL + "/v1"}}
	in, _ := os.ReadFile("testdata/request/tool_turns.in.json")
	for _, stream := range []bool{false, true} {
		body := in
		if stream {
			body = []byte(strings.Replace(string(in), `"max_tokens": 1024,`, `"max_tokens": 1024, "stream": true,`, 1))
		}
		chat, isStream, werr := RequestToChat(body)
		if werr != nil || isStream != stream {
			t.Fatalf("%v %v", werr, isStream)
		}
		chat, err := wire.SetModel(chat, "gpt-4o")
		if err != nil {
			t.Fatal(err)
		}
		call := &providers.Call{Deployment: dep, Body: chat, Deadline: time.Now().Add(5 * time.Second)}
		var m anthropic.Message
		if !stream {
			resp, err := p.Complete(call)
			if err != nil {
				t.Fatal(err)
			}
			msg, werr := ResponseFromChat(resp.Body, "claude-sonnet-4-5")
			if werr != nil {
				t.Fatal(werr)
			}
			if err := json.Unmarshal(msg, &m); err != nil {
				t.Fatal(err)
			}
		} else {
			s, err := p.OpenStream(call)
			if err != nil {
				t.Fatal(err)
			}
			es := StreamFromChat(s, "claude-sonnet-4-5")
			for {
				ev, err := es.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				var e anthropic.MessageStreamEventUnion
				if err := json.Unmarshal(ev, &e); err != nil {
					t.Fatal(err)
				}
				if err := m.Accumulate(e); err != nil {
					t.Fatal(err)
				}
			}
			es.Close()
		}
		if m.StopReason != "tool_use" || len(m.Content) != 3 || m.Content[1].Name != "get_weather" && m.Content[1].Name != "get_current_weather" {
			t.Errorf("stream %v: %+v", stream, m)
		}
	}
}

// TestThroughMock: a Messages request answered by the mock provider.
func TestThroughMock(t *testing.T) {
	t.Parallel()
	body := []byte(`{"model":"claude-haiku","max_tokens":100,"system":"Be short.","messages":[{"role":"user","content":[{"type":"text","text":"Hello there"}]}]}`)
	for _, stream := range []bool{false, true} {
		b := body
		if stream {
			b = []byte(strings.Replace(string(body), `"max_tokens":100`, `"max_tokens":100,"stream":true`, 1))
		}
		chat, _, werr := RequestToChat(b)
		if werr != nil {
			t.Fatal(werr)
		}
		call := &providers.Call{Body: chat, Deadline: time.Now().Add(time.Second)}
		var m anthropic.Message
		if !stream {
			resp, err := mock.New().Complete(call)
			if err != nil {
				t.Fatal(err)
			}
			msg, werr := ResponseFromChat(resp.Body, "claude-haiku")
			if werr != nil {
				t.Fatal(werr)
			}
			if err := json.Unmarshal(msg, &m); err != nil {
				t.Fatal(err)
			}
		} else {
			s, err := mock.New().OpenStream(call)
			if err != nil {
				t.Fatal(err)
			}
			es := StreamFromChat(s, "claude-haiku")
			for {
				ev, err := es.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				var e anthropic.MessageStreamEventUnion
				_ = json.Unmarshal(ev, &e)
				if err := m.Accumulate(e); err != nil {
					t.Fatal(err)
				}
			}
		}
		if len(m.Content) != 1 || !strings.Contains(m.Content[0].Text, "Hello there") || m.StopReason != "end_turn" ||
			m.Usage.InputTokens == 0 || m.Usage.OutputTokens == 0 || m.Model != "claude-haiku" {
			t.Errorf("stream %v: %+v", stream, m)
		}
	}
}
