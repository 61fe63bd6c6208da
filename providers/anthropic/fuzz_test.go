package anthropic

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
	f.Add([]byte(`{"model":"m","messages":[{"role":"user","content":"\u2028x\ud800"}],"stop":"\u0000"}`))
	f.Add([]byte(`{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"é","function":{"name":"f","arguments":"{\"a\":[1, 2]}"}}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, stream := range []bool{false, true} {
			out, _, err := translateRequest(body, stream)
			if err != nil {
				if err.Status != 400 || err.Message == "" {
					t.Fatalf("error %+v", err)
				}
				continue
			}
			if !json.Valid(out) {
				t.Fatalf("invalid JSON for %q:\n%s", body, out)
			}
		}
	})
}

// FuzzTranslateResponse: any answer translates to valid JSON or is
// reported as no message.
func FuzzTranslateResponse(f *testing.F) {
	seeds(f, "response/*[^t].json")
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, jsonMode := range []bool{false, true} {
			out, why := translateResponse(body, reqInfo{jsonMode: jsonMode}, 1)
			if why == "" && !json.Valid(out) {
				t.Fatalf("invalid JSON for %q:\n%s", body, out)
			}
		}
	})
}

// FuzzStream: any upstream event stream yields valid one-line JSON
// chunks and ends with io.EOF or a *wire.Error; never a panic.
func FuzzStream(f *testing.F) {
	seeds(f, "stream/*.sse")
	f.Add([]byte("data: {\"type\":\"content_block_delta\",\"index\":99999999,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"x\"}}\n\n"))
	f.Add([]byte("data: {\"type\":\"content_block_start\",\"index\":-1,\"content_block\":{\"type\":\"tool_use\"}}\n\n"))
	f.Fuzz(func(t *testing.T, sse []byte) {
		for _, info := range []reqInfo{{}, {includeUsage: true, jsonMode: true}} {
			s := &chatStream{up: providers.NewSSEStream(bytes.NewReader(sse), nil, asWireError), st: newStreamState(info, "m", 1)}
			for range 100000 {
				chunk, err := s.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					if _, ok := errors.AsType[*wire.Error](err); !ok {
						t.Fatalf("error %v (%T) is not a *wire.Error", err, err)
					}
					break
				}
				if !json.Valid(chunk) || bytes.ContainsAny(chunk, "\r\n") {
					t.Fatalf("bad chunk %q for %q", chunk, sse)
				}
			}
			s.Close()
		}
	})
}

// asWireError stands for the HTTP stream's mapping of read errors.
func asWireError(err error) error {
	return &wire.Error{Status: 502, Type: wire.TypeUpstream, Message: "stream failed", Internal: err.Error()}
}
