package gemini

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
	"sync/atomic"
	"testing"

	"github.com/llmgateway/gateway/internal/fakegemini"
	"github.com/llmgateway/gateway/providers"
	"github.com/llmgateway/gateway/wire"
)

const testCreated = 1700000000

// TestMain makes ids deterministic for the golden files.
func TestMain(m *testing.M) {
	var n atomic.Int64
	newID = func(prefix string) string { return prefix + "test" + strconv.FormatInt(n.Add(1), 10) }
	os.Exit(m.Run())
}

// stableIDs replaces the generated ids (call_testN, chatcmpl-testN: their
// numbers depend on the order parallel tests run in) by fixed ones.
func stableIDs(b []byte) []byte {
	for _, p := range []string{"call_test", "chatcmpl-test"} {
		for {
			i := bytes.Index(b, []byte(p))
			if i < 0 {
				break
			}
			j := i + len(p)
			for j < len(b) && b[j] >= '0' && b[j] <= '9' {
				j++
			}
			b = append(b[:i:i], append([]byte(p[:len(p)-4]+"ID"), b[j:]...)...)
		}
	}
	return b
}

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
		if !strings.HasSuffix(f, ".out.json") && !strings.HasSuffix(f, ".out") {
			out = append(out, f)
		}
	}
	return out
}

// modelFor is the upstream model a request golden file is translated for:
// g15_* gemini-1.5-pro, g3_* gemini-3-pro-preview, else gemini-2.5-flash.
func modelFor(path string) string {
	switch base := filepath.Base(path); {
	case strings.HasPrefix(base, "g15_"):
		return "gemini-1.5-pro"
	case strings.HasPrefix(base, "g3_"):
		return "gemini-3-pro-preview"
	default:
		return "gemini-2.5-flash"
	}
}

// TestRequestGolden: every testdata/request/X.json translates to
// X.out.json, which the fake Gemini API (validating as Google does)
// accepts.
func TestRequestGolden(t *testing.T) {
	t.Parallel()
	for _, in := range inputs(t, "request", ".json") {
		t.Run(filepath.Base(in), func(t *testing.T) {
			t.Parallel()
			body, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			stream := strings.Contains(in, "stream")
			out, info, werr := translateRequest(body, modelFor(in), stream)
			if werr != nil {
				t.Fatalf("translateRequest: %v", werr)
			}
			if err := fakegemini.Validate(MethodGenerate, modelFor(in), out); err != nil {
				t.Errorf("the fake Gemini API refuses the translation: %v\n%s", err, out)
			}
			got := indent(t, out)
			got = append(got, "// info: "+strconv.Quote("model="+info.model+" includeUsage="+strconv.FormatBool(info.includeUsage))+"\n"...)
			golden(t, strings.TrimSuffix(in, ".json")+".out.json", got)
		})
	}
}

// TestRequestErrorGolden: every testdata/request_error/X.json is refused
// with the error in X.out.
func TestRequestErrorGolden(t *testing.T) {
	t.Parallel()
	for _, in := range inputs(t, "request_error", ".json") {
		t.Run(filepath.Base(in), func(t *testing.T) {
			t.Parallel()
			body, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			out, _, werr := translateRequest(body, modelFor(in), false)
			if werr == nil {
				t.Fatalf("translateRequest accepted it:\n%s", out)
			}
			got := []byte(strconv.Itoa(werr.Status) + " " + werr.Type + " param=" + werr.Param + "\n" + werr.Message + "\n")
			golden(t, strings.TrimSuffix(in, ".json")+".out", got)
		})
	}
}

// TestResponseGolden: every testdata/response/X.json translates to
// X.out.json.
func TestResponseGolden(t *testing.T) {
	t.Parallel()
	for _, in := range inputs(t, "response", ".json") {
		t.Run(filepath.Base(in), func(t *testing.T) {
			t.Parallel()
			body, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			out, why := translateResponse(body, reqInfo{model: "gemini-2.5-flash"}, testCreated)
			if why != "" {
				t.Fatalf("translateResponse: %s", why)
			}
			golden(t, strings.TrimSuffix(in, ".json")+".out.json", stableIDs(indent(t, out)))
		})
	}
}

// translateSSE runs a Gemini event stream (SSE text) through the chat
// stream; the result is one chunk per line, then EOF or the error.
func translateSSE(sse []byte, info reqInfo) []byte {
	up := providers.NewSSEStream(bytes.NewReader(sse), nil, nil)
	s := &chatStream{up: up, st: newStreamState(info, "gemini-test", testCreated)}
	defer s.Close()
	var out []byte
	for range 1000 {
		chunk, err := s.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				out = append(out, "EOF\n"...)
			} else if we, ok := errors.AsType[*wire.Error](err); ok {
				out = append(out, ("error " + strconv.Itoa(we.Status) + " " + we.Type + ": " + we.Message + "\n")...)
			} else {
				out = append(out, ("error " + err.Error() + "\n")...)
			}
			return out
		}
		out = append(out, chunk...)
		out = append(out, '\n')
	}
	return append(out, "too many chunks\n"...)
}

// TestStreamGolden: every testdata/stream/X.sse translates to X.out (with
// include_usage, as the gateway asks when the client wants usage).
func TestStreamGolden(t *testing.T) {
	t.Parallel()
	for _, in := range inputs(t, "stream", ".sse") {
		t.Run(filepath.Base(in), func(t *testing.T) {
			t.Parallel()
			sse, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			got := translateSSE(sse, reqInfo{model: "gemini-2.5-flash", includeUsage: true})
			for _, line := range bytes.Split(got, []byte{'\n'}) {
				if len(line) > 0 && line[0] == '{' && !json.Valid(line) {
					t.Errorf("chunk is not valid JSON: %s", line)
				}
			}
			golden(t, strings.TrimSuffix(in, ".sse")+".out", stableIDs(got))
		})
	}
}

// TestEmbedGolden: embeddings requests and answers.
func TestEmbedGolden(t *testing.T) {
	t.Parallel()
	for _, in := range inputs(t, "embed", ".json") {
		t.Run(filepath.Base(in), func(t *testing.T) {
			t.Parallel()
			body, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			var out []byte
			if strings.HasPrefix(filepath.Base(in), "request") {
				o, info, werr := translateEmbedRequest(body, "gemini-embedding-001")
				if werr != nil {
					t.Fatalf("translateEmbedRequest: %v", werr)
				}
				if err := fakegemini.Validate(MethodEmbed, "gemini-embedding-001", o); err != nil {
					t.Errorf("the fake Gemini API refuses the translation: %v\n%s", err, o)
				}
				out = append(indent(t, o), ("// tokens: " + strconv.FormatInt(info.tokens, 10) + "\n")...)
			} else {
				info := embedInfo{model: "gemini-embedding-001", tokens: 3, base64: strings.Contains(in, "base64")}
				o, why := translateEmbedResponse(body, info)
				if why != "" {
					t.Fatalf("translateEmbedResponse: %s", why)
				}
				out = indent(t, o)
			}
			golden(t, strings.TrimSuffix(in, ".json")+".out.json", out)
		})
	}
}
