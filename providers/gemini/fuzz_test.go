package gemini

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/wire"
)

func seeds(f *testing.F, pattern string) {
	files, _ := filepath.Glob(filepath.Join("testdata", pattern))
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
}

// FuzzTranslateRequest: any body either translates to valid JSON or is
// refused with a 400; never a panic.
func FuzzTranslateRequest(f *testing.F) {
	seeds(f, "request/*[^t].json")
	seeds(f, "request_error/*.json")
	f.Add([]byte(`{"model":"m","messages":[{"role":"user","content":"\u2028x\ud800"}],"stop":"\u0000"}`))
	f.Add([]byte(`{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"a":{"$ref":"#/$defs/A"}},"$defs":{"A":{"$ref":"#/$defs/A"}}}}}]}`))
	f.Add([]byte(`{"messages":[{"role":"assistant","tool_calls":[{"id":"é__thought__x","function":{"name":"f","arguments":"{\"a\":[1, 2]}"}}]},{"role":"tool","tool_call_id":"é__thought__x","content":{"a":1}}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, model := range []string{"gemini-2.5-flash", "gemini-1.5-pro", "gemini-3-pro-preview"} {
			out, _, err := translateRequest(body, model, true)
			if err != nil {
				if err.Status != 400 || err.Message == "" {
					t.Fatalf("error %+v", err)
				}
				continue
			}
			if !json.Valid(out) {
				t.Fatalf("invalid JSON out of %s:\n%s", body, out)
			}
		}
	})
}

// FuzzTranslateResponse: any answer body translates to valid JSON or is
// reported as untranslatable; never a panic.
func FuzzTranslateResponse(f *testing.F) {
	seeds(f, "response/*[^t].json")
	f.Add([]byte(`{"candidates":[{"content":{"parts":[{"functionCall":{"name":1,"args":"x"}},{"text":5}]},"index":"a"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		out, why := translateResponse(body, reqInfo{model: "m"}, 1)
		if why == "" && !json.Valid(out) {
			t.Fatalf("invalid JSON out of %s:\n%s", body, out)
		}
	})
}

// FuzzStream: any event stream gives valid JSON chunks, then EOF or a
// *wire.Error; never a panic.
func FuzzStream(f *testing.F) {
	seeds(f, "stream/*.sse")
	f.Add([]byte("data: {\"candidates\":[{\"index\":-5,\"finishReason\":\"STOP\"}]}\n\n"))
	f.Add([]byte("data: {\"error\":{\"code\":\"x\"}}\n\n"))
	f.Fuzz(func(t *testing.T, sse []byte) {
		up := providers.NewSSEStream(bytes.NewReader(sse), nil, nil)
		s := newChatStream(up, reqInfo{model: "m", includeUsage: true}, "m")
		defer s.Close()
		for range 10000 {
			chunk, err := s.Next()
			if err != nil {
				if errors.Is(err, io.EOF) {
					return
				}
				if _, ok := errors.AsType[*wire.Error](err); !ok && !bytes.Contains(sse, []byte("data")) {
					return
				}
				return
			}
			if !json.Valid(chunk) {
				t.Fatalf("invalid chunk %s from %q", chunk, sse)
			}
		}
	})
}

// FuzzEmbed: embeddings requests and answers never panic and give valid
// JSON.
func FuzzEmbed(f *testing.F) {
	seeds(f, "embed/*[^t].json")
	f.Fuzz(func(t *testing.T, body []byte) {
		if out, _, err := translateEmbedRequest(body, "m"); err == nil && !json.Valid(out) {
			t.Fatalf("invalid request out of %s:\n%s", body, out)
		}
		for _, b64 := range []bool{false, true} {
			if out, why := translateEmbedResponse(body, embedInfo{model: "m", base64: b64}); why == "" && !json.Valid(out) {
				t.Fatalf("invalid answer out of %s:\n%s", body, out)
			}
		}
	})
}
