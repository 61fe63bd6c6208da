package bedrock

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

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
	seeds(f, "request/*.json")
	f.Add([]byte(`{"messages":[{"role":"user","content":"\u2028x\ud800"}],"stop":"\u0000"}`))
	f.Add([]byte(`{"messages":[{"role":"assistant","tool_calls":[{"id":"é","function":{"name":"f","arguments":"{\"a\":[1, 2]}"}}]}],"tool_choice":"none"}`))
	f.Add([]byte(`{"messages":[{"role":"tool","tool_call_id":"x","content":[{"type":"text","text":"r"}]}],"response_format":{"type":"json_object"},"max_tokens":1e400}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, model := range []string{"anthropic.claude-3-haiku-20240307-v1:0", "openai.gpt-oss-120b-1:0", "meta.llama3-70b"} {
			out, _, err := translateRequest(body, model)
			if err != nil {
				if err.Status != 400 || err.Message == "" {
					t.Fatalf("error %+v", err)
				}
				continue
			}
			if !json.Valid(out) {
				t.Fatalf("invalid JSON out of %q:\n%s", body, out)
			}
		}
	})
}

// FuzzTranslateResponse: any answer translates to valid JSON or is
// reported as not a Converse answer.
func FuzzTranslateResponse(f *testing.F) {
	seeds(f, "response/*[^t].json")
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, jsonMode := range []bool{false, true} {
			out, why := translateResponse(body, reqInfo{model: "m", jsonMode: jsonMode}, "id", 1)
			if why == "" && !json.Valid(out) {
				t.Fatalf("invalid JSON out of %q:\n%s", body, out)
			}
		}
	})
}

// FuzzStream: any byte stream decodes to valid chunks and ends with EOF
// or a *wire.Error; never a panic.
func FuzzStream(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "stream", "*[^t].json"))
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			fr := frames(f, b)
			f.Add(fr)
			f.Add(fr[:len(fr)/2])
			g := bytes.Clone(fr)
			g[len(g)/3] ^= 0x5a
			f.Add(g)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		s := testStream(body, reqInfo{model: "m", includeUsage: true, jsonMode: len(body)%2 == 0})
		defer s.Close()
		for range 10000 {
			_ = s.Ready()
			c, err := s.Next()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					if _, ok := errors.AsType[*wire.Error](err); !ok {
						t.Fatalf("error %T %v", err, err)
					}
				}
				return
			}
			if !json.Valid(c) {
				t.Fatalf("invalid chunk %s", c)
			}
		}
		t.Fatal("the stream did not end")
	})
}
