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

// TestRequestGolden: testdata/request/<case>.in.json (a Messages request)
// -> <case>.out.json (the chat request and whether it streams, or the
// Anthropic error body for cases named err_*).
func TestRequestGolden(t *testing.T) {
	t.Parallel()
	for _, name := range inputs(t, "request", "json") {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			in, err := os.ReadFile(filepath.Join("testdata", "request", name+".in.json"))
			if err != nil {
				t.Fatal(err)
			}
			chat, stream, werr := RequestToChat(in)
			var got []byte
			switch {
			case strings.HasPrefix(name, "err_"):
				if werr == nil {
					t.Fatalf("no error; chat: %s", chat)
				}
				if werr.Status != 400 {
					t.Errorf("status %d", werr.Status)
				}
				got = indent(t, werr.AnthropicJSON())
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

// TestResponseGolden: testdata/response/<case>.in.json (a chat
// completion) -> <case>.out.json (the Message).
func TestResponseGolden(t *testing.T) {
	t.Parallel()
	for _, name := range inputs(t, "response", "json") {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			in, err := os.ReadFile(filepath.Join("testdata", "response", name+".in.json"))
			if err != nil {
				t.Fatal(err)
			}
			msg, werr := ResponseFromChat(in, "claude-sonnet-4-5")
			var got []byte
			if werr != nil {
				got = indent(t, werr.AnthropicJSON())
			} else {
				got = indent(t, msg)
			}
			golden(t, filepath.Join("response", name+".out.json"), got)
		})
	}
}

// TestStreamGolden: testdata/stream/<case>.in.jsonl (one chunk a line; a
// line "ERROR <status> <message>" makes the source fail there) ->
// <case>.out.jsonl (one event a line, then "EOF" or the error).
func TestStreamGolden(t *testing.T) {
	t.Parallel()
	for _, name := range inputs(t, "stream", "jsonl") {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			in, err := os.ReadFile(filepath.Join("testdata", "stream", name+".in.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			got := runStream(t, StreamFromChat(sourceOf(in), "claude-sonnet-4-5"))
			golden(t, filepath.Join("stream", name+".out.jsonl"), got)
		})
	}
}

// runStream drains s: each event compacted on a line, then the end.
func runStream(t *testing.T, s interface {
	Next() ([]byte, error)
	Ready() bool
	Close()
}) []byte {
	t.Helper()
	defer s.Close()
	var out bytes.Buffer
	for {
		s.Ready()
		ev, err := s.Next()
		if err == io.EOF {
			out.WriteString("EOF\n")
			return out.Bytes()
		}
		if err != nil {
			var we *wire.Error
			if errors.As(err, &we) {
				out.WriteString("ERROR ")
				out.Write(we.AnthropicErrorEvent())
				out.WriteByte('\n')
			} else {
				out.WriteString("ERROR " + err.Error() + "\n")
			}
			return out.Bytes()
		}
		if !bytes.HasPrefix(ev, []byte(`{"type":"`)) {
			t.Errorf("event does not start with its type: %s", ev)
		}
		if err := json.Compact(&out, ev); err != nil {
			t.Fatalf("event not JSON: %v: %s", err, ev)
		}
		out.WriteByte('\n')
	}
}

// source is a chat chunk stream from lines.
type source struct {
	lines  [][]byte
	closed bool
	buf    []byte
}

func sourceOf(in []byte) *source {
	s := &source{}
	for _, l := range bytes.Split(in, []byte("\n")) {
		if l = bytes.TrimSpace(l); len(l) > 0 && !bytes.HasPrefix(l, []byte("//")) {
			s.lines = append(s.lines, l)
		}
	}
	return s
}

func (s *source) Next() ([]byte, error) {
	if len(s.lines) == 0 {
		return nil, io.EOF
	}
	l := s.lines[0]
	s.lines = s.lines[1:]
	if rest, ok := bytes.CutPrefix(l, []byte("ERROR ")); ok {
		s.lines = nil
		status, msg, _ := strings.Cut(string(rest), " ")
		n := 502
		if status == "504" {
			n = 504
		}
		return nil, &wire.Error{Status: n, Type: wire.TypeUpstream, Message: msg, Internal: "not for clients"}
	}
	s.buf = append(s.buf[:0], l...) // valid until the next call, as a real stream
	return s.buf, nil
}

func (s *source) Ready() bool { return len(s.lines)%2 == 0 } // both answers, to exercise Ready
func (s *source) Close()      { s.closed = true }
