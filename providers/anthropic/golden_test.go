package anthropic

import (
	"bytes"
	"encoding/json"
	"errors"
	"github.com/llmgateway/gateway/internal/goldenfile"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/llmgateway/gateway/configs"
	"github.com/llmgateway/gateway/internal/fakeanthropic"
	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/providers/registry"
	"github.com/llmgateway/gateway/wire"
)

const testCreated = 1700000000

func golden(t *testing.T, path string, got []byte) { t.Helper(); goldenfile.Check(t, path, got) }

func indent(t *testing.T, b []byte) []byte { t.Helper(); return goldenfile.Indent(t, b) }

func inputs(t *testing.T, dir, ext string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*"+ext))
	if err != nil || len(files) == 0 {
		t.Fatalf("no inputs in testdata/%s: %v", dir, err)
	}
	var out []string
	for _, f := range files {
		if !strings.HasSuffix(f, ".out.json") {
			out = append(out, f)
		}
	}
	return out
}

// TestRequestGolden: every testdata/request/X.json translates to
// X.out.json.
func TestRequestGolden(t *testing.T) {
	t.Parallel()
	for _, in := range inputs(t, "request", ".json") {
		t.Run(filepath.Base(in), func(t *testing.T) {
			t.Parallel()
			body, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			out, info, werr := translateRequest(body, strings.Contains(in, "stream"))
			if werr != nil {
				t.Fatalf("translateRequest: %v", werr)
			}
			got := indent(t, out)
			got = append(got, "// info: "+strconv.Quote(strings.TrimSpace(
				"includeUsage="+strconv.FormatBool(info.includeUsage)+" jsonMode="+strconv.FormatBool(info.jsonMode)))+"\n"...)
			golden(t, strings.TrimSuffix(in, ".json")+".out.json", got)
		})
	}
}

// TestResponseGolden: every testdata/response/X.json translates to
// X.out.json; json_mode* files as answers to a response_format request.
func TestResponseGolden(t *testing.T) {
	t.Parallel()
	for _, in := range inputs(t, "response", ".json") {
		t.Run(filepath.Base(in), func(t *testing.T) {
			t.Parallel()
			body, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			info := reqInfo{jsonMode: strings.HasPrefix(filepath.Base(in), "json_mode")}
			out, why := translateResponse(body, info, testCreated)
			if why != "" {
				t.Fatalf("translateResponse: %s", why)
			}
			golden(t, strings.TrimSuffix(in, ".json")+".out.json", indent(t, out))
		})
	}
}

// translateSSE runs an Anthropic event stream (SSE text) through the
// chat stream; the result is one chunk per line, then EOF or the error.
func translateSSE(sse []byte, info reqInfo) []byte {
	up := providers.NewSSEStream(bytes.NewReader(sse), nil, nil)
	s := &chatStream{up: up, st: newStreamState(info, "claude-test", testCreated)}
	defer s.Close()
	var out []byte
	for range 100000 {
		chunk, err := s.Next()
		if errors.Is(err, io.EOF) {
			return append(out, "EOF\n"...)
		}
		if err != nil {
			if we, ok := errors.AsType[*wire.Error](err); ok {
				return append(out, "ERROR "+strconv.Itoa(we.Status)+" "+we.Type+": "+we.Message+"\n"...)
			}
			return append(out, "ERROR "+err.Error()+"\n"...)
		}
		out = append(out, chunk...)
		out = append(out, '\n')
	}
	return append(out, "TOO MANY CHUNKS\n"...)
}

// TestStreamGolden: every testdata/stream/X.sse translates to X.out
// (include_usage for *_usage*, response_format for json_mode*).
func TestStreamGolden(t *testing.T) {
	t.Parallel()
	for _, in := range inputs(t, "stream", ".sse") {
		t.Run(filepath.Base(in), func(t *testing.T) {
			t.Parallel()
			sse, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			name := filepath.Base(in)
			info := reqInfo{includeUsage: strings.Contains(name, "_usage"), jsonMode: strings.HasPrefix(name, "json_mode")}
			got := translateSSE(sse, info)
			for _, line := range bytes.Split(bytes.TrimSpace(got), []byte("\n")) {
				if line[0] == '{' && !json.Valid(line) {
					t.Errorf("chunk is not valid JSON: %s", line)
				}
			}
			golden(t, strings.TrimSuffix(in, ".sse")+".out", got)
		})
	}
}

