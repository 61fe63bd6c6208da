package providers_test

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/llmgateway/gateway/gateway/providers"
)

func TestSSEParsing(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
		wantErr  error // after the events
	}{
		{"lf", "data: a\n\ndata: b\n\ndata: [DONE]\n\n", []string{"a", "b"}, io.EOF},
		{"crlf", "data: a\r\n\r\ndata: [DONE]\r\n\r\n", []string{"a"}, io.EOF},
		{"multi-line data", "data: a\ndata:b\n\n", []string{"a\nb"}, io.EOF},
		{"comments and fields", ": ping\n\nevent: x\nid: 1\nretry: 5\ndata: a\n\n:\n\n", []string{"a"}, io.EOF},
		{"no space after colon", "data:{\"x\":1}\n\n", []string{`{"x":1}`}, io.EOF},
		{"clean end without [DONE]", "data: a\n\n", []string{"a"}, io.EOF},
		{"last event without blank line", "data: a\n\ndata: b", []string{"a", "b"}, io.EOF},
		{"nothing after [DONE] is read", "data: [DONE]\n\ndata: x\n\n", nil, io.EOF},
		{"empty data", "data:\n\n", []string{""}, io.EOF},
		{"long line", "data: " + strings.Repeat("x", 100_000) + "\n\n", []string{strings.Repeat("x", 100_000)}, io.EOF},
		{"read error", "data: a\n\ndata: b", []string{"a"}, iotest.ErrTimeout},
	}
	for _, tt := range tests {
		for _, oneByte := range []bool{false, true} {
			var r io.Reader = strings.NewReader(tt.in)
			if tt.wantErr != io.EOF {
				r = io.MultiReader(r, errReader{tt.wantErr})
			}
			if oneByte {
				r = iotest.OneByteReader(r)
			}
			s := providers.NewSSEStream(r, nil, nil)
			var got []string
			var err error
			for {
				var ev []byte
				if ev, err = s.Next(); err != nil {
					break
				}
				got = append(got, string(ev))
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") || !errors.Is(err, tt.wantErr) {
				t.Errorf("%s (one byte %v): got %q, %v; want %q, %v", tt.name, oneByte, got, err, tt.want, tt.wantErr)
			}
			s.Close()
		}
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// TestSSEReady: Ready is true only when the next event with data is
// already read from the body, so a caller that batches on it never waits
// for the upstream with events in hand.
func TestSSEReady(t *testing.T) {
	// gate hands out the parts one Read at a time.
	parts := []string{
		"data: a\n\ndata: b\n\n", // two events in one read
		": ping\n\n",             // a keep-alive: no event
		"data: c\n",              // an event without its blank line yet
		"\ndata: [DONE]\n\n",
	}
	r := &partsReader{parts: parts}
	s := providers.NewSSEStream(r, nil, nil)
	step := func(want string, ready bool) {
		t.Helper()
		ev, err := s.Next()
		if got := string(ev); got != want || err != nil {
			t.Fatalf("Next = %q, %v; want %q", got, err, want)
		}
		if s.Ready() != ready {
			t.Fatalf("after %q: Ready = %v, want %v", want, !ready, ready)
		}
	}
	if s.Ready() {
		t.Fatal("Ready before anything was read")
	}
	step("a", true)  // b is buffered
	step("b", false) // nothing buffered
	step("c", true)  // the ping was skipped; c's blank line came in with [DONE]
	if _, err := s.Next(); err != io.EOF {
		t.Fatalf("after [DONE]: %v", err)
	}
	if !s.Ready() {
		t.Error("Ready after the end: Next returns at once")
	}
}

type partsReader struct{ parts []string }

func (r *partsReader) Read(p []byte) (int, error) {
	if len(r.parts) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.parts[0])
	r.parts[0] = r.parts[0][n:]
	if r.parts[0] == "" {
		r.parts = r.parts[1:]
	}
	return n, nil
}
