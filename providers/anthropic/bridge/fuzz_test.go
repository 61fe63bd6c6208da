package bridge

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/llmgateway/gateway/wire"
)

func seeds(f *testing.F, pattern string) [][]byte {
	files, _ := filepath.Glob(pattern)
	var out [][]byte
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func FuzzRequestToChat(f *testing.F) {
	for _, s := range seeds(f, "testdata/request/*.in.json") {
		f.Add(s)
	}
	f.Add([]byte(`{"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"x","content":[{"type":"image","source":{"type":"url","url":"u"}}]}]}]}`))
	f.Add([]byte(`{"model":"m","max_tokens":1,"messages":[{"role":"assistant","content":[]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		chat, _, werr := RequestToChat(body)
		if werr != nil {
			if werr.Status != 400 || werr.Message == "" || chat != nil {
				t.Fatalf("bad error %+v", werr)
			}
			return
		}
		if !json.Valid(chat) || !gjson.ParseBytes(chat).IsObject() {
			t.Fatalf("not a JSON object: %s\nfrom %s", chat, body)
		}
		if !gjson.GetBytes(chat, "messages").IsArray() {
			t.Fatalf("no messages: %s", chat)
		}
	})
}

func FuzzResponseFromChat(f *testing.F) {
	for _, s := range seeds(f, "testdata/response/*.in.json") {
		f.Add(s, "claude-sonnet-4-5")
	}
	f.Add([]byte(`{"choices":[{"message":{"tool_calls":[{"function":{"arguments":{"a":1}}}]}}]}`), "m\"\x00")
	f.Fuzz(func(t *testing.T, chat []byte, model string) {
		msg, werr := ResponseFromChat(chat, model)
		if werr != nil {
			if werr.Status != 502 || msg != nil {
				t.Fatalf("bad error %+v", werr)
			}
			return
		}
		if !json.Valid(msg) {
			t.Fatalf("not JSON: %s\nfrom %s", msg, chat)
		}
		if gjson.GetBytes(msg, "type").String() != "message" || !gjson.GetBytes(msg, "content").IsArray() {
			t.Fatalf("not a message: %s", msg)
		}
	})
}

func FuzzStreamFromChat(f *testing.F) {
	for _, s := range seeds(f, "testdata/stream/*.in.jsonl") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		src := &rawSource{lines: bytes.Split(in, []byte("\n"))}
		s := StreamFromChat(src, "m")
		defer s.Close()
		started, stopped := false, false
		for n := 0; ; n++ {
			if n > 10*len(src.all())+10 {
				t.Fatal("too many events")
			}
			s.Ready()
			ev, err := s.Next()
			if err == io.EOF {
				if !started || !stopped {
					t.Fatalf("ended without message_start and message_stop")
				}
				return
			}
			if err != nil {
				var we *wire.Error
				if !errors.As(err, &we) {
					t.Fatalf("error %T %v", err, err)
				}
				return
			}
			if !json.Valid(ev) {
				t.Fatalf("event not JSON: %s\nfrom %q", ev, in)
			}
			switch gjson.GetBytes(ev, "type").String() {
			case "message_start":
				started = true
			case "message_stop":
				stopped = true
			case "content_block_start", "content_block_delta", "content_block_stop", "message_delta":
			default:
				t.Fatalf("event without a known type: %s", ev)
			}
		}
	})
}

// rawSource hands out each line as an event, whatever it is.
type rawSource struct {
	lines [][]byte
	i     int
}

func (r *rawSource) all() [][]byte { return r.lines }
func (r *rawSource) Next() ([]byte, error) {
	if r.i == len(r.lines) {
		return nil, io.EOF
	}
	r.i++
	l := r.lines[r.i-1]
	if !gjson.ValidBytes(l) || !gjson.Parse(wire.View(l)).IsObject() {
		// what the providers' SSE parser does with such an event
		r.i = len(r.lines)
		return nil, &wire.Error{Status: 502, Type: wire.TypeUpstream, Message: "not a JSON object"}
	}
	return l, nil
}
func (r *rawSource) Ready() bool { return r.i%3 != 0 }
func (r *rawSource) Close()      {}
