package bridge

import (
	"bytes"
	"encoding/json"
	"errors"
	"github.com/llmgateway/gateway/internal/goldenfile"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/llmgateway/gateway/wire"
)

// golden compares got with testdata/<name>, or writes it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", name), got)
}

func indent(t *testing.T, b []byte) []byte { t.Helper(); return goldenfile.Indent(t, b) }

// inputs lists testdata/<dir>/*.in.<ext> by case name.
func inputs(t *testing.T, dir, ext string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*.in."+ext))
	if err != nil || len(files) == 0 {
		t.Fatalf("no inputs in testdata/%s: %v", dir, err)
	}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = strings.TrimSuffix(filepath.Base(f), ".in."+ext)
	}
	return names
}

func read(t *testing.T, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{"testdata"}, parts...)...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRequestGolden: testdata/request/<case>.in.json (a Responses
// request) -> <case>.out.json (the chat request, or the error body for
// cases named err_*).
func TestRequestGolden(t *testing.T) {
	t.Parallel()
	for _, name := range inputs(t, "request", "json") {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			chat, stream, werr := RequestToChat(read(t, "request", name+".in.json"), Options{})
			var got []byte
			switch {
			case strings.HasPrefix(name, "err_"):
				if werr == nil {
					t.Fatalf("no error; chat: %s", chat)
				}
				if werr.Status != 400 || werr.Type != wire.TypeInvalidRequest || werr.Param == "" {
					t.Errorf("status %d type %q param %q", werr.Status, werr.Type, werr.Param)
				}
				got = indent(t, werr.JSON())
			case werr != nil:
				t.Fatalf("error: %v", werr)
			default:
				got = indent(t, chat)
				if stream {
					got = append([]byte("// stream\n"), got...)
				}
			}
			golden(t, filepath.Join("request", name+".out.json"), got)
		})
	}
}

// echoReq is the request the response and stream cases answer.
const echoReq = `{"model":"claude-sonnet-4-5","input":"hi","instructions":"Be brief.","max_output_tokens":256,` +
	`"tools":[{"type":"function","name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}},"strict":true}` +
	`,{"type":"namespace","name":"agents","description":"d","tools":[{"type":"function","name":"close_agent","parameters":{"type":"object"}}]}],"metadata":{"k":"v"},"reasoning":{"effort":"low"}}`

// TestResponseGolden: testdata/response/<case>.in.json (a chat
// completion) -> <case>.out.json (the Responses object).
func TestResponseGolden(t *testing.T) {
	t.Parallel()
	for _, name := range inputs(t, "response", "json") {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			out, werr := ResponseFromChat(read(t, "response", name+".in.json"), EchoOf([]byte(echoReq), "my-model"))
			if werr != nil {
				t.Fatal(werr)
			}
			golden(t, filepath.Join("response", name+".out.json"), indent(t, out))
		})
	}
}

// sliceStream is a chat stream of canned chunks, then err (io.EOF when
// nil).
type sliceStream struct {
	chunks [][]byte
	err    error
}

func (s *sliceStream) Next() ([]byte, error) {
	if len(s.chunks) == 0 {
		if s.err != nil {
			return nil, s.err
		}
		return nil, io.EOF
	}
	c := s.chunks[0]
	s.chunks = s.chunks[1:]
	return c, nil
}
func (s *sliceStream) Ready() bool { return len(s.chunks) > 0 }
func (s *sliceStream) Close()      {}

func chunks(b []byte) [][]byte {
	var out [][]byte
	for _, l := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(l)) > 0 {
			out = append(out, l)
		}
	}
	return out
}

// drain reads a translated stream to its end: the events, one per line,
// and the final error (nil at io.EOF).
func drain(t testing.TB, s interface{ Next() ([]byte, error) }) ([]byte, error) {
	var out []byte
	for {
		ev, err := s.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		if t != nil && !json.Valid(ev) {
			t.Fatalf("event is not JSON: %s", ev)
		}
		out = append(append(out, ev...), '\n')
	}
}

// TestStreamGolden: testdata/stream/<case>.in.sse (chat chunks, one a
// line) -> <case>.out.sse (the Responses events, one a line, and the
// stream's error).
func TestStreamGolden(t *testing.T) {
	t.Parallel()
	for _, name := range inputs(t, "stream", "sse") {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			src := &sliceStream{chunks: chunks(read(t, "stream", name+".in.sse"))}
			if name == "err_upstream" {
				src.err = &wire.Error{Status: 502, Type: wire.TypeUpstream, Message: "connection reset"}
			}
			got, err := drain(t, StreamFromChat(src, EchoOf([]byte(echoReq), "my-model")))
			if err != nil {
				var we *wire.Error
				if !errors.As(err, &we) {
					t.Fatalf("error %T %v", err, err)
				}
				got = append(append(got, "// error: "...), we.JSON()...)
				got = append(got, '\n')
			}
			checkEvents(t, got)
			golden(t, filepath.Join("stream", name+".out.sse"), got)
		})
	}
}

// checkEvents checks that every event has a type and the next sequence
// number.
func checkEvents(t *testing.T, events []byte) {
	t.Helper()
	seq := int64(0)
	for _, l := range bytes.Split(events, []byte("\n")) {
		if len(l) == 0 || bytes.HasPrefix(l, []byte("//")) {
			continue
		}
		r := gjson.ParseBytes(l)
		if !strings.HasPrefix(r.Get("type").Str, "response.") || r.Get("sequence_number").Int() != seq {
			t.Errorf("event %d: %s", seq, l)
		}
		seq++
	}
}
