package bridge

import (
	"io"
	"testing"

	"github.com/llmgateway/gateway/wire"
)

// scripted is a source whose Ready answers are scripted: waiting[i] true
// means the i-th Next would wait for the upstream.
type scripted struct {
	events  []string
	waiting []bool
	i       int
	err     error
	closed  int
}

func (s *scripted) Next() ([]byte, error) {
	if s.i == len(s.events) {
		if s.err != nil {
			return nil, s.err
		}
		return nil, io.EOF
	}
	s.i++
	return []byte(s.events[s.i-1]), nil
}

func (s *scripted) Ready() bool {
	if s.i < len(s.waiting) {
		return !s.waiting[s.i]
	}
	return true
}

func (s *scripted) Close() { s.closed++ }

const (
	chunkRole = `{"id":"chatcmpl-1","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`
	chunkHi   = `{"id":"chatcmpl-1","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}`
	chunkNone = `{"id":"chatcmpl-1","choices":[{"index":0,"delta":{},"finish_reason":null}]}`
)

func TestStreamSourceErrorPassedThrough(t *testing.T) {
	t.Parallel()
	want := &wire.Error{Status: 504, Type: wire.TypeTimeout, Message: "slow", Internal: "x"}
	src := &scripted{events: []string{chunkRole, chunkHi}, err: want}
	s := StreamFromChat(src, "m")
	var n int
	for {
		_, err := s.Next()
		if err == nil {
			n++
			continue
		}
		if err != want {
			t.Fatalf("error %v, want the source's own", err)
		}
		break
	}
	if n != 3 { // message_start, content_block_start, the text delta
		t.Errorf("%d events before the error", n)
	}
	if _, err := s.Next(); err != want {
		t.Errorf("the error is not sticky: %v", err)
	}
	s.Close()
	s.Close()
	if src.closed != 2 {
		t.Errorf("Close not delegated: %d", src.closed)
	}
}

// Ready is true only when Next will not wait: a chunk that makes no event
// is translated by Ready itself, so that Next does not then wait.
func TestStreamReady(t *testing.T) {
	t.Parallel()
	src := &scripted{
		events:  []string{chunkRole, chunkNone, chunkHi},
		waiting: []bool{true, false, true, false},
	}
	s := StreamFromChat(src, "m")
	if s.Ready() {
		t.Fatal("Ready before the first chunk arrived")
	}
	if ev, err := s.Next(); err != nil || wire.Lookup(ev, "type").String() != "message_start" {
		t.Fatalf("%s %v", ev, err)
	}
	// chunkNone is here (Ready) but makes no event; chunkHi is not here.
	if s.Ready() {
		t.Fatal("Ready although the next event needs a chunk not yet received")
	}
	if src.i != 2 {
		t.Fatalf("Ready did not take the chunk that was there: %d", src.i)
	}
	for _, want := range []string{"content_block_start", "content_block_delta"} {
		ev, err := s.Next()
		if err != nil || wire.Lookup(ev, "type").String() != want {
			t.Fatalf("%s %v, want %s", ev, err, want)
		}
	}
	if !s.Ready() { // the end is here
		t.Fatal("not Ready at the end")
	}
	for _, want := range []string{"content_block_stop", "message_delta", "message_stop"} {
		if !s.Ready() {
			t.Fatalf("not Ready before queued %s", want)
		}
		ev, err := s.Next()
		if err != nil || wire.Lookup(ev, "type").String() != want {
			t.Fatalf("%s %v, want %s", ev, err, want)
		}
	}
	if _, err := s.Next(); err != io.EOF {
		t.Fatalf("%v, want EOF", err)
	}
	if _, err := s.Next(); err != io.EOF {
		t.Fatalf("%v, want EOF again", err)
	}
}

func TestRequestOptions(t *testing.T) {
	t.Parallel()
	body := []byte(`{"model":"claude-sonnet-4-5","max_tokens":32000,"thinking":{"type":"enabled","budget_tokens":31999},"messages":[{"role":"user","content":"Hi"}]}`)
	chat, _, werr := RequestToChatWith(body, Options{MaxOutputTokens: 16384, NoReasoning: true})
	if werr != nil {
		t.Fatal(werr)
	}
	if wire.Lookup(chat, "max_tokens").Int() != 16384 || wire.Lookup(chat, "reasoning_effort").Exists() || wire.Lookup(chat, "max_completion_tokens").Exists() {
		t.Errorf("%s", chat)
	}
	chat, _, _ = RequestToChatWith(body, Options{MaxOutputTokens: 64000})
	if wire.Lookup(chat, "max_completion_tokens").Int() != 32000 || wire.Lookup(chat, "reasoning_effort").String() != "high" {
		t.Errorf("%s", chat)
	}
	// validation still applies to what the client sent
	if _, _, werr := RequestToChatWith([]byte(`{"model":"m","max_tokens":2000,"thinking":{"type":"enabled","budget_tokens":3000},"messages":[{"role":"user","content":"Hi"}]}`), Options{NoReasoning: true}); werr == nil {
		t.Error("budget above max_tokens accepted")
	}
}