// TestRequestErrors: requests Anthropic cannot serve are a 400 naming
// what to change.
func TestRequestErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ body, want string }{
		{`{"model":"m","n":2,"messages":[{"role":"user","content":"x"}]}`, "Anthropic supports n=1"},
		{`not json`, "not valid JSON"},
		{`[]`, "must be a JSON object"},
		{`{"messages":[{"role":"user","content":"x"}]}`, "model is required"},
		{`{"model":"m"}`, "messages is required"},
		{`{"model":"m","messages":[]}`, "at least one user or assistant message"},
		{`{"model":"m","messages":[{"role":"system","content":"only system"}]}`, "at least one user or assistant message"},
		{`{"model":"m","max_tokens":0,"messages":[{"role":"user","content":"x"}]}`, "max_tokens must be a positive integer"},
		{`{"model":"m","max_completion_tokens":1.5,"messages":[{"role":"user","content":"x"}]}`, "max_completion_tokens must be a positive integer"},
		{`{"model":"m","reasoning_effort":"extreme","messages":[{"role":"user","content":"x"}]}`, "reasoning_effort"},
		{`{"model":"m","temperature":"hot","messages":[{"role":"user","content":"x"}]}`, "temperature must be a number"},
		{`{"model":"m","stop":[1],"messages":[{"role":"user","content":"x"}]}`, "stop must be"},
		{`{"model":"m","tools":[{"type":"function","function":{}}],"messages":[{"role":"user","content":"x"}]}`, "function.name is required"},
		{`{"model":"m","tools":[{"type":"code_interpreter"}],"messages":[{"role":"user","content":"x"}]}`, "use function tools"},
		{`{"model":"m","tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"sometimes","messages":[{"role":"user","content":"x"}]}`, "tool_choice"},
		{`{"model":"m","messages":[{"role":"function","name":"f","content":"x"}]}`, "send tool messages"},
		{`{"model":"m","messages":[{"role":"robot","content":"x"}]}`, "must be system, developer"},
		{`{"model":"m","messages":[{"role":"tool","content":"x"}]}`, "tool_call_id"},
		{`{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"a","function":{"name":"f","arguments":"[1]"}}]}]}`, "not a JSON object"},
		{`{"model":"m","messages":[{"role":"assistant","tool_calls":[{"function":{"name":"f"}}]}]}`, "needs an id"},
		{`{"model":"m","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{}}]}]}`, "do not take audio"},
		{`{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/bmp;base64,AA"}}]}]}`, "image/bmp"},
		{`{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"ftp://x"}}]}]}`, "neither a data URL"},
		{`{"model":"m","messages":[{"role":"user","content":[{"type":"file","file":{"file_id":"file-1"}}]}]}`, "file ids are not supported"},
		{`{"model":"m","messages":[{"role":"user","content":[{"type":"video"}]}]}`, "\"video\""},
		{`{"model":"m","messages":[{"role":"user","content":42}]}`, "must be a string or an array"},
	} {
		_, _, err := translateRequest([]byte(c.body), false)
		if err == nil || err.Status != 400 || !strings.Contains(err.Message, c.want) {
			t.Errorf("%s: error %v, want a 400 containing %q", c.body, err, c.want)
		}
	}
}

// TestFinishReasons: every stop_reason maps as documented.
func TestFinishReasons(t *testing.T) {
	t.Parallel()
	for stop, want := range map[string]string{"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length",
		"tool_use": "tool_calls", "refusal": "content_filter", "pause_turn": "stop", "": "stop"} {
		body := `{"id":"m","type":"message","model":"c","content":[{"type":"text","text":"x"}],"stop_reason":"` + stop + `","usage":{}}`
		out, why := translateResponse([]byte(body), reqInfo{}, 1)
		if why != "" {
			t.Fatal(why)
		}
		var got struct {
			Choices []struct {
				FinishReason string `json:"finish_reason"`
			} `json:"choices"`
		}
		if err := json.Unmarshal(out, &got); err != nil || len(got.Choices) != 1 || got.Choices[0].FinishReason != want {
			t.Errorf("stop_reason %q: %s, want finish_reason %q", stop, out, want)
		}
	}
}

// TestResponseNotAMessage: a 200 that is no Messages answer says what it is.
func TestResponseNotAMessage(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]string{
		"<html>":                                "not JSON",
		`{"type":"error","error":{"type":"x"}}`: "error object",
		`{"choices":[]}`:                        "not an Anthropic message",
	} {
		if _, why := translateResponse([]byte(body), reqInfo{}, 1); !strings.Contains(why, want) {
			t.Errorf("%s: why %q, want %q", body, why, want)
		}
	}
}

func TestMaxOutputTokens(t *testing.T) {
	t.Parallel()
	for model, want := range map[string]int{"claude-opus-4-1-20250805": 32000, "claude-opus-4-20250514": 32000,
		"claude-sonnet-4-5-20250929": 64000, "claude-3-5-haiku-latest": 8192, "claude-3-haiku-20240307": 4096,
		"claude-opus-4-6": 128000, "gpt-4o": FallbackMaxTokens} {
		if got := MaxOutputTokens(model); got != want {
			t.Errorf("MaxOutputTokens(%q) = %d, want %d", model, got, want)
		}
	}
}

// TestGoldenRequestsAcceptedByFake: every translated request passes the
// fake's validation of the real API's rules.
func TestGoldenRequestsAcceptedByFake(t *testing.T) {
	t.Parallel()
	const key = "sk-ant-golden-key"
	up := fakeanthropic.Start(t, fakeanthropic.Options{APIKey: key})
	p := New(providers.NewClient()).(*Provider)
	d := &configs.Deployment{ModelName: "claude", Provider: "anthropic", APIKey: key,
		LiteLLMParams: configs.LiteLLMParams{APIBase: up.URL}}
	for _, in := range inputs(t, "request", ".json") {
		body, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		out, _, werr := translateRequest(body, false)
		if werr != nil {
			t.Fatal(werr)
		}
		_, err = p.Forward(&providers.Call{Deployment: d, Endpoint: registry.EndpointMessages, Body: out})
		if err != nil {
			t.Errorf("%s: the fake Anthropic refuses the translation: %v", in, err)
		}
	}
}
