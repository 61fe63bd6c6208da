package providers_test

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/llmgateway/gateway/providers"
)

func TestSSEParsing(t *testing.T) {
	const a, b = `{"v":"a"}`, `{"v":"b"}`
	long := `{"v":"` + strings.Repeat("x", 100_000) + `"}`
	tests := []struct {
		name, in string
		want     []string
		wantErr  error // after the events
		notJSON  bool  // the error is an event that is not a JSON object
	}{
		{"lf", "data: " + a + "\n\ndata: " + b + "\n\ndata: [DONE]\n\n", []string{a, b}, io.EOF, false},
		{"crlf", "data: " + a + "\r\n\r\ndata: [DONE]\r\n\r\n", []string{a}, io.EOF, false},
		{"multi-line data", "data: {\"v\":\ndata:\"a\"}\n\n", []string{"{\"v\":\n\"a\"}"}, io.EOF, false},
		{"comments and fields", ": ping\n\nevent: x\nid: 1\nretry: 5\ndata: " + a + "\n\n:\n\n", []string{a}, io.EOF, false},
		{"no space after colon", "data:{\"x\":1}\n\n", []string{`{"x":1}`}, io.EOF, false},
		{"clean end without [DONE]", "data: " + a + "\n\n", []string{a}, io.EOF, false},
		{"last event without blank line", "data: " + a + "\n\ndata: " + b, []string{a, b}, io.EOF, false},
		{"nothing after [DONE] is read", "data: [DONE]\n\ndata: x\n\n", nil, io.EOF, false},
		{"long line", "data: " + long + "\n\n", []string{long}, io.EOF, false},
		{"read error", "data: " + a + "\n\ndata: " + b, []string{a}, iotest.ErrTimeout, false},
		// Anything but a JSON object (or [DONE]) ends the stream with an error.
		{"empty data", "data:\n\n", nil, nil, true},
		{"garbage", "data: " + a + "\n\ndata: <html>oops</html>\n\ndata: " + b + "\n\n", []string{a}, nil, true},
		{"truncated JSON", "data: {\"v\":\"a\n\n", nil, nil, true},
		{"a JSON string", "data: \"a\"\n\n", nil, nil, true},
	}
	for _, tt := range tests {
		for _, oneByte := range []bool{false, true} {
			var r io.Reader = strings.NewReader(tt.in)
			if tt.wantErr != io.EOF && tt.wantErr != nil {
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
			errOK := errors.Is(err, tt.wantErr)
			if tt.notJSON {
				errOK = err != nil && strings.Contains(err.Error(), "not a JSON object")
				if _, again := s.Next(); again != err {
					t.Errorf("%s: the error is not sticky: %v", tt.name, again)
				}
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") || !errOK {
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
		"data: {}\n\ndata: [1]\n\n", // two events in one read
		": ping\n\n",                // a keep-alive: no event
		"data: {\"c\":3}\n",         // an event without its blank line yet
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
	step("{}", true) // the second event is buffered
	if _, err := s.Next(); err == nil || !strings.Contains(err.Error(), "not a JSON object") {
		t.Fatalf("an array event: %v, want the stream to end", err)
	}
	if !s.Ready() {
		t.Fatal("Ready after the error: Next returns at once")
	}
	r = &partsReader{parts: parts[1:]}
	s = providers.NewSSEStream(r, nil, nil)
	step(`{"c":3}`, true) // the ping was skipped; c's blank line came in with [DONE]
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

// FuzzSSEStream: whatever the upstream sends, the parser never panics,
// every event it hands out is one JSON object, and the stream ends with
// io.EOF or an error.
func FuzzSSEStream(f *testing.F) {
	for _, s := range []string{
		"data: {\"a\":1}\n\ndata: [DONE]\n\n",
		"data: {\"a\":\ndata: 1}\r\n\r\n",
		": ping\n\nevent: x\ndata: {}\n\n",
		"data: <html>\n\n",
		"data: {\"error\":{\"message\":\"sk-test-0123456789abcdef\"}}\n\n",
		"data:\n\ndata: [DONE]",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		s := providers.NewSSEStream(strings.NewReader(string(in)), nil, nil)
		defer s.Close()
		for i := 0; ; i++ {
			ev, err := s.Next()
			if err != nil {
				if _, again := s.Next(); again != err {
					t.Fatalf("the end is not sticky: %v then %v", err, again)
				}
				return
			}
			if !json.Valid(ev) || !strings.HasPrefix(strings.TrimLeft(string(ev), " \t\r\n"), "{") {
				t.Fatalf("event %d is not a JSON object: %q", i, ev)
			}
			if i > len(in) {
				t.Fatal("more events than bytes")
			}
		}
	})
}

// BenchmarkSSENext is the parser's cost per event on typical chat
// completion chunks (the check that each is a JSON object included).
func BenchmarkSSENext(b *testing.B) {
	var in strings.Builder
	for range 100 {
		in.WriteString(`data: {"id":"chatcmpl-fake","object":"chat.completion.chunk","created":1700000000,"model":"gpt-fake","choices":[{"index":0,"delta":{"content":" from the fake upstream."},"finish_reason":null}]}` + "\n\n")
	}
	in.WriteString("data: [DONE]\n\n")
	body := in.String()
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		s := providers.NewSSEStream(strings.NewReader(body), nil, nil)
		for {
			if _, err := s.Next(); err != nil {
				break
			}
		}
		s.Close()
	}
}
